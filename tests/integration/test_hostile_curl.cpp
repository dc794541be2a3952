// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
//
// The libcurl example (examples/curl_threads.cpp) against servers that misbehave on purpose and
// against mistakes that would show the bot token: each test runs the program as a child process,
// bounded in time, and checks what it did, what it printed and how it ended.

#include "integration/hostile_server.hpp"
#include "integration/run_program.hpp"

#include "catch.hpp"

#ifdef DISCORD_RATELIMIT_PROGRAM_CURL_THREADS

#include "integration/temp_file.hpp"
#ifdef DISCORD_RATELIMIT_INTEGRATION_HAVE_OPENSSL
#include "integration/tls_answer_server.hpp"
#endif

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;

namespace {

constexpr std::string_view token = "hostile-curl-token.not-a-secret";

/// A run of curl_threads: one thread, one message to channel 700 of `base`, the token from the
/// environment unless `env` says otherwise, a deadline of a few seconds.
integration::program_run curl_run(const std::string& base, std::vector<std::string> extra_args = {},
                                  std::vector<std::string> env = {"DISCORD_TOKEN=" +
                                                                  std::string{token}})
{
    integration::program_run run;
    run.args = {DISCORD_RATELIMIT_PROGRAM_CURL_THREADS, "--threads", "1", "--count", "1"};
    run.args.insert(run.args.end(), extra_args.begin(), extra_args.end());
    run.args.push_back(base);
    run.args.emplace_back("700");
    run.env = std::move(env);
    run.deadline = 5s;
    return run;
}

/// Whatever happened, the token never shows in what the program printed.
void require_token_unseen(const integration::program_result& r)
{
    CHECK(r.out.find(token) == std::string::npos);
    CHECK(r.err.find(token) == std::string::npos);
}

/// The program refused the response as too large: said so, failed normally, not by a signal.
void require_too_large(const integration::program_result& r)
{
    INFO("stdout: " << r.out);
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 1);
    CHECK((r.out + r.err).find("response too large") != std::string::npos);
    require_token_unseen(r);
}

/// The Authorization field of a request head, or empty.
std::string authorization_of(const std::string& head)
{
    const std::string name = "\r\nAuthorization: ";
    const auto at = head.find(name);
    if (at == std::string::npos)
        return {};
    const auto from = at + name.size();
    return head.substr(from, head.find("\r\n", from) - from);
}

/// `200 {}`, with `extra_fields` (each ending in CRLF).
std::string ok_response(std::string_view extra_fields = {})
{
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n" +
           std::string{extra_fields} + "\r\n{}";
}


} // namespace

TEST_CASE("rule 1: curl_threads refuses an endless chunked body after 8 MiB",
          "[programs][hostile][curl]")
{
    // A chunk of 16 KiB, again and again: the body never ends.
    integration::hostile_server server{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                        "4000\r\n" + std::string(0x4000, 'x') + "\r\n",
                                        std::size_t{256} << 20, false}};
    const auto r = integration::run_program(curl_run(server.base()));
    require_too_large(r);
    // 8 MiB read, plus what the sockets' buffers held: far from the 256 MiB on offer.
    CHECK(server.bytes_written() < (std::size_t{48} << 20));
    // A POST that may have arrived is not sent again.
    CHECK(server.requests() == 1);
}

TEST_CASE("rule 1: curl_threads refuses a body whose Content-Length is over 8 MiB",
          "[programs][hostile][curl]")
{
    integration::hostile_server server{{"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n",
                                        std::string(0x4000, 'x'), std::size_t{256} << 20, false}};
    const auto r = integration::run_program(curl_run(server.base()));
    require_too_large(r);
    CHECK(server.bytes_written() < (std::size_t{48} << 20));
    CHECK(server.requests() == 1);
}

TEST_CASE("rule 1: curl_threads refuses endless header lines", "[programs][hostile][curl]")
{
    integration::hostile_server server{{"HTTP/1.1 200 OK\r\n",
                                        "X-Filler: " + std::string(100, 'a') + "\r\n",
                                        std::size_t{64} << 20, false}};
    const auto r = integration::run_program(curl_run(server.base()));
    require_too_large(r);
    CHECK(server.bytes_written() < (std::size_t{32} << 20));
    CHECK(server.requests() == 1);
}

TEST_CASE("rule 4: curl_threads refuses endless interim responses", "[programs][hostile][curl]")
{
    // "100 Continue" again and again: each one starts a new response, none is final.
    const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
    integration::hostile_server server{{interim, interim, std::size_t{64} << 20, false}};
    const auto r = integration::run_program(curl_run(server.base()));
    require_too_large(r);
    CHECK(server.bytes_written() < (std::size_t{32} << 20));
}

TEST_CASE("rule 1: curl_threads under a memory limit fails normally on an endless body",
          "[programs][hostile][curl]")
{
    // Without a bound the body grows until an allocation fails; std::bad_alloc must not abort it.
#ifdef DISCORD_RATELIMIT_SANITIZED
    // AddressSanitizer reserves terabytes of address space for its shadow memory: no limit on the
    // address space leaves it room to start. The other builds run this test.
    SUCCEED("skipped under the sanitizers");
    return;
#endif
    integration::hostile_server server{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                        "4000\r\n" + std::string(0x4000, 'x') + "\r\n",
                                        std::size_t{2} << 30, false}};
    auto run = curl_run(server.base());
    run.address_space_limit = std::size_t{512} << 20;
    run.deadline = 20s;
    const auto r = integration::run_program(run);
    INFO("stdout: " << r.out);
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.signal == 0); // not SIGABRT from std::terminate
    CHECK(r.exit_code == 1);
    require_token_unseen(r);
}

TEST_CASE("rule 4: curl_threads counts 103 and 100 then 200 as a success on the final headers",
          "[programs][hostile][curl]")
{
    // The interim responses carry rate-limit fields that would hold the second message 30 s; the
    // final response's fields hold it 1.5 s. Only the final ones may reach the limiter.
    const std::string interim = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n"
                                "X-RateLimit-Limit: 1\r\nX-RateLimit-Remaining: 0\r\n"
                                "X-RateLimit-Reset-After: 30\r\nX-RateLimit-Bucket: interim\r\n\r\n"
                                "HTTP/1.1 100 Continue\r\n\r\n";
    integration::hostile_server server{
        {interim + ok_response("X-RateLimit-Limit: 1\r\nX-RateLimit-Remaining: 0\r\n"
                               "X-RateLimit-Reset-After: 1.5\r\nX-RateLimit-Bucket: final\r\n"),
         "", std::size_t{1} << 20, false}};
    auto run = curl_run(server.base());
    run.args[4] = "2"; // --count 2: two messages to channel 700, one after the other
    run.deadline = 10s;
    const auto start = std::chrono::steady_clock::now();
    const auto r = integration::run_program(run);
    const auto took = std::chrono::steady_clock::now() - start;
    INFO("stdout: " << r.out);
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("sent 2, ok 2, failed 0") != std::string::npos);
    CHECK(server.requests() == 2);
    CHECK(took >= 1400ms); // the second message waited for the final response's window
    require_token_unseen(r);
}

TEST_CASE("rule 7: curl_threads refuses --token and never prints the token",
          "[programs][hostile][curl]")
{
    integration::hostile_server server{{ok_response(), "", std::size_t{1} << 20, false}};
    for (const std::vector<std::string>& form :
         {std::vector<std::string>{"--token", std::string{token}},
          std::vector<std::string>{"--token=" + std::string{token}}}) {
        const auto r = integration::run_program(curl_run(server.base(), form, {}));
        INFO("stdout: " << r.out);
        INFO("stderr: " << r.err);
        REQUIRE_FALSE(r.timed_out);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("--token is refused") != std::string::npos);
        require_token_unseen(r);
    }
    CHECK(server.requests() == 0);
    // --help says why.
    integration::program_run help;
    help.args = {DISCORD_RATELIMIT_PROGRAM_CURL_THREADS, "--help"};
    help.deadline = 5s;
    const auto h = integration::run_program(help);
    CHECK(h.exit_code == 0);
    CHECK(h.out.find("/proc/PID/cmdline") != std::string::npos);
}

TEST_CASE("rule 7: curl_threads takes the token from DISCORD_TOKEN or --token-file",
          "[programs][hostile][curl]")
{
    integration::hostile_server server{{ok_response(), "", std::size_t{1} << 20, false}};
    const integration::temp_file file{std::string{token} + "\n"};
    const std::string expected = "Bot " + std::string{token};

    SECTION("DISCORD_TOKEN")
    {
        const auto r = integration::run_program(curl_run(server.base()));
        INFO("stderr: " << r.err);
        CHECK(r.exit_code == 0);
        require_token_unseen(r);
    }
    SECTION("--token-file PATH")
    {
        const auto r =
            integration::run_program(curl_run(server.base(), {"--token-file", file.path}, {}));
        INFO("stderr: " << r.err);
        CHECK(r.exit_code == 0);
        require_token_unseen(r);
    }
    SECTION("--token-file - (standard input)")
    {
        auto run = curl_run(server.base(), {"--token-file", "-"}, {});
        run.input = std::string{token} + "\n";
        const auto r = integration::run_program(run);
        INFO("stderr: " << r.err);
        CHECK(r.exit_code == 0);
        require_token_unseen(r);
    }
    SECTION("no token at all")
    {
        const auto r = integration::run_program(curl_run(server.base(), {}, {}));
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("no token") != std::string::npos);
    }
    for (const auto& head : server.request_heads())
        CHECK(authorization_of(head) == expected);
}

TEST_CASE("rule 7: curl_threads refuses http:// to a host other than this machine",
          "[programs][hostile][curl]")
{
    // 192.0.2.1 (TEST-NET-1) answers nothing: a program that tried to connect would hang there.
    const auto r = integration::run_program(curl_run("http://192.0.2.1/api"));
    INFO("stdout: " << r.out);
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("clear text") != std::string::npos);
    require_token_unseen(r);
    // The same to a loopback address is allowed; a name, even localhost, is looked up and may
    // resolve to anything: refused.
    integration::hostile_server server{{ok_response(), "", std::size_t{1} << 20, false}};
    CHECK(integration::run_program(curl_run(server.base())).exit_code == 0);
    CHECK(integration::run_program(
              curl_run("http://localhost:" + std::to_string(server.port()) + "/api"))
              .exit_code == 2);
}

#ifdef DISCORD_RATELIMIT_INTEGRATION_HAVE_OPENSSL

namespace {


integration::program_result run_trusting(const integration::tls_answer_server& server, const integration::temp_file& ca)
{
    auto run = curl_run("https://localhost:" + std::to_string(server.port()) + "/api");
    // Debian's libcurl reads its built-in CA bundle and ignores SSL_CERT_FILE; curl_threads takes
    // CURL_CA_BUNDLE, as the curl tool does.
    run.env.push_back("CURL_CA_BUNDLE=" + ca.path.string());
    return integration::run_program(run);
}

} // namespace

TEST_CASE("rule 7: curl_threads refuses a certificate naming the host in its common name only",
          "[programs][hostile][curl]")
{
    SECTION("a subject alternative name DNS:localhost: accepted")
    {
        const integration::tls_answer_server server{true};
        const integration::temp_file ca{server.certificate_pem()};
        const auto r = run_trusting(server, ca);
        INFO("stdout: " << r.out);
        INFO("stderr: " << r.err);
        REQUIRE_FALSE(r.timed_out);
        CHECK(r.exit_code == 0);
        CHECK(server.requests() == 1);
        require_token_unseen(r);
    }
    SECTION("CN=localhost only: refused before any request")
    {
        const integration::tls_answer_server server{false};
        const integration::temp_file ca{server.certificate_pem()};
        const auto r = run_trusting(server, ca);
        INFO("stdout: " << r.out);
        INFO("stderr: " << r.err);
        REQUIRE_FALSE(r.timed_out);
        CHECK(r.exit_code == 1);
        CHECK(server.connections() >= 1);
        CHECK(server.requests() == 0);
        CHECK((r.out + r.err).find("certificate") != std::string::npos);
        require_token_unseen(r);
    }
}

#endif // DISCORD_RATELIMIT_INTEGRATION_HAVE_OPENSSL

#endif // DISCORD_RATELIMIT_PROGRAM_CURL_THREADS
