// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// The fake Discord over real HTTP: every rule of the simulated Discord, keep-alive, concurrency,
// errors and a clean stop. Windows are long (60 s and more) so no result depends on timing; nothing
// sleeps.

#include "fake_discord_server.hpp"
#include "http_client.hpp"

#include <discord_ratelimit/beast_headers.hpp>
#include <discord_ratelimit/response.hpp>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/system_error.hpp>

#include "catch.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
namespace fd = fake_discord;

namespace {

constexpr std::string_view messages_1 = "/api/v10/channels/1/messages";

std::string field(const fd::http_response& res, std::string_view name)
{
    const auto it = res.find(boost::beast::string_view{name.data(), name.size()});
    if (it == res.end())
        return "";
    return std::string{it->value().data(), it->value().size()};
}

bool has_field(const fd::http_response& res, std::string_view name)
{
    return res.find(boost::beast::string_view{name.data(), name.size()}) != res.end();
}

/// Decimal seconds ("1800000000.250") as milliseconds.
std::int64_t milliseconds_of(const std::string& decimal)
{
    const auto dot = decimal.find('.');
    REQUIRE(dot != std::string::npos);
    std::int64_t whole = 0;
    std::int64_t fraction = 0;
    std::from_chars(decimal.data(), decimal.data() + dot, whole);
    std::from_chars(decimal.data() + dot + 1, decimal.data() + decimal.size(), fraction);
    return whole * 1000 + fraction;
}

/// Rules where nothing resets during a test: 60-second windows, a generous global limit.
fd::rules long_rules()
{
    fd::rules r;
    r.global_limit = 1000;
    r.global_window = 60s;
    r.routes["POST /channels/{channel_id}/messages"] = {"messages", 5, 60s};
    r.routes["PATCH /channels/{channel_id}/messages/{id}"] = {"modify", 3, 60s};
    r.routes["DELETE /channels/{channel_id}/messages/{id}"] = {"modify", 3, 60s};
    r.routes["PATCH /channels/{channel_id}"] = {"channel", 10, 60s};
    r.default_rule = {"", 100, 60s};
    return r;
}

fd::options long_options()
{
    fd::options o;
    o.discord = long_rules();
    return o;
}

drl::outcome outcome_of(const fd::http_response& res)
{
    return drl::classify(drl::response::parse(static_cast<int>(res.result_int()), res, res.body()));
}

} // namespace

TEST_CASE("the fake Discord listens on loopback and answers with rate-limit headers and Via",
          "[fake_discord]")
{
    fd::server server{long_options()};
    REQUIRE(server.port() != 0);
    CHECK(server.base_url() == "http://127.0.0.1:" + std::to_string(server.port()) + "/api");
    fd::http_client client{server.port()};

    const auto res =
        client.request("POST", messages_1, "token-a", R"({"content": "hello \"you\""})");
    CHECK(res.result_int() == 200);
    CHECK(field(res, "via") == "1.1 google");
    CHECK(field(res, "content-type") == "application/json");
    CHECK(field(res, "x-ratelimit-limit") == "5");
    CHECK(field(res, "x-ratelimit-remaining") == "4");
    CHECK(field(res, "x-ratelimit-reset-after") == "60.000"); // the window opened with it
    CHECK(field(res, "x-ratelimit-bucket") == "messages");
    CHECK(has_field(res, "x-ratelimit-reset"));
    CHECK_FALSE(has_field(res, "x-ratelimit-scope"));
    CHECK(res.body().find(R"("content": "hello \"you\"")") != std::string::npos);
    CHECK(res.body().find(R"("channel_id": "1")") != std::string::npos);
    CHECK(res.body().starts_with(R"({"id": ")"));
    // The library reads the answer as Discord's.
    const auto parsed = drl::parse_rate_limit_headers(res);
    CHECK(parsed.via);
    CHECK(parsed.limit == 5u);
    CHECK(parsed.remaining == 4u);
    CHECK((parsed.bucket && parsed.bucket->view() == "messages"));

    // API v9 too.
    const auto v9 = client.request("GET", "/api/v9/channels/1?with_counts=true", "token-a");
    CHECK(v9.result_int() == 200);
    CHECK(v9.body().find(R"("id": "1")") != std::string::npos);
}

TEST_CASE("the fake Discord answers 429 once a bucket is spent", "[fake_discord]")
{
    fd::server server{long_options()};
    fd::http_client client{server.port()};
    for (int i = 0; i < 5; ++i)
        REQUIRE(client.request("POST", messages_1, "t", R"({"content": "x"})").result_int() == 200);
    const auto res = client.request("POST", messages_1, "t", R"({"content": "x"})");
    CHECK(res.result_int() == 429);
    CHECK(field(res, "x-ratelimit-scope") == "user");
    CHECK(field(res, "x-ratelimit-remaining") == "0");
    CHECK(field(res, "via") == "1.1 google");
    CHECK(field(res, "content-type") == "application/json");
    const std::string retry_after = field(res, "retry-after");
    const int seconds = std::stoi(retry_after);
    CHECK(seconds >= 1);
    CHECK(seconds <= 60);
    CHECK(res.body().starts_with(R"({"message": "You are being rate limited.", "retry_after": )"));
    CHECK(outcome_of(res) == drl::outcome::user_429);
    // Another channel is another bucket.
    CHECK(client.request("POST", "/api/v10/channels/2/messages", "t", R"({"content": "x"})")
              .result_int() == 200);

    const auto seen = server.counters();
    CHECK(seen.requests == 7);
    CHECK(seen.ok == 6);
    CHECK(seen.user_429 == 1);
    CHECK(seen.rate_limited() == 1);
}

TEST_CASE("the fake Discord keeps connections alive", "[fake_discord]")
{
    fd::server server{long_options()};
    fd::http_client client{server.port()};
    for (int i = 0; i < 8; ++i) {
        const auto res = client.request("GET", "/api/v10/channels/5", "t");
        CHECK(res.result_int() == 200);
        CHECK(res.keep_alive());
    }
    CHECK(client.connections() == 1);
    CHECK(server.connections_accepted() == 1);
}

TEST_CASE("the fake Discord serves many connections at once", "[fake_discord]")
{
    fd::server server{long_options()};
    constexpr int clients = 24;
    std::deque<fd::http_client> open; // not movable: a deque builds them in place
    for (int i = 0; i < clients; ++i)
        open.emplace_back(server.port());
    // Every connection is open before any is used again: they are served side by side.
    for (int round = 0; round < 3; ++round)
        for (int i = 0; i < clients; ++i)
            CHECK(open[static_cast<std::size_t>(i)]
                      .request("GET", "/api/v10/channels/" + std::to_string(i + 1), "t")
                      .result_int() == 200);
    CHECK(server.connections_accepted() == clients);
    CHECK(server.counters().ok == 3 * clients);
}

TEST_CASE("the fake Discord serves threads in parallel", "[fake_discord]")
{
    fd::server server{long_options()};
    constexpr int threads = 8;
    constexpr int per_thread = 25;
    std::vector<int> ok(threads, 0);
    {
        std::vector<std::jthread> workers;
        for (int w = 0; w < threads; ++w)
            workers.emplace_back([&, w] {
                fd::http_client client{server.port()};
                const std::string path = "/api/v10/channels/" + std::to_string(100 + w) + "/pins";
                for (int i = 0; i < per_thread; ++i)
                    if (client.request("GET", path, "token-" + std::to_string(w)).result_int() ==
                        200)
                        ++ok[static_cast<std::size_t>(w)];
            });
        // Observation from this thread while they run.
        for (int i = 0; i < 20; ++i) {
            static_cast<void>(server.counters());
            static_cast<void>(server.request_log());
        }
    }
    for (int w = 0; w < threads; ++w)
        CHECK(ok[static_cast<std::size_t>(w)] == per_thread);
    CHECK(server.counters().ok == threads * per_thread);
    CHECK(server.connections_accepted() == threads);
    CHECK(server.request_log().size() == threads * per_thread);
}

TEST_CASE("routes sharing a hash share the fake Discord's limit", "[fake_discord]")
{
    fd::server server{long_options()};
    fd::http_client client{server.port()};
    const auto edit =
        client.request("PATCH", "/api/v10/channels/1/messages/20", "t", R"({"content": "edited"})");
    CHECK(edit.result_int() == 200);
    CHECK(edit.body().find(R"("id": "20")") != std::string::npos);
    CHECK(field(edit, "x-ratelimit-remaining") == "2");
    const auto removed = client.request("DELETE", "/api/v10/channels/1/messages/21", "t");
    CHECK(removed.result_int() == 204);
    CHECK(removed.body().empty());
    CHECK_FALSE(has_field(removed, "content-length"));
    CHECK(field(removed, "x-ratelimit-bucket") == "modify");
    CHECK(field(removed, "x-ratelimit-remaining") == "1");
    CHECK(client.request("PATCH", "/api/v10/channels/1/messages/22", "t", R"({"content": "e"})")
              .result_int() == 200);
    const auto spent = client.request("DELETE", "/api/v10/channels/1/messages/23", "t");
    CHECK(spent.result_int() == 429);
    CHECK(field(spent, "x-ratelimit-bucket") == "modify");
    CHECK(client.connections() == 1); // a 204 keeps the connection usable
}

TEST_CASE("the realistic rules share hashes as Discord does", "[fake_discord]")
{
    fd::server server; // realistic_rules(); statuses depend on timing here, headers do not
    fd::http_client client{server.port()};
    const std::string reaction = "/api/v10/channels/1/messages/2/reactions/%F0%9F%91%8D/@me";
    const auto put = client.request("PUT", reaction, "t");
    const auto del = client.request("DELETE", reaction, "t");
    CHECK(field(put, "x-ratelimit-bucket") == fd::hashes::reactions);
    CHECK(field(del, "x-ratelimit-bucket") == fd::hashes::reactions);
    CHECK(field(put, "x-ratelimit-limit") == "1");
    CHECK(put.result_int() == 204);
    const auto edit =
        client.request("PATCH", "/api/v10/channels/1/messages/3", "t", R"({"content": "e"})");
    const auto removed = client.request("DELETE", "/api/v10/channels/1/messages/3", "t");
    CHECK(field(edit, "x-ratelimit-bucket") == fd::hashes::modify_message);
    CHECK(field(removed, "x-ratelimit-bucket") == fd::hashes::modify_message);
    const auto post = client.request("POST", messages_1, "t", R"({"content": "x"})");
    CHECK(field(post, "x-ratelimit-bucket") == fd::hashes::create_message);
    CHECK(field(post, "x-ratelimit-limit") == "5");
    const auto callback =
        client.request("POST", "/api/v10/interactions/5/aW50ZXJhY3Rpb246abc/callback", {},
                       R"({"type": 4, "data": {"content": "hi"}})");
    CHECK(callback.result_int() == 204);
    CHECK(field(callback, "x-ratelimit-bucket") == fd::hashes::interaction_callback);
    CHECK(server.counters().exempt == 1);
}

TEST_CASE("the fake Discord's global limit is per token, interaction callbacks exempt",
          "[fake_discord]")
{
    auto options = long_options();
    options.discord.global_limit = 3;
    fd::server server{options};
    fd::http_client client{server.port()};
    const std::string callback = "/api/v10/interactions/9/aW50ZXJhY3Rpb246tok/callback";

    for (int i = 0; i < 3; ++i)
        REQUIRE(client.request("GET", "/api/v10/channels/1", "token-a").result_int() == 200);
    const auto global = client.request("GET", "/api/v10/channels/2", "token-a");
    CHECK(global.result_int() == 429);
    CHECK(field(global, "x-ratelimit-global") == "true");
    CHECK(field(global, "x-ratelimit-scope") == "global");
    CHECK(field(global, "via") == "1.1 google");
    CHECK_FALSE(has_field(global, "x-ratelimit-remaining"));
    CHECK(
        global.body().starts_with(R"({"global": true, "message": "You are being rate limited.")"));
    CHECK(outcome_of(global) == drl::outcome::global_429);

    // Another token has a window of its own.
    for (int i = 0; i < 3; ++i)
        CHECK(client.request("GET", "/api/v10/channels/1", "token-b").result_int() == 200);
    CHECK(client.request("GET", "/api/v10/channels/1", "token-b").result_int() == 429);

    // Interaction callbacks are not bound by it (with or without a bot token).
    for (int i = 0; i < 5; ++i) {
        CHECK(client.request("POST", callback, "token-a", R"({"type": 5})").result_int() == 204);
        CHECK(client.request("POST", callback, {}, R"({"type": 5})").result_int() == 204);
    }
    CHECK(client
              .request("POST", "/api/v10/webhooks/77/aW50ZXJhY3Rpb246tok?wait=true", {},
                       R"({"content": "follow-up"})")
              .result_int() == 200);

    const auto seen = server.counters();
    CHECK(seen.global_429 == 2);
    CHECK(seen.exempt == 11);
    CHECK(seen.requests == 19);
}

TEST_CASE("the fake Discord enforces the channel name/topic edit sub-limit", "[fake_discord]")
{
    fd::server server{long_options()};
    fd::http_client client{server.port()};
    const std::string channel = "/api/v10/channels/42";
    const auto first = client.request("PATCH", channel, "t", R"({"name": "one"})");
    CHECK(first.result_int() == 200);
    CHECK(first.body().find(R"("name": "one")") != std::string::npos);
    CHECK(client.request("PATCH", channel, "t", R"({"topic": "two"})").result_int() == 200);
    const auto third = client.request("PATCH", channel, "t", R"({"name": "three"})");
    CHECK(third.result_int() == 429);
    CHECK(field(third, "x-ratelimit-scope") == "user");
    CHECK(field(third, "x-ratelimit-remaining") == "8"); // > 0: a hidden sub-limit
    CHECK(field(third, "x-ratelimit-bucket") == "channel");
    CHECK(field(third, "via") == "1.1 google");
    const int retry_after = std::stoi(field(third, "retry-after"));
    CHECK(retry_after > 500);
    CHECK(retry_after <= 600);
    CHECK(outcome_of(third) == drl::outcome::sublimit_429);
    // Other edits of the channel go on.
    const auto other = client.request("PATCH", channel, "t", R"({"nsfw": true})");
    CHECK(other.result_int() == 200);
    CHECK(field(other, "x-ratelimit-remaining") == "7");
    CHECK(client.request("PATCH", "/api/v10/channels/43", "t", R"({"name": "x"})").result_int() ==
          200);
    const auto seen = server.counters();
    CHECK(seen.sub_limit_429 == 1);
    CHECK(seen.user_429 == 0);
}

TEST_CASE("the fake Discord answers shared-scope 429s when told to", "[fake_discord]")
{
    fd::server server{long_options()};
    fd::http_client client{server.port()};
    server.add_shared_limit({"POST /channels/{channel_id}/messages", 2, 30s});
    const auto first = client.request("POST", messages_1, "t", R"({"content": "x"})");
    CHECK(first.result_int() == 200);
    CHECK(field(first, "x-ratelimit-remaining") == "4");
    const auto shared = client.request("POST", messages_1, "t", R"({"content": "x"})");
    CHECK(shared.result_int() == 429);
    CHECK(field(shared, "x-ratelimit-scope") == "shared");
    CHECK(field(shared, "x-ratelimit-remaining") == "4"); // not consumed
    CHECK(field(shared, "retry-after") == "30");
    CHECK(field(shared, "via") == "1.1 google");
    CHECK(shared.body() == R"({"message": "The resource is being rate limited.", )"
                           R"("retry_after": 30.000, "global": false, "code": 40062})");
    CHECK(outcome_of(shared) == drl::outcome::shared_429);
    CHECK(client.request("POST", messages_1, "t", R"({"content": "x"})").result_int() == 200);
    const auto seen = server.counters();
    CHECK(seen.shared_429 == 1);
    CHECK(seen.rate_limited() == 0);
}

TEST_CASE("a banned client gets Cloudflare's pages without Via", "[fake_discord]")
{
    fd::server server{long_options()};
    fd::http_client client{server.port()};
    server.ban(fd::ban_page::html);
    const auto html = client.request("GET", "/api/v10/channels/1", "t");
    CHECK(html.result_int() == 429);
    CHECK_FALSE(has_field(html, "via"));
    CHECK_FALSE(has_field(html, "x-ratelimit-limit"));
    CHECK_FALSE(has_field(html, "x-ratelimit-remaining"));
    CHECK_FALSE(has_field(html, "retry-after"));
    CHECK(field(html, "content-type") == "text/html; charset=UTF-8");
    CHECK(html.body().starts_with("<!DOCTYPE html>"));
    CHECK(outcome_of(html) == drl::outcome::cloudflare_429);

    server.ban(fd::ban_page::error_1015);
    const auto text = client.request("GET", "/api/v10/channels/1", "t");
    CHECK(text.result_int() == 429);
    CHECK(text.body() == "error code: 1015");
    CHECK(field(text, "content-type") == "text/plain; charset=UTF-8");

    server.lift_ban();
    CHECK(client.request("GET", "/api/v10/channels/1", "t").result_int() == 200);
    CHECK(server.counters().banned == 2);
    CHECK(client.connections() == 1);

    auto options = long_options();
    options.ban = fd::ban_page::json;
    fd::server banned{options};
    fd::http_client other{banned.port()};
    const auto notice = other.request("GET", "/api/v10/channels/1", "t");
    CHECK(notice.result_int() == 429);
    CHECK_FALSE(has_field(notice, "via"));
    CHECK(notice.body().starts_with(R"({"code": 0, "message": "You are being blocked from )"));
    CHECK(drl::parse_rate_limit_body(notice.body()).kind == drl::body_kind::discord_ban);
}

TEST_CASE("the skew moves X-RateLimit-Reset, not Reset-After", "[fake_discord]")
{
    // Reset - Reset-After is the arrival on Discord's clock: the system clock plus the skew. The
    // arrival lies between the two readings around the request; a second of margin covers the
    // rounding to milliseconds and any scheduling, and is tiny next to the skews.
    const auto check_skew = [](std::chrono::milliseconds skew) {
        auto options = long_options();
        options.skew = skew;
        fd::server server{options};
        fd::http_client client{server.port()};
        const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        const auto res = client.request("POST", messages_1, "t", R"({"content": "x"})");
        const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        REQUIRE(res.result_int() == 200);
        CHECK(field(res, "x-ratelimit-reset-after") == "60.000");
        const std::int64_t arrival_on_discord_clock =
            milliseconds_of(field(res, "x-ratelimit-reset")) -
            milliseconds_of(field(res, "x-ratelimit-reset-after"));
        CHECK(arrival_on_discord_clock >= before + skew.count() - 1000);
        CHECK(arrival_on_discord_clock <= after + skew.count() + 1000);
    };
    check_skew(0ms);
    check_skew(3600s);
    check_skew(-40s);
}

TEST_CASE("the fake Discord rejects what Discord would", "[fake_discord]")
{
    auto options = long_options();
    options.body_limit = 1024;
    fd::server server{options};
    fd::http_client client{server.port()};

    const auto unauthorized = client.request("GET", "/api/v10/channels/1");
    CHECK(unauthorized.result_int() == 401);
    CHECK(unauthorized.body() == R"({"message": "401: Unauthorized", "code": 0})");
    CHECK(field(unauthorized, "content-type") == "application/json");
    CHECK(unauthorized.keep_alive());

    for (const std::string_view path :
         {"/api/v10/nonexistent/1", "/api/v8/channels/1", "/channels/1", "/api/v10/channels/abc",
          "/api/v10/", "/api/channels/1", "/favicon.ico"}) {
        const auto res = client.request("GET", path, "t");
        CHECK(res.result_int() == 404);
        CHECK(res.body() == R"({"message": "404: Not Found", "code": 0})");
    }
    CHECK(client.request("BREW", "/api/v10/channels/1", "t").result_int() == 405);
    CHECK(client.connections() == 1);

    // Too large a body: 413, then the connection is closed.
    const auto large = client.request("POST", messages_1, "t", std::string(4096, 'x'));
    CHECK(large.result_int() == 413);
    CHECK_FALSE(large.keep_alive());
    CHECK_FALSE(client.connected());

    // Malformed HTTP: 400, then the connection is closed.
    client.write_raw("NOT HTTP AT ALL\r\n\r\n");
    const auto bad = client.read_response();
    CHECK(bad.result_int() == 400);
    CHECK_FALSE(bad.keep_alive());
    client.write_raw("GET /api/v10/channels/1 HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
    CHECK(client.read_response().result_int() == 400);

    // The server goes on.
    CHECK(client.request("GET", "/api/v10/channels/1", "t").result_int() == 200);
    CHECK(client.connections() == 4);

    const auto rejected = server.rejections();
    CHECK(rejected.unauthorized == 1);
    CHECK(rejected.not_found == 7);
    CHECK(rejected.method_not_allowed == 1);
    CHECK(rejected.too_large == 1);
    CHECK(rejected.bad_request == 2);
    CHECK(server.counters().requests == 1); // none of them reached the simulated Discord
}

TEST_CASE("a peer closing mid-request or with a pending answer leaves the server clean",
          "[fake_discord]")
{
    auto options = long_options();
    options.latency = 10min; // answers wait on a timer until stop() cancels it
    fd::server server{options};
    fd::http_client waiting{server.port()};
    waiting.write_raw(
        "GET /api/v10/channels/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bot t\r\n\r\n");
    fd::http_client partial{server.port()};
    partial.write_raw("POST /api/v10/channels/1/messages HTTP/1.1\r\nContent-Length: 50\r\n\r\n{");
    partial.close();
    fd::http_client idle{server.port()};
    idle.write_raw("");
    server.stop();
    server.stop(); // idempotent
    CHECK(waiting.peer_closed());
    CHECK(idle.peer_closed());
}

TEST_CASE("the fake Discord's counters, log and injected replies", "[fake_discord]")
{
    auto options = long_options();
    options.latency = 1ms;
    fd::server server{options};
    fd::http_client client{server.port()};
    server.inject(
        {503, {{"content-type", "text/plain"}, {"via", "1.1 google"}}, "upstream connect error"});
    const auto injected = client.request("GET", "/api/v10/channels/1", "secret-token");
    CHECK(injected.result_int() == 503);
    CHECK(injected.body() == "upstream connect error");
    CHECK(client.request("POST", "/api/v10/webhooks/5/webhook-secret", {}, R"({"content": "x"})")
              .result_int() == 204);
    CHECK(client.request("GET", "/api/v10/channels/1").result_int() == 401);
    server.update_rules([](fd::rules& r) {
        r.routes["GET /channels/{channel_id}"] = {"g", 0, 60s};
    });
    CHECK(client.request("GET", "/api/v10/channels/1", "secret-token").result_int() == 429);

    const auto seen = server.counters();
    CHECK(seen.requests == 3);
    CHECK(seen.injected == 1);
    CHECK(seen.ok == 1);
    CHECK(seen.user_429 == 1);
    CHECK(server.inspect([](const fd::discord_type& d) { return d.windows().size(); }) == 1);

    const auto log = server.request_log();
    REQUIRE(log.size() == 4);
    CHECK(log[0].method == "GET");
    CHECK(log[0].route == "GET /channels/{channel_id}");
    CHECK(log[0].status == 503);
    CHECK(log[0].had_token);
    CHECK(log[1].route == "POST /webhooks/{webhook_id}/{webhook_token}"); // no token in the key
    CHECK(log[1].status == 204);
    CHECK_FALSE(log[1].had_token);
    CHECK(log[2].status == 401);
    CHECK_FALSE(log[2].had_token);
    CHECK(log[3].status == 429);
    CHECK(log[0].arrival <= log[3].arrival);
}

TEST_CASE("the fake Discord resets or stalls the answers it is told to", "[fake_discord]")
{
    fd::server server{long_options()};
    server.inject_fault(fd::fault::reset_mid_response, "POST");
    server.inject_fault(fd::fault::reset_before_response, "GET", "GET /channels/{channel_id}");
    server.inject_fault(fd::fault::stall, "PATCH");
    CHECK(server.pending_faults() == 3);
    fd::http_client client{server.port(), "127.0.0.1", 500ms};
    const auto error_of = [&](std::string_view method, std::string_view target) {
        try {
            client.request(method, target, "t", method == "GET" ? "" : R"({"content": "x"})");
        } catch (const boost::system::system_error& e) {
            return e.code();
        }
        return boost::system::error_code{};
    };

    // A GET on another route takes no fault; the POST's answer is cut off by a reset.
    CHECK_FALSE(error_of("GET", "/api/v10/channels/1/messages"));
    CHECK(error_of("POST", messages_1) == boost::asio::error::connection_reset);
    CHECK(error_of("GET", "/api/v10/channels/1") == boost::asio::error::connection_reset);
    CHECK(error_of("PATCH", "/api/v10/channels/1/messages/2") == boost::beast::error::timeout);
    CHECK(server.pending_faults() == 0);
    // Each faulted request was decided and counted, as Discord would have before the failure.
    CHECK(server.counters().ok == 4);
    CHECK_FALSE(error_of("POST", messages_1)); // the connection was reopened; no fault is left

    const auto log = server.request_log();
    REQUIRE(log.size() == 5);
    CHECK_FALSE(log[0].injected_fault);
    CHECK(log[1].injected_fault == fd::fault::reset_mid_response);
    CHECK(log[1].status == 200);
    CHECK(log[2].injected_fault == fd::fault::reset_before_response);
    CHECK(log[3].injected_fault == fd::fault::stall);
    CHECK_FALSE(log[4].injected_fault);
}
