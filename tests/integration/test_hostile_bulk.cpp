// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
//
// discord-bulk and the Beast example against servers on loopback that misbehave on purpose
// (integration/hostile_server.hpp), and with the bot token where it must never show. Every run has
// a deadline of a few seconds: a program that hangs or grows without bound fails its test.

#include "fake_discord_server.hpp"
#include "integration/hostile_server.hpp"
#include "integration/run_program.hpp"
#include "integration/temp_file.hpp"
#ifdef DISCORD_RATELIMIT_INTEGRATION_HAVE_OPENSSL
#include "integration/tls_answer_server.hpp"
#endif

#include "catch.hpp"

#include <csignal>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

[[maybe_unused]] constexpr std::string_view bot_token = "hostile-test-token.not-a-secret";

/// A bound on a program's peak memory. Under AddressSanitizer its shadow memory and its quarantine
/// of freed blocks (256 MiB) come on top: the bound is loosened by 1 GiB, and still catches a
/// program that holds what a hostile server sends (gigabytes).
[[maybe_unused]] long rss_bound_kib(long kib)
{
#ifdef DISCORD_RATELIMIT_SANITIZED
    return kib + 1024L * 1024L;
#else
    return kib;
#endif
}

/// A response: `head` (the status line and fields, each line ending in CRLF), a Content-Length
/// and `body`.
[[maybe_unused]] std::string answer(const std::string& head, const std::string& body)
{
    return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// A 200 that Discord could send, with its rate-limit headers.
[[maybe_unused]] const std::string discord_200 = answer("HTTP/1.1 200 OK\r\n"
                                                        "Content-Type: application/json\r\n"
                                                        "X-RateLimit-Limit: 5\r\n"
                                                        "X-RateLimit-Remaining: 4\r\n"
                                                        "X-RateLimit-Reset-After: 1\r\n"
                                                        "X-RateLimit-Bucket: abcd\r\n"
                                                        "Via: 1.1 google\r\n",
                                                        "{}");

/// A 429 of the route's own bucket asking for a week, the longest valid Retry-After.
[[maybe_unused]] const std::string week_429 =
    answer("HTTP/1.1 429 Too Many Requests\r\n"
           "Content-Type: application/json\r\n"
           "Retry-After: 604800\r\n"
           "X-RateLimit-Limit: 5\r\n"
           "X-RateLimit-Remaining: 0\r\n"
           "X-RateLimit-Reset-After: 604800\r\n"
           "X-RateLimit-Bucket: abcd\r\n"
           "X-RateLimit-Scope: user\r\n"
           "Via: 1.1 google\r\n",
           R"({"message": "You are being rate limited.", "retry_after": 604800, "global": false})");


} // namespace

#ifdef DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK

namespace {

struct bulk_run {
    integration::program_result r;
    double sent = -1, ok = -1, failed = -1;
};

bulk_run bulk(const std::string& base, std::string input, std::vector<std::string> options = {},
              std::vector<std::string> env = {"DISCORD_TOKEN=" + std::string{bot_token}},
              std::chrono::seconds deadline = 20s)
{
    integration::program_run run;
    run.args = {DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK};
    run.args.insert(run.args.end(), options.begin(), options.end());
    run.args.push_back(base);
    run.env = std::move(env);
    run.input = std::move(input);
    run.deadline = deadline;
    bulk_run b;
    b.r = integration::run_program(run);
    const auto summary = integration::last_line(b.r.out);
    b.sent = integration::json_number(summary, "sent");
    b.ok = integration::json_number(summary, "ok");
    b.failed = integration::json_number(summary, "failed");
    return b;
}

} // namespace

TEST_CASE("rule 1: discord-bulk cuts off a response that never ends", "[programs][hostile]")
{
    struct endless {
        const char* name;
        std::string head, repeat, error;
    };
    const std::vector<endless> cases{
        {"a chunk extension", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=",
         std::string(4096, 'a'), "buffer overflow"},
        {"a trailer",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: ",
         std::string(4096, 'b'), "buffer overflow"},
        {"a body", "HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n",
         std::string(4096, 'c'), "body limit"},
        {"a chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
         "1000\r\n" + std::string(4096, 'd') + "\r\n", "body limit"},
        {"a header", "HTTP/1.1 200 OK\r\nX-Endless: ", std::string(4096, 'e'), "header limit"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name)
        {
            // 256 MiB at most per connection: more than any bound, bounded in time.
            integration::hostile_server server{{c.head, c.repeat, 256U << 20, false}};
            const auto b = bulk(server.base(), "GET /channels/1/messages\n", {"--quiet"});
            INFO("stderr: " << b.r.err);
            REQUIRE_FALSE(b.r.timed_out);
            CHECK(b.r.exit_code == 1);
            CHECK(b.failed == 1);
            CHECK(b.r.err.find(c.error) != std::string::npos);
            // Each attempt held at most its bounds (8 MiB of body): far below 256 MiB.
            CHECK(b.r.max_rss_kib < rss_bound_kib(96 * 1024));
        }
    }
}

TEST_CASE("rule 4: discord-bulk skips 100 Continue and 103 Early Hints: a POST is sent once",
          "[programs][hostile]")
{
    integration::hostile_server server{
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" +
             discord_200,
         "", 1U << 20, false}};
    const auto b = bulk(server.base(), "POST /channels/1/messages {\"content\":\"once\"}\n",
                        {"--quiet"});
    INFO("stderr: " << b.r.err);
    REQUIRE_FALSE(b.r.timed_out);
    CHECK(b.r.exit_code == 0);
    CHECK(b.ok == 1);
    CHECK(server.requests() == 1);
}

TEST_CASE("rule 3: a 429 asking for a week fails at once under --max-wait, never silently",
          "[programs][hostile]")
{
    integration::hostile_server server{{week_429, "", 1U << 20, false}};
    SECTION("the request, and those of its route waiting behind it")
    {
        const auto b = bulk(server.base(),
                            "POST /channels/1/messages {\"content\":\"a\"}\n"
                            "POST /channels/1/messages {\"content\":\"b\"}\n"
                            "POST /channels/1/messages {\"content\":\"c\"}\n",
                            {"--quiet"});
        INFO("stderr: " << b.r.err);
        REQUIRE_FALSE(b.r.timed_out);
        CHECK(b.r.exit_code == 1);
        CHECK(b.failed == 3);
        CHECK(b.r.err.find("longer than --max-wait (15m 0s)") != std::string::npos);
        CHECK(server.requests() == 1); // the others never went
    }
    SECTION("a global one stops everything, saying why")
    {
        integration::hostile_server global{
            {answer("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\n"
                    "X-RateLimit-Global: true\r\nX-RateLimit-Scope: global\r\n"
                    "Via: 1.1 google\r\nContent-Type: application/json\r\n",
                    R"({"message": "You are being rate limited.", "retry_after": 3600, )"
                    R"("global": true})"),
             "", 1U << 20, false}};
        const auto b = bulk(global.base(),
                            "POST /channels/1/messages {\"content\":\"a\"}\n"
                            "POST /channels/2/messages {\"content\":\"b\"}\n",
                            {"--quiet", "--max-wait", "60"});
        INFO("stderr: " << b.r.err);
        REQUIRE_FALSE(b.r.timed_out);
        CHECK(b.r.exit_code == 1);
        CHECK(b.r.err.find("for every request, longer than --max-wait (1m 0s)") !=
              std::string::npos);
    }
    SECTION("a wait within --max-wait is waited for, with progress lines")
    {
        integration::hostile_server slow{
            {answer("HTTP/1.1 200 OK\r\nX-RateLimit-Limit: 1\r\nX-RateLimit-Remaining: 0\r\n"
                    "X-RateLimit-Reset-After: 1.5\r\nX-RateLimit-Bucket: slow\r\n"
                    "Via: 1.1 google\r\n",
                    "{}"),
             "", 1U << 20, false}};
        const auto b = bulk(slow.base(),
                            "GET /channels/1/messages\nGET /channels/1/messages\n"
                            "GET /channels/1/messages\n",
                            {"--progress", "1"});
        INFO("stderr: " << b.r.err);
        REQUIRE_FALSE(b.r.timed_out);
        CHECK(b.r.exit_code == 0);
        CHECK(b.ok == 3);
        CHECK(b.r.err.find(" done (") != std::string::npos);
        CHECK(b.r.err.find("waiting") != std::string::npos);
    }
}

TEST_CASE("rule 6: discord-bulk reads its input as it sends, within a bounded window",
          "[programs][hostile]")
{
    // Every request of channel 1 is refused at once after the first 429 (a week): 100,000 lines
    // go through in seconds. Read all at once first, they took 190 MB.
    integration::hostile_server server{{week_429, "", 1U << 20, false}};
    std::string input;
    for (int i = 0; i < 100'000; ++i)
        input += "POST /channels/1/messages {\"content\":\"a message of some length, " +
                 std::to_string(i) + "\"}\n";
    const auto b = bulk(server.base(), input, {"--quiet"}, {"DISCORD_TOKEN=x"}, 60s);
    REQUIRE_FALSE(b.r.timed_out);
    CHECK(b.r.exit_code == 1);
    CHECK(b.sent == 100'000);
    CHECK(b.failed == 100'000);
    CHECK(server.requests() == 1);
    CHECK(b.r.max_rss_kib < rss_bound_kib(64 * 1024));
}

TEST_CASE("rule 5: SIGINT on 100,000 waiting lines ends them in proportion, not their square",
          "[programs][hostile]")
{
    // The server reads and never answers: the first request of channel 1 probes its unknown
    // bucket, and every other one waits behind it. The first SIGINT fails those waiting (linear:
    // it took about 100 s when each cancel walked the rest of the queue); the second aborts the
    // probe on the wire.
    integration::hostile_server mute{{"", "", 1U << 20, false}};
    std::string input;
    for (int i = 0; i < 100'000; ++i)
        input += "POST /channels/1/messages {\"content\":\"" + std::to_string(i) + "\"}\n";
    integration::program_run run;
    run.args = {DISCORD_RATELIMIT_PROGRAM_DISCORD_BULK, "--quiet", "--window", "100000",
                mute.base()};
    run.env = {"DISCORD_TOKEN=x"};
    run.input = std::move(input);
    run.deadline = 60s;
    run.signals = {{5s, SIGINT}, {5500ms, SIGINT}};
    const auto r = integration::run_program(run);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 1);
    const auto summary = integration::last_line(r.out);
    CHECK(integration::json_number(summary, "failed") == integration::json_number(summary, "sent"));
    CHECK(r.err.find("interrupted") != std::string::npos);
    // Generous for a slow machine and the sanitizers; the quadratic cancel took minutes.
    CHECK(r.after_first_signal < 15s);
}

TEST_CASE("rule 2: discord-bulk takes the token from the environment or a file, never argv",
          "[programs][hostile]")
{
    fake_discord::server server{fake_discord::options{}};
    const std::string one = "GET /channels/1/messages\n";
    SECTION("--token is refused, and the refusal does not repeat it")
    {
        const auto b = bulk(server.base_url(), one, {"--token", std::string{bot_token}}, {});
        CHECK(b.r.exit_code == 2);
        CHECK(b.r.err.find("/proc/PID/cmdline") != std::string::npos);
        CHECK(b.r.err.find(bot_token) == std::string::npos);
        CHECK(server.counters().requests == 0);
    }
    SECTION("--token-file PATH")
    {
        integration::temp_file file{std::string{bot_token} + "\n"};
        const auto b = bulk(server.base_url(), one, {"--token-file", file.path.string(), "--quiet"}, {});
        CHECK(b.r.exit_code == 0);
        CHECK(b.ok == 1);
    }
    SECTION("--token-file -: the first line of standard input")
    {
        const auto b = bulk(server.base_url(), std::string{bot_token} + "\n" + one + one,
                            {"--token-file", "-", "--quiet"}, {});
        CHECK(b.r.exit_code == 0);
        CHECK(b.ok == 2);
    }
    SECTION("no token at all")
    {
        const auto b = bulk(server.base_url(), one, {}, {});
        CHECK(b.r.exit_code == 2);
        CHECK(b.r.err.find("DISCORD_TOKEN") != std::string::npos);
    }
    SECTION("a token file that cannot be read")
    {
        const auto b = bulk(server.base_url(), one, {"--token-file", "/nonexistent/token"}, {});
        CHECK(b.r.exit_code == 2);
        CHECK(b.r.err.find("cannot open") != std::string::npos);
    }
}

TEST_CASE("rule 2: discord-bulk hides webhook and interaction tokens in the paths it prints",
          "[programs][hostile]")
{
    integration::hostile_server server{
        {answer("HTTP/1.1 404 Not Found\r\nVia: 1.1 google\r\nContent-Type: application/json\r\n",
                R"({"message": "Unknown Webhook", "code": 10015})"),
         "", 1U << 20, false}};
    const std::string webhook_token = "WebhookSecretToken-DoNotPrint_123";
    const std::string interaction_token = "aW50ZXJhY3Rpb246SecretInteraction";
    const auto b = bulk(server.base(),
                        "POST /webhooks/1/" + webhook_token + " {\"content\":\"x\"}\n" +
                            "POST /interactions/2/" + interaction_token +
                            "/callback {\"type\":1}\n",
                        {"--quiet"});
    INFO("stderr: " << b.r.err);
    CHECK(b.failed == 2);
    CHECK(b.r.err.find("/webhooks/1/{webhook_token}") != std::string::npos);
    CHECK(b.r.err.find("/interactions/2/{interaction_token}/callback") != std::string::npos);
    CHECK(b.r.err.find("SecretToken") == std::string::npos);
    CHECK(b.r.err.find("SecretInteraction") == std::string::npos);
    CHECK(b.r.out.find("Secret") == std::string::npos);
}

TEST_CASE("rule 7: discord-bulk refuses http:// to another host unless told", "[programs][hostile]")
{
    // 192.0.2.1 is TEST-NET-1: nothing answers there, and nothing may be tried.
    const auto refused = bulk("http://192.0.2.1/api", "GET /channels/1/messages\n");
    CHECK(refused.r.exit_code == 2);
    CHECK(refused.r.err.find("clear text") != std::string::npos);
    CHECK(refused.r.err.find("--insecure-http") != std::string::npos);
    // A name, even localhost and localhost., is looked up: a resolver may answer any address.
    for (const std::string name : {"localhost", "localhost.", "127.0.0.1.example.com"}) {
        const auto by_name = bulk("http://" + name + ":1/api", "GET /channels/1/messages\n");
        CHECK(by_name.r.exit_code == 2);
    }
    // A loopback address is this machine: allowed (nothing listens on port 1: a connection
    // error), and so is anything with --insecure-http.
    for (const std::string base : {"http://127.0.0.1:1/api", "http://[::1]:1/api"}) {
        const auto local = bulk(base, "GET /channels/1/messages\n", {"--quiet"});
        CHECK(local.r.exit_code == 1);
        CHECK(local.failed == 1);
    }
    const auto told = bulk("http://localhost:1/api", "GET /channels/1/messages\n",
                           {"--quiet", "--insecure-http"});
    CHECK(told.r.exit_code == 1);
    CHECK(told.failed == 1);
}

#ifdef DISCORD_RATELIMIT_INTEGRATION_HAVE_OPENSSL

TEST_CASE("rule 7: discord-bulk checks a certificate against its subject alternative names only",
          "[programs][hostile]")
{
    for (const bool with_subject_alt_name : {true, false}) {
        DYNAMIC_SECTION((with_subject_alt_name ? "DNS:localhost: accepted" : "CN only: refused"))
        {
            const integration::tls_answer_server server{with_subject_alt_name};
            const integration::temp_file trusted{server.certificate_pem()};
            // OpenSSL's default verify paths take SSL_CERT_FILE: the one certificate trusted.
            const auto b = bulk("https://localhost:" + std::to_string(server.port()) + "/api",
                                "POST /channels/1/messages {\"content\":\"x\"}\n", {"--quiet"},
                                {"DISCORD_TOKEN=x", "SSL_CERT_FILE=" + trusted.path.string()});
            INFO("stderr: " << b.r.err);
            REQUIRE_FALSE(b.r.timed_out);
            CHECK(b.r.exit_code == (with_subject_alt_name ? 0 : 1));
            CHECK(server.requests() == (with_subject_alt_name ? 1 : 0));
            if (!with_subject_alt_name)
                CHECK(b.r.err.find("certificate failed verification") != std::string::npos);
        }
    }
}

#endif

#endif

#ifdef DISCORD_RATELIMIT_PROGRAM_BEAST_SEND_MESSAGES

namespace {

integration::program_result beast_example(const std::string& base, std::vector<std::string> env,
                                          std::vector<std::string> options = {})
{
    integration::program_run run;
    run.args = {DISCORD_RATELIMIT_PROGRAM_BEAST_SEND_MESSAGES, "--count", "1"};
    run.args.insert(run.args.end(), options.begin(), options.end());
    run.args.push_back(base);
    run.args.emplace_back("600");
    run.env = std::move(env);
    run.deadline = 20s;
    return integration::run_program(run);
}

} // namespace

TEST_CASE("rule 1: the Beast example cuts off a chunk extension that never ends",
          "[programs][hostile][examples]")
{
    integration::hostile_server server{
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=", std::string(4096, 'a'),
         256U << 20, false}};
    const auto r = beast_example(server.base(), {"DISCORD_TOKEN=x"});
    INFO("stdout: " << r.out);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 1);
    // The POST may have arrived: it failed, and is not sent again.
    CHECK(r.out.find("not resent") != std::string::npos);
    CHECK(server.requests() == 1);
    CHECK(r.max_rss_kib < rss_bound_kib(96 * 1024));
}

TEST_CASE("rule 4: the Beast example reads the 200 after a 100 Continue: sent once, succeeded",
          "[programs][hostile][examples]")
{
    integration::hostile_server server{
        {"HTTP/1.1 100 Continue\r\n\r\n" + discord_200, "", 1U << 20, false}};
    const auto r = beast_example(server.base(), {"DISCORD_TOKEN=x"});
    INFO("stdout: " << r.out);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 0);
    CHECK(integration::last_line(r.out) == "sent 1, ok 1, failed 0");
    CHECK(server.requests() == 1);
}

TEST_CASE("rule 2: the Beast example takes its token from the environment or a file only",
          "[programs][hostile][examples]")
{
    integration::hostile_server server{{discord_200, "", 1U << 20, false}};
    const auto refused = beast_example(server.base(), {}, {"--token", std::string{bot_token}});
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("/proc/PID/cmdline") != std::string::npos);
    CHECK(refused.err.find(bot_token) == std::string::npos);
    CHECK(server.requests() == 0);
    const integration::temp_file file{std::string{bot_token} + "\n"};
    const auto from_file = beast_example(server.base(), {}, {"--token-file", file.path.string()});
    CHECK(from_file.exit_code == 0);
    CHECK(server.requests() == 1);
}

TEST_CASE("rule 7: the Beast example refuses http:// to another host unless told",
          "[programs][hostile][examples]")
{
    const auto r = beast_example("http://192.0.2.1/api", {"DISCORD_TOKEN=x"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("clear text") != std::string::npos);
    // Loopback addresses are allowed, IPv6 ones in brackets too (nothing listens on port 1).
    for (const std::string base : {"http://127.0.0.1:1/api", "http://[::1]:1/api"}) {
        const auto local = beast_example(base, {"DISCORD_TOKEN=x"});
        CHECK(local.exit_code == 1);
        CHECK(local.err.find("clear text") == std::string::npos);
    }
}

#ifdef DISCORD_RATELIMIT_INTEGRATION_HAVE_OPENSSL

TEST_CASE("rule 7: the Beast example checks a certificate against its subject alternative names",
          "[programs][hostile][examples]")
{
    for (const bool with_subject_alt_name : {true, false}) {
        DYNAMIC_SECTION((with_subject_alt_name ? "DNS:localhost: accepted" : "CN only: refused"))
        {
            const integration::tls_answer_server server{with_subject_alt_name};
            const integration::temp_file trusted{server.certificate_pem()};
            const auto r =
                beast_example("https://localhost:" + std::to_string(server.port()) + "/api",
                              {"DISCORD_TOKEN=x", "SSL_CERT_FILE=" + trusted.path.string()});
            INFO("stdout: " << r.out);
            REQUIRE_FALSE(r.timed_out);
            CHECK(r.exit_code == (with_subject_alt_name ? 0 : 1));
            CHECK(server.requests() == (with_subject_alt_name ? 1 : 0));
        }
    }
}

#endif

#endif
