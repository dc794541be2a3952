// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
//
// The project's programs on real HTTP: discord-bulk, the Beast example and the libcurl example,
// each run as a child process against the fake Discord on loopback. Every workload must end with
// every request succeeded and no 429 but the one a hidden sub-limit makes unavoidable. Windows are
// shortened so that each workload takes a few seconds; nothing here asserts a duration.

#include "fake_discord_server.hpp"
#include "http_client.hpp"
#include "integration/run_program.hpp"
#ifdef DISCORD_RATELIMIT_INTEGRATION_HAVE_OPENSSL
#include "integration/tls_answer_server.hpp"
#endif

#include "catch.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

[[maybe_unused]] constexpr std::string_view token = "integration-token.not-a-secret";

/// Discord's rules with the per-channel windows shortened to 1 s (the global limit stays 50 per
/// second, the reactions 1 per 250 ms) and the name edit sub-limit to 2 per 2 s.
[[maybe_unused]] fake_discord::options fast_discord()
{
    fake_discord::options o;
    o.latency = 10ms;
    for (auto& [key, rule] : o.discord.routes)
        if (rule.window > 1s)
            rule.window = 1s;
    o.discord.name_edit_window = 2s;
    return o;
}


[[maybe_unused]] std::string channel_messages(int first_channel, int channels, int per_channel)
{
    std::string input;
    for (int i = 0; i < per_channel; ++i)
        for (int c = first_channel; c < first_channel + channels; ++c)
            input += "POST /channels/" + std::to_string(c) + "/messages {\"content\":\"m" +
                     std::to_string(i) + "\"}\n";
    return input;
}

/// Every request reached Discord once and succeeded: no 429 of any kind, nothing rejected.
[[maybe_unused]] void require_clean(const fake_discord::server& server, std::uint64_t requests)
{
    const auto seen = server.counters();
    CHECK(seen.user_429 == 0);
    CHECK(seen.global_429 == 0);
    CHECK(seen.shared_429 == 0);
    CHECK(seen.banned == 0);
    CHECK(seen.ok == requests);
    CHECK(seen.requests == requests);
    const auto rejected = server.rejections();
    CHECK(rejected.unauthorized + rejected.not_found + rejected.bad_request == 0);
}

/// Runs an example with the test token.
[[maybe_unused]] integration::program_result run_example(std::vector<std::string> args)
{
    integration::program_run run;
    run.args = std::move(args);
    run.env = {"DISCORD_TOKEN=" + std::string{token}};
    return integration::run_program(run);
}

} // namespace

#ifdef DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK

namespace {

struct bulk_summary {
    integration::program_result run;
    std::string summary;
    double sent = -1, ok = -1, failed = -1, retried_429 = -1;
};

bulk_summary run_bulk(const fake_discord::server& server, std::string input,
                      std::vector<std::string> extra_args = {})
{
    integration::program_run run;
    run.args = {DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK};
    run.args.insert(run.args.end(), extra_args.begin(), extra_args.end());
    run.args.push_back(server.base_url());
    run.env = {"DISCORD_TOKEN=" + std::string{token}};
    run.input = std::move(input);
    bulk_summary s;
    s.run = integration::run_program(run);
    s.summary = integration::last_line(s.run.out);
    s.sent = integration::json_number(s.summary, "sent");
    s.ok = integration::json_number(s.summary, "ok");
    s.failed = integration::json_number(s.summary, "failed");
    s.retried_429 = integration::json_number(s.summary, "retried_429");
    return s;
}

void require_all_ok(const bulk_summary& s, double requests)
{
    INFO("stdout: " << s.run.out);
    INFO("stderr: " << s.run.err);
    REQUIRE_FALSE(s.run.timed_out);
    CHECK(s.run.exit_code == 0);
    CHECK(s.sent == requests);
    CHECK(s.ok == requests);
    CHECK(s.failed == 0);
    CHECK(s.retried_429 == 0);
}

} // namespace

TEST_CASE("discord-bulk: a per-channel bound workload gets no 429", "[programs][bulk]")
{
    fake_discord::server server{fast_discord()};
    // 15 messages to each of 3 channels: three full windows per channel.
    const auto s = run_bulk(server, channel_messages(100, 3, 15), {"--connections", "4"});
    require_all_ok(s, 45);
    require_clean(server, 45);
    CHECK(server.connections_accepted() <= 4);
    // Every channel's windows were used to the full: 3 windows of 5 each.
    server.inspect([](const fake_discord::discord_type& d) {
        for (const auto& w : d.windows())
            CHECK(w.used == w.limit);
        CHECK(d.windows().size() == 9);
        return 0;
    });
}

TEST_CASE("discord-bulk: Discord's clock 40 s away from ours changes nothing", "[programs][bulk]")
{
    // X-RateLimit-Reset is on Discord's clock; the engine times windows by Reset-After.
    for (const auto skew : {std::chrono::milliseconds{40s}, std::chrono::milliseconds{-40s}}) {
        auto options = fast_discord();
        options.skew = skew;
        fake_discord::server server{options};
        const auto s = run_bulk(server, channel_messages(100, 2, 10));
        require_all_ok(s, 20);
        require_clean(server, 20);
    }
}

TEST_CASE("discord-bulk: a global bound workload gets no 429", "[programs][bulk]")
{
    fake_discord::server server{fast_discord()};
    // 150 channels, one message each: only the global limit (50 per second) binds.
    const auto s = run_bulk(server, channel_messages(1000, 150, 1));
    require_all_ok(s, 150);
    require_clean(server, 150);
    CHECK(server.connections_accepted() <= 8);
}

TEST_CASE("discord-bulk: routes sharing a bucket hash share its limit", "[programs][bulk]")
{
    fake_discord::server server{fast_discord()};
    // Edits and deletes of messages in one channel: one bucket, 5 per window.
    std::string input;
    for (int i = 0; i < 10; ++i) {
        input += "PATCH /channels/200/messages/" + std::to_string(1200000000000000000 + i) +
                 " {\"content\":\"edited\"}\n";
        input += "DELETE /channels/200/messages/" + std::to_string(1300000000000000000 + i) + "\n";
    }
    const auto s = run_bulk(server, input);
    require_all_ok(s, 20);
    require_clean(server, 20);
    server.inspect([](const fake_discord::discord_type& d) {
        for (const auto& w : d.windows()) {
            CHECK(w.hash == fake_discord::hashes::modify_message);
            CHECK(w.used <= w.limit);
        }
        CHECK(d.windows().size() == 4);
        return 0;
    });
}

TEST_CASE("discord-bulk: reactions, added and removed, share one bucket per channel",
          "[programs][bulk]")
{
    fake_discord::server server{fast_discord()};
    std::string input;
    for (const char* emoji :
         {"%F0%9F%91%8D", "%E2%9D%A4", "%F0%9F%8E%89", "custom:123456789012345678"})
        input += std::string{"PUT /channels/300/messages/1400000000000000000/reactions/"} + emoji +
                 "/@me\n";
    for (const char* emoji : {"%F0%9F%91%8D", "%E2%9D%A4"})
        input += std::string{"DELETE /channels/300/messages/1400000000000000000/reactions/"} +
                 emoji + "/@me\n";
    input += "PUT /channels/300/messages/1400000000000000001/reactions/%F0%9F%91%8D/@me\n";
    const auto s = run_bulk(server, input);
    require_all_ok(s, 7);
    require_clean(server, 7);
}

TEST_CASE("discord-bulk: interaction callbacks mixed with bot traffic", "[programs][bulk]")
{
    fake_discord::server server{fast_discord()};
    // 60 callbacks (exempt from the global limit, one bucket each) among 80 messages on 80
    // channels and a few reactions: the global limit binds the rest, never the callbacks.
    std::string input;
    for (int i = 0; i < 80; ++i) {
        input += "POST /channels/" + std::to_string(5000 + i) + "/messages {\"content\":\"hi\"}\n";
        if (i < 60)
            input += "POST /interactions/" + std::to_string(1500000000000000000 + i) +
                     "/aW50ZXJhY3Rpb246" + std::to_string(i) +
                     "/callback {\"type\":4,\"data\":{\"content\":\"pong\"}}\n";
    }
    for (int i = 0; i < 3; ++i)
        input += "PUT /channels/5000/messages/" + std::to_string(1400000000000000000 + i) +
                 "/reactions/%F0%9F%91%8D/@me\n";
    const auto s = run_bulk(server, input);
    require_all_ok(s, 143);
    require_clean(server, 143);
    CHECK(server.counters().exempt == 60);
}

TEST_CASE("discord-bulk: a hidden sub-limit it could not foresee costs one 429, obeyed",
          "[programs][bulk]")
{
    auto options = fast_discord();
    options.discord.name_edit_window = 5s; // room for a slow start of the program
    fake_discord::server server{options};
    // Another program renamed the channel twice: the engine cannot know, so its rename meets the
    // hidden sub-limit (2 per 5 s here) once, waits out its Retry-After and then succeeds.
    fake_discord::http_client other{server.port()};
    for (int i = 0; i < 2; ++i)
        REQUIRE(
            other.request("PATCH", "/api/v10/channels/400", token, R"({"name":"by-another-bot"})")
                .result_int() == 200);
    const auto s = run_bulk(server, "PATCH /channels/400 {\"name\":\"renamed\"}\n"
                                    "PATCH /channels/400 {\"name\":\"renamed-again\"}\n");
    INFO("stderr: " << s.run.err);
    CHECK(s.run.exit_code == 0);
    CHECK(s.ok == 2);
    const auto seen = server.counters();
    CHECK(seen.sub_limit_429 >= 1);
    CHECK(seen.user_429 == 0);
    CHECK(seen.global_429 == 0);
    CHECK(seen.ok == 4);
}

TEST_CASE("discord-bulk: malformed lines are reported by number and skipped", "[programs][bulk]")
{
    fake_discord::server server{fast_discord()};
    const std::string input = "POST /channels/1/messages {\"content\":\"ok\"}\n"
                              "FETCH /channels/1/messages\n"
                              "\n"
                              "GET channels/1/messages\n"
                              "GET /channels/1/messages\n";
    const auto s = run_bulk(server, input);
    INFO("stderr: " << s.run.err);
    CHECK(s.run.exit_code == 1); // not every line became a successful request
    CHECK(s.sent == 2);
    CHECK(s.ok == 2);
    CHECK(s.run.err.find("line 2") != std::string::npos);
    CHECK(s.run.err.find("line 4") != std::string::npos);
    CHECK(server.counters().requests == 2);
}

TEST_CASE("discord-bulk: a 403 is a failure with its reason; the token is never printed",
          "[programs][bulk]")
{
    fake_discord::server server{fast_discord()};
    server.inject({403,
                   {{"content-type", "application/json"}, {"via", "1.1 google"}},
                   R"({"message": "Missing Permissions", "code": 50013})"});
    const auto s = run_bulk(server, "POST /channels/1/messages {\"content\":\"x\"}\n");
    CHECK(s.run.exit_code == 1);
    CHECK(s.failed == 1);
    CHECK(s.run.err.find("line 1") != std::string::npos);
    CHECK(s.run.err.find("403") != std::string::npos);
    CHECK(s.run.out.find(token) == std::string::npos);
    CHECK(s.run.err.find(token) == std::string::npos);
}

TEST_CASE("discord-bulk: bad usage exits 2", "[programs][bulk]")
{
    integration::program_run run;
    run.args = {DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK, "--connections", "0",
                "http://127.0.0.1:1/api"};
    run.env = {"DISCORD_TOKEN=x"};
    CHECK(integration::run_program(run).exit_code == 2);
    run.args = {DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK, "ftp://example/api"};
    CHECK(integration::run_program(run).exit_code == 2);
    run.args = {DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK};
    CHECK(integration::run_program(run).exit_code == 2);
}

TEST_CASE("discord-bulk: an unreachable server fails every request with a reason, no hang",
          "[programs][bulk]")
{
    std::uint16_t port = 0;
    {
        fake_discord::server gone{fast_discord()};
        port = gone.port();
    } // closed: connections to its port are refused
    integration::program_run run;
    run.args = {DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK,
                "http://127.0.0.1:" + std::to_string(port) + "/api"};
    run.env = {"DISCORD_TOKEN=x"};
    run.input = "GET /channels/1/messages\nPOST /channels/2/messages\n";
    const auto r = integration::run_program(run);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 1);
    CHECK(integration::json_number(integration::last_line(r.out), "failed") == 2);
    CHECK(r.err.find("line 1") != std::string::npos);
    CHECK(r.err.find("line 2") != std::string::npos);
}

#ifdef DISCORD_RATELIMIT_INTEGRATION_HAVE_OPENSSL

TEST_CASE("rule: nothing was sent only when nothing was sent: discord-bulk fails a GET and a POST "
          "at once when the server's certificate fails verification",
          "[programs][bulk]")
{
    // Its self-signed certificate is trusted by nobody: no SSL_CERT_FILE points at it.
    const integration::tls_answer_server server{true};
    integration::program_run run;
    run.args = {DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK,
                "https://127.0.0.1:" + std::to_string(server.port()) + "/api"};
    run.env = {"DISCORD_TOKEN=x"};
    run.input = "GET /channels/1/messages\nPOST /channels/2/messages {\"content\":\"x\"}\n";
    const auto r = integration::run_program(run);
    INFO("stdout: " << r.out);
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 1);
    CHECK(integration::json_number(integration::last_line(r.out), "failed") == 2);
    const std::string reason = "certificate failed verification";
    const auto first = r.err.find(reason);
    REQUIRE(first != std::string::npos);
    CHECK(r.err.find(reason, first + 1) != std::string::npos); // both requests
    CHECK(r.err.find("line 1") != std::string::npos);
    CHECK(r.err.find("line 2") != std::string::npos);
    CHECK(server.connections() == 2); // one handshake each: neither was tried again
    CHECK(server.requests() == 0);
}

#endif

#endif

#ifdef DISCORD_RATELIMIT_PROGRAM_BEAST_SEND_MESSAGES

TEST_CASE("the Beast example sends its messages without a 429", "[programs][examples]")
{
    fake_discord::server server{fast_discord()};
    const auto r = run_example(
        {DISCORD_RATELIMIT_PROGRAM_BEAST_SEND_MESSAGES, "--count", "12", server.base_url(), "600"});
    INFO("stdout: " << r.out);
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 0);
    CHECK(integration::last_line(r.out) == "sent 12, ok 12, failed 0");
    require_clean(server, 12);
    CHECK(server.connections_accepted() == 1);
}

#endif

#ifdef DISCORD_RATELIMIT_PROGRAM_CURL_THREADS

TEST_CASE("the libcurl example's threads share one limiter without a 429", "[programs][examples]")
{
    fake_discord::server server{fast_discord()};
    const auto r = run_example({DISCORD_RATELIMIT_PROGRAM_CURL_THREADS, "--threads", "4", "--count",
                                "10", server.base_url(), "700", "701"});
    INFO("stdout: " << r.out);
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 0);
    require_clean(server, 20);
}

#endif
