// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <discord_ratelimit/response.hpp>

#include "catch.hpp"

#include <chrono>
#include <string>
#include <string_view>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock;
using server_type = drl::testing::simulated_discord<clock_type>;

namespace {
std::string header(const server_type::reply& r, std::string_view name)
{
    for (const auto& [k, v] : r.headers)
        if (k == name)
            return v;
    return "";
}

bool has_header(const server_type::reply& r, std::string_view name)
{
    for (const auto& field : r.headers)
        if (field.first == name)
            return true;
    return false;
}

/// How the library classifies the reply (the engine's view of it).
drl::outcome outcome_of(const server_type::reply& r)
{
    return drl::classify(drl::response::parse(r.status, r.headers, r.body));
}

drl::testing::request_info as(std::string_view token, std::string_view body = {})
{
    return drl::testing::request_info{token, body};
}
} // namespace

TEST_CASE("the simulated Discord enforces fixed windows per bucket and major parameter",
          "[simulated]")
{
    server_type::config c;
    c.routes["POST /channels/{channel_id}/messages"] = {"messages", 2, 5s};
    server_type server{c};
    const auto r = drl::make_route("POST", "/channels/1/messages");
    const clock_type::time_point t0{};
    CHECK(server.handle(r, t0).status == 200);
    const auto second = server.handle(r, t0 + 1s);
    CHECK(header(second, "x-ratelimit-remaining") == "0");
    CHECK(header(second, "x-ratelimit-reset-after") == "4.000");
    CHECK(header(second, "x-ratelimit-bucket") == "messages");
    const auto third = server.handle(r, t0 + 2s);
    CHECK(third.status == 429);
    CHECK(header(third, "x-ratelimit-scope") == "user");
    CHECK(server.handle(drl::make_route("POST", "/channels/2/messages"), t0 + 2s).status == 200);
    CHECK(server.handle(r, t0 + 5s).status == 200);
    CHECK(server.seen().user_429 == 1);
}

TEST_CASE("the simulated Discord checks the global limit over every rolling window", "[simulated]")
{
    server_type::config c;
    c.global_limit = 2;
    server_type server{c};
    const clock_type::time_point t0{};
    CHECK(server.handle(drl::make_route("GET", "/channels/1"), t0 + 900ms).status == 200);
    CHECK(server.handle(drl::make_route("GET", "/channels/2"), t0 + 1100ms).status == 200);
    const auto third = server.handle(drl::make_route("GET", "/channels/3"), t0 + 1500ms);
    CHECK(third.status == 429); // a fixed window anchored at 0 would have let it through
    CHECK(header(third, "x-ratelimit-global") == "true");
    CHECK(server
              .handle(drl::make_route("POST", "/interactions/1/aW50ZXJhY3Rpb246x/callback"),
                      t0 + 1500ms)
              .status == 200);
}

TEST_CASE("decimal seconds are printed with milliseconds, rounded up", "[simulated]")
{
    CHECK(server_type::decimal_seconds(64570ms) == "64.570");
    CHECK(server_type::decimal_seconds(1ns) == "0.001");
    CHECK(server_type::decimal_seconds(0ns) == "0.000");
}

TEST_CASE("the simulated Discord keeps an arrival log only when asked", "[simulated]")
{
    server_type::config c;
    c.routes["POST /channels/{channel_id}/messages"] = {"messages", 1, 5s};
    const auto r = drl::make_route("POST", "/channels/7/messages");
    const clock_type::time_point t0{};
    {
        server_type quiet{c};
        quiet.handle(r, t0);
        CHECK(quiet.arrivals().empty());
    }
    c.record_arrivals = true;
    server_type server{c};
    server.handle(r, t0);
    server.handle(r, t0 + 1s);
    server.handle(drl::make_route("POST", "/interactions/1/tok/callback"), t0 + 2s);
    const auto& log = server.arrivals();
    REQUIRE(log.size() == 3);
    CHECK(log[0].at == t0);
    CHECK(log[0].hash == "messages");
    CHECK(log[0].major == 7);
    CHECK(log[0].status == 200);
    CHECK(log[1].status == 429);
    CHECK(log[2].global_exempt);
    CHECK_FALSE(log[0].global_exempt);
}

TEST_CASE("the simulated Discord gives every bot token its own global limit", "[simulated]")
{
    server_type::config c;
    c.global_limit = 2;
    c.default_rule.limit = 100;
    server_type server{c};
    const clock_type::time_point t0{};
    const auto get = drl::make_route("GET", "/channels/1");
    const auto callback = drl::make_route("POST", "/interactions/1/aW50ZXJhY3Rpb246x/callback");
    const auto follow_up = drl::make_route("POST", "/webhooks/2/aW50ZXJhY3Rpb246y");
    REQUIRE(callback.global_exempt);
    REQUIRE(follow_up.global_exempt);

    CHECK(server.handle(get, t0, as("token-a")).status == 200);
    CHECK(server.handle(get, t0 + 100ms, as("token-a")).status == 200);
    const auto third = server.handle(get, t0 + 200ms, as("token-a"));
    CHECK(third.status == 429);
    CHECK(header(third, "x-ratelimit-scope") == "global");
    CHECK(header(third, "x-ratelimit-global") == "true");
    CHECK(header(third, "retry-after") == "1");
    CHECK(header(third, "content-type") == "application/json");
    CHECK(header(third, "via") == "1.1 google");
    CHECK_FALSE(has_header(third, "x-ratelimit-remaining"));
    CHECK(third.body ==
          R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.800})");
    CHECK(outcome_of(third) == drl::outcome::global_429);

    // Another token, and requests without one (2-argument handle), each have a window of their own.
    CHECK(server.handle(get, t0 + 200ms, as("token-b")).status == 200);
    CHECK(server.handle(get, t0 + 200ms, as("token-b")).status == 200);
    CHECK(server.handle(get, t0 + 200ms, as("token-b")).status == 429);
    CHECK(server.handle(get, t0 + 200ms).status == 200);
    CHECK(server.handle(get, t0 + 200ms).status == 200);
    CHECK(server.handle(get, t0 + 200ms).status == 429);

    // Interaction callbacks and interaction webhooks are neither counted nor limited.
    for (int i = 0; i < 5; ++i) {
        CHECK(server.handle(callback, t0 + 300ms, as("token-a")).status == 200);
        CHECK(server.handle(follow_up, t0 + 300ms, as("token-a")).status == 200);
    }
    // token-a's window rolls: its first arrival leaves it at 1 s.
    CHECK(server.handle(get, t0 + 999ms, as("token-a")).status == 429);
    CHECK(server.handle(get, t0 + 1s, as("token-a")).status == 200);

    const auto& seen = server.seen();
    CHECK(seen.requests == 21);
    CHECK(seen.global_429 == 4);
    CHECK(seen.exempt == 10);
    CHECK(seen.ok == 17);
    CHECK(seen.rate_limited() == 4);
}

TEST_CASE("the simulated Discord enforces the hidden channel name/topic edit sub-limit",
          "[simulated]")
{
    server_type::config c;
    c.routes["PATCH /channels/{channel_id}"] = {"channel-edit", 10, 60s};
    server_type server{c};
    const clock_type::time_point t0{};
    const auto edit = drl::make_route("PATCH", "/channels/10");

    CHECK(server.handle(edit, t0, as("t", R"({"name": "general"})")).status == 200);
    const auto second =
        server.handle(edit, t0 + 1s, as("t", R"({"topic": "news", "nsfw": false})"));
    CHECK(second.status == 200);
    CHECK(header(second, "x-ratelimit-remaining") == "8");

    const auto third = server.handle(edit, t0 + 2s, as("t", R"({"name": "again"})"));
    CHECK(third.status == 429);
    CHECK(header(third, "x-ratelimit-scope") == "user");
    CHECK(header(third, "x-ratelimit-remaining") == "8"); // unchanged: that's how it shows
    CHECK(header(third, "x-ratelimit-limit") == "10");
    CHECK(header(third, "x-ratelimit-bucket") == "channel-edit");
    CHECK(header(third, "x-ratelimit-reset-after") == "58.000");
    CHECK(header(third, "retry-after") == "598");
    CHECK(header(third, "via") == "1.1 google");
    CHECK(header(third, "content-type") == "application/json");
    CHECK(third.body ==
          R"({"message": "You are being rate limited.", "retry_after": 598.000, "global": false})");
    CHECK(outcome_of(third) == drl::outcome::sublimit_429);

    // Other edits of the channel use the bucket as usual; nested keys and bad JSON are not edits.
    const auto other = server.handle(edit, t0 + 3s, as("t", R"({"nsfw": true})"));
    CHECK(other.status == 200);
    CHECK(header(other, "x-ratelimit-remaining") == "7"); // the 429 did not use the bucket
    CHECK(server.handle(edit, t0 + 4s, as("t", R"({"permission_overwrites": [{"name": 1}]})"))
              .status == 200);
    CHECK(server.handle(edit, t0 + 5s, as("t", R"({"name": )")).status == 200);
    // Another channel has its own sub-limit.
    CHECK(
        server.handle(drl::make_route("PATCH", "/channels/11"), t0 + 5s, as("t", R"({"name":"x"})"))
            .status == 200);
    // Without a body, the route's hint decides.
    drl::route_options hint;
    hint.edits_channel_name_or_topic = true;
    CHECK(server.handle(drl::make_route("PATCH", "/channels/10", hint), t0 + 6s).status == 429);
    CHECK(server.handle(edit, t0 + 6s).status == 200);

    // The first edit leaves the sub-limit 10 minutes after it arrived.
    CHECK(server.handle(edit, t0 + 10min - 1ms, as("t", R"({"name": "x"})")).status == 429);
    CHECK(server.handle(edit, t0 + 10min, as("t", R"({"name": "x"})")).status == 200);

    const auto& seen = server.seen();
    CHECK(seen.sub_limit_429 == 3);
    CHECK(seen.user_429 == 0);
    CHECK(seen.rate_limited() == 0);
    CHECK(seen.ok == 8);
}

TEST_CASE("the channel edit sub-limit can be configured or turned off", "[simulated]")
{
    server_type::config c;
    c.name_edit_limit = 1;
    c.name_edit_window = 1min;
    server_type server{c};
    const clock_type::time_point t0{};
    const auto edit = drl::make_route("PATCH", "/channels/10");
    const std::string_view rename = R"({"name": "x"})";
    CHECK(server.handle(edit, t0, as("t", rename)).status == 200);
    CHECK(server.handle(edit, t0 + 1s, as("t", rename)).status == 429);
    server.settings().name_edit_sub_limit = false;
    CHECK(server.handle(edit, t0 + 2s, as("t", rename)).status == 200);
    CHECK(server.seen().sub_limit_429 == 1);
}

TEST_CASE("the simulated Discord answers every Nth request of a route with a shared 429",
          "[simulated]")
{
    server_type::config c;
    c.routes["POST /channels/{channel_id}/messages"] = {"messages", 10, 60s};
    c.shared_limits.push_back({"POST /channels/{channel_id}/messages", 3, 30s});
    server_type server{c};
    const clock_type::time_point t0{};
    const auto post = drl::make_route("POST", "/channels/1/messages");

    CHECK(server.handle(post, t0, as("t")).status == 200);
    CHECK(server.handle(post, t0 + 1s, as("t")).status == 200);
    const auto shared = server.handle(post, t0 + 2s, as("t"));
    CHECK(shared.status == 429);
    CHECK(header(shared, "x-ratelimit-scope") == "shared");
    CHECK(header(shared, "x-ratelimit-remaining") == "8"); // as it is, not consumed
    CHECK(header(shared, "x-ratelimit-limit") == "10");
    CHECK(header(shared, "x-ratelimit-reset-after") == "58.000");
    CHECK(header(shared, "x-ratelimit-bucket") == "messages");
    CHECK(header(shared, "retry-after") == "30");
    CHECK(header(shared, "via") == "1.1 google");
    CHECK(header(shared, "content-type") == "application/json");
    CHECK(shared.body == R"({"message": "The resource is being rate limited.", "retry_after": )"
                         R"(30.000, "global": false, "code": 40062})");
    CHECK(outcome_of(shared) == drl::outcome::shared_429);
    const auto fourth = server.handle(post, t0 + 3s, as("t"));
    CHECK(fourth.status == 200);
    CHECK(header(fourth, "x-ratelimit-remaining") == "7");
    // Counted over every channel of the route; other routes are not affected.
    CHECK(server.handle(drl::make_route("POST", "/channels/2/messages"), t0 + 3s).status == 200);
    CHECK(server.handle(post, t0 + 4s, as("t")).status == 429);
    CHECK(server.handle(drl::make_route("GET", "/channels/1/messages"), t0 + 4s).status == 200);

    // A shared 429 before a window opened shows a fresh window.
    server.settings().shared_limits = {{"GET /channels/{channel_id}", 1, 5s}};
    const auto fresh = server.handle(drl::make_route("GET", "/channels/3"), t0 + 5s);
    CHECK(fresh.status == 429);
    CHECK(header(fresh, "x-ratelimit-remaining") == "5");
    CHECK(header(fresh, "x-ratelimit-reset-after") == "5.000");

    const auto& seen = server.seen();
    CHECK(seen.shared_429 == 3);
    CHECK(seen.rate_limited() == 0);
    CHECK(seen.ok == 5);
}

TEST_CASE("a banned client gets Cloudflare's 429s without Via or rate-limit headers", "[simulated]")
{
    server_type::config c;
    c.routes["GET /channels/{channel_id}"] = {"channel", 5, 60s};
    server_type server{c};
    const clock_type::time_point t0{};
    const auto get = drl::make_route("GET", "/channels/1");
    CHECK_FALSE(server.current_ban());

    server.ban(drl::testing::ban_page::html);
    REQUIRE(server.current_ban() == drl::testing::ban_page::html);
    const auto html = server.handle(get, t0, as("t"));
    CHECK(html.status == 429);
    CHECK(header(html, "content-type") == "text/html; charset=UTF-8");
    CHECK(html.body.starts_with("<!DOCTYPE html>"));
    CHECK(outcome_of(html) == drl::outcome::cloudflare_429);
    CHECK(drl::parse_rate_limit_body(html.body).kind == drl::body_kind::html);

    server.ban(drl::testing::ban_page::error_1015);
    const auto text = server.handle(get, t0 + 1s, as("t"));
    CHECK(text.status == 429);
    CHECK(header(text, "content-type") == "text/plain; charset=UTF-8");
    CHECK(text.body == "error code: 1015");
    CHECK(drl::parse_rate_limit_body(text.body).kind == drl::body_kind::cloudflare_1015);

    server.ban(drl::testing::ban_page::json);
    const auto notice = server.handle(get, t0 + 2s, as("t"));
    CHECK(notice.status == 429);
    CHECK(header(notice, "content-type") == "application/json");
    CHECK(notice.body.starts_with(R"({"code": 0, "message": "You are being blocked from )"));
    CHECK(drl::parse_rate_limit_body(notice.body).kind == drl::body_kind::discord_ban);

    // Every route, exempt ones too.
    CHECK(
        server
            .handle(drl::make_route("POST", "/interactions/1/aW50ZXJhY3Rpb246x/callback"), t0 + 3s)
            .status == 429);
    for (const auto* reply : {&html, &text, &notice}) {
        CHECK_FALSE(has_header(*reply, "via"));
        for (const auto& field : reply->headers) {
            CHECK_FALSE(field.first.starts_with("x-ratelimit"));
            CHECK(field.first != "retry-after");
        }
    }

    server.lift_ban();
    CHECK_FALSE(server.current_ban());
    const auto after = server.handle(get, t0 + 4s, as("t"));
    CHECK(after.status == 200);
    CHECK(header(after, "x-ratelimit-remaining") == "4"); // the ban used nothing
    const auto& seen = server.seen();
    CHECK(seen.banned == 4);
    CHECK(seen.requests == 5);
    CHECK(seen.exempt == 1);
    CHECK(seen.ok == 1);
    CHECK(seen.rate_limited() == 0);
}

TEST_CASE("every answer of the simulated Discord has a content type and Via", "[simulated]")
{
    server_type::config c;
    c.routes["POST /channels/{channel_id}/messages"] = {"messages", 1, 5s};
    c.global_limit = 3;
    server_type server{c};
    const clock_type::time_point t0{};
    const auto post = drl::make_route("POST", "/channels/1/messages");
    const auto ok = server.handle(post, t0);
    const auto user = server.handle(post, t0);
    server.handle(post, t0);
    const auto global = server.handle(post, t0);
    CHECK(ok.status == 200);
    CHECK(user.status == 429);
    CHECK(outcome_of(user) == drl::outcome::user_429);
    CHECK(global.status == 429);
    for (const auto* reply : {&ok, &user, &global}) {
        CHECK(header(*reply, "content-type") == "application/json");
        CHECK(header(*reply, "via") == "1.1 google");
    }
    CHECK(header(ok, "x-ratelimit-reset") == "1700000005.000");
}

TEST_CASE("the simulated Discord's rules can change between windows", "[simulated]")
{
    server_type::config c;
    c.routes["POST /channels/{channel_id}/messages"] = {"messages", 3, 5s};
    c.wall_clock_at_epoch = std::chrono::seconds{1'800'000'000} + 250ms; // a skewed wall clock
    server_type server{c};
    const clock_type::time_point t0{};
    const auto post = drl::make_route("POST", "/channels/1/messages");
    const auto first = server.handle(post, t0);
    CHECK(header(first, "x-ratelimit-reset") == "1800000005.250");
    CHECK(header(first, "x-ratelimit-reset-after") == "5.000");

    // A smaller limit applies at once: 1 used, the limit now 1.
    server.settings().routes["POST /channels/{channel_id}/messages"].limit = 1;
    const auto shrunk = server.handle(post, t0 + 1s);
    CHECK(shrunk.status == 429);
    CHECK(header(shrunk, "x-ratelimit-limit") == "1");
    CHECK(header(shrunk, "x-ratelimit-remaining") == "0");

    // A new hash is a new bucket, hence a new window.
    server.settings().routes["POST /channels/{channel_id}/messages"].hash = "messages-2";
    const auto moved = server.handle(post, t0 + 2s);
    CHECK(moved.status == 200);
    CHECK(header(moved, "x-ratelimit-bucket") == "messages-2");
    CHECK(header(moved, "x-ratelimit-reset-after") == "5.000");

    // The default rule of unconfigured routes, and the global limit, change too.
    server.settings().default_rule.limit = 1;
    const auto get = drl::make_route("GET", "/channels/1/pins");
    CHECK(server.handle(get, t0 + 3s).status == 200);
    CHECK(server.handle(get, t0 + 3s).status == 429);
    server.settings().global_limit = 1;
    CHECK(server.handle(drl::make_route("GET", "/guilds/5"), t0 + 4s).status == 200);
    CHECK(server.handle(drl::make_route("GET", "/guilds/5"), t0 + 4s).status == 429);
    CHECK(server.seen().global_429 == 1);
    CHECK(server.windows().size() == 4);
}

TEST_CASE("injected replies come before the rules, a ban before them", "[simulated]")
{
    server_type server;
    const clock_type::time_point t0{};
    const auto get = drl::make_route("GET", "/channels/1");
    server.inject({503, {{"content-type", "text/plain"}}, "upstream"});
    server.ban(drl::testing::ban_page::error_1015);
    CHECK(server.handle(get, t0).body == "error code: 1015");
    server.lift_ban();
    CHECK(server.handle(get, t0).status == 503);
    CHECK(server.handle(get, t0).status == 200);
    CHECK(server.seen().injected == 1);
    CHECK(server.seen().banned == 1);
}
