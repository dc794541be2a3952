// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Faults, over real HTTP: a real rate_limiter on the steady clock sends realistic batches to the
// fake Discord while it bans, fails, resets connections, stalls, changes hashes and limits, jumps
// its wall clock and sends absurd waits. Each test asserts that every request ends (success or a
// clear error, the expected one where it is known), that nothing is lost or resent where resending
// could duplicate, and that the invalid requests (401, 403, and 429s not of scope `shared`) the
// server saw stay under a stated bound. Windows are short (5 per 500 ms) so they roll fast; a
// watchdog fails a batch instead of hanging.

#include "fake_discord_server.hpp"
#include "fault_client.hpp"

#include <discord_ratelimit/error.hpp>

#include "catch.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
namespace fd = fake_discord;
using fault_tests::batch_runner;
using fault_tests::planned_request;
using fault_tests::request_result;
using fault_tests::scheduled_action;

namespace {

constexpr std::string_view post_message = "POST /channels/{channel_id}/messages";
constexpr std::string_view get_messages = "GET /channels/{channel_id}/messages";
constexpr std::string_view edit_message = "PATCH /channels/{channel_id}/messages/{id}";

/// Channels (snowflakes, as the route parser wants them).
constexpr std::uint64_t channels[] = {1200000000000000101u, 1200000000000000102u,
                                      1200000000000000103u};

/// Short windows so that a batch rolls through several of them in a second or two.
fd::rules fast_rules()
{
    fd::rules r;
    r.global_limit = 50;
    r.global_window = 1s;
    r.routes[std::string{post_message}] = {"messages", 5, 500ms};
    r.routes[std::string{get_messages}] = {"read", 5, 500ms};
    r.routes[std::string{edit_message}] = {"modify", 5, 500ms};
    r.routes["DELETE /channels/{channel_id}/messages/{id}"] = {"modify", 5, 500ms};
    r.default_rule = {"", 5, 500ms};
    return r;
}

fd::options fast_options()
{
    fd::options o;
    o.discord = fast_rules();
    o.latency = 2ms;
    return o;
}

std::string channel_path(std::uint64_t channel)
{
    return "/channels/" + std::to_string(channel);
}

planned_request post_to(std::uint64_t channel, int n)
{
    return {"POST",
            channel_path(channel) + "/messages",
            R"({"content": "fault test )" + std::to_string(n) + R"("})",
            {},
            {}};
}

planned_request read_from(std::uint64_t channel)
{
    return {"GET", channel_path(channel) + "/messages?limit=5", {}, {}, {}};
}

planned_request edit_in(std::uint64_t channel, int n)
{
    return {"PATCH",
            channel_path(channel) + "/messages/1200000000000009" + std::to_string(100 + n),
            R"({"content": "edited"})",
            {},
            {}};
}

/// `per_channel` POSTs and as many GETs on each channel, interleaved, all submitted at once.
std::vector<planned_request> mixed_batch(int per_channel)
{
    std::vector<planned_request> plan;
    for (int i = 0; i < per_channel; ++i)
        for (const std::uint64_t channel : channels) {
            plan.push_back(post_to(channel, i));
            plan.push_back(read_from(channel));
        }
    return plan;
}

std::size_t count_method(const std::vector<planned_request>& plan, std::string_view method)
{
    return static_cast<std::size_t>(std::count_if(
        plan.begin(), plan.end(), [&](const planned_request& p) { return p.method == method; }));
}

/// Entries of the server's log with this method and one of these statuses (any when empty).
std::size_t logged(const fd::server& server, std::string_view method,
                   std::vector<int> statuses = {})
{
    std::size_t n = 0;
    for (const fd::log_entry& e : server.request_log())
        if (e.method == method && (statuses.empty() || std::find(statuses.begin(), statuses.end(),
                                                                 e.status) != statuses.end()))
            ++n;
    return n;
}

/// The invalid requests the server answered, as Cloudflare counts them: 401, 403 and every 429
/// but those of scope `shared`.
std::size_t invalid_requests(const fd::server& server)
{
    std::size_t n = 0;
    for (const fd::log_entry& e : server.request_log())
        if (e.status == 401 || e.status == 403 || e.status == 429)
            ++n;
    return n - static_cast<std::size_t>(server.counters().shared_429);
}

/// Results that are a success (2xx).
std::size_t succeeded(const std::vector<request_result>& results)
{
    return static_cast<std::size_t>(
        std::count_if(results.begin(), results.end(), [](const auto& r) {
            return r.ended && !r.ec && r.status >= 200 && r.status < 300;
        }));
}

std::size_t failed_with(const std::vector<request_result>& results, drl::error why)
{
    return static_cast<std::size_t>(std::count_if(
        results.begin(), results.end(), [&](const auto& r) { return r.ended && r.ec == why; }));
}

/// Every request ended, and the watchdog never had to end the batch.
void require_all_ended(const batch_runner& runner, const std::vector<request_result>& results,
                       std::size_t planned)
{
    REQUIRE_FALSE(runner.watchdog_fired());
    REQUIRE(results.size() == planned);
    for (std::size_t i = 0; i < results.size(); ++i) {
        INFO("request " << i << ": " << results[i].ec.message());
        CHECK(results[i].ended);
    }
}

/// Engine settings that keep the tests fast: short backoffs and probe pauses.
drl::engine_config<std::chrono::steady_clock> fast_config()
{
    drl::engine_config<std::chrono::steady_clock> config;
    config.retry.initial_backoff = 50ms;
    config.retry.max_backoff = 400ms;
    config.default_retry_after = 300ms;
    return config;
}

constexpr auto attempt_timeout = 2s; ///< generous: nothing in these tests is slow but a stall

} // namespace

TEST_CASE("a ban's HTML 429 without Via fails every request with banned; traffic resumes after it",
          "[faults]")
{
    auto options = fast_options();
    options.ban = fd::ban_page::html; // the bot starts while banned
    fd::server server{options};
    auto config = fast_config();
    config.ban_cooldown = 300ms;
    batch_runner runner{server, attempt_timeout, config};

    const auto plan = mixed_batch(4); // 24 requests, 6 (route, channel) pairs
    const auto banned_wave = runner.run(plan);
    require_all_ended(runner, banned_wave, plan.size());
    CHECK(failed_with(banned_wave, drl::error::banned) == plan.size());
    // Every bucket is unknown, so each (route, channel) sends one probe and waits for its
    // headers: at most 6 requests reach Cloudflare, and none is retried into the ban.
    const auto seen_banned = server.counters().banned;
    CHECK(seen_banned >= 1);
    CHECK(seen_banned <= 6);
    CHECK(server.counters().requests == seen_banned);
    CHECK(invalid_requests(server) <= 6);

    // Cloudflare lifts the ban; once the cool-down is over, the same limiter sends again.
    server.lift_ban();
    auto later = mixed_batch(4);
    for (auto& p : later)
        p.submit_at = 600ms; // the cool-down (300 ms) began before the first batch ended
    const auto recovered = runner.run(later);
    require_all_ended(runner, recovered, later.size());
    CHECK(succeeded(recovered) == later.size());
    CHECK(server.counters().banned == seen_banned);
    CHECK(server.counters().rate_limited() == 0);
}

TEST_CASE("a ban's 'error code: 1015' mid-stream stops every channel at once", "[faults]")
{
    fd::server server{fast_options()};
    batch_runner runner{server, attempt_timeout, fast_config()};

    // Three channels, each a chain of 10 requests sent one after another (as a bot replying in
    // each channel): one request in flight per channel at most.
    std::vector<planned_request> plan;
    for (int step = 0; step < 10; ++step)
        for (const std::uint64_t channel : channels) {
            plan.push_back(step % 2 == 0 ? post_to(channel, step) : read_from(channel));
            if (step > 0)
                plan.back().after = plan.size() - 1 - std::size(channels);
        }
    // Cloudflare bans once the fourth request of the first channel was answered.
    const std::vector<scheduled_action> actions{{3 * std::size(channels), 0ms, [&] {
                                                     server.ban(fd::ban_page::error_1015);
                                                 }}};
    const auto results = runner.run(plan, actions);
    require_all_ended(runner, results, plan.size());

    const std::size_t ok = succeeded(results);
    const std::size_t banned = failed_with(results, drl::error::banned);
    CHECK(ok + banned == plan.size()); // a success or the ban: nothing else
    CHECK(ok >= 4);                    // the first channel's first four
    CHECK(banned >= 6); // and the rest of it (the other channels may have finished before)
    // One request in flight per channel when the ban came: at most 3 reached Cloudflare, and
    // the library sent nothing after it learned of the ban (default cool-down: 1 hour).
    const auto seen = server.counters();
    CHECK(seen.banned >= 1);
    CHECK(seen.banned <= std::size(channels));
    CHECK(seen.requests == ok + seen.banned); // every request arrived at most once
    CHECK(seen.rate_limited() == 0);
    CHECK(invalid_requests(server) <= std::size(channels));
    // Once a channel's request was banned, none of its later requests reached the server.
    for (std::size_t c = 0; c < std::size(channels); ++c) {
        bool banned_before = false;
        for (std::size_t i = c; i < plan.size(); i += std::size(channels)) {
            if (banned_before)
                CHECK(results[i].ec == drl::error::banned);
            banned_before = banned_before || results[i].ec == drl::error::banned;
        }
    }
}

TEST_CASE("a burst of 500, 502 and 503 answers: reads are retried, a POST Discord may have taken "
          "is not resent, and traffic recovers",
          "[faults]")
{
    fd::server server{fast_options()};
    auto config = fast_config();
    config.retry.max_attempts = 8; // more than the burst: every retried request recovers
    batch_runner runner{server, attempt_timeout, config};

    const auto plan = mixed_batch(6); // 36 requests: 18 POSTs, 18 GETs
    const auto burst = [&] {
        for (const int status : {500, 502, 503, 500, 502, 503, 503, 500}) {
            fd::reply r;
            r.status = status;
            r.headers = {{"content-type", "text/plain"}, {"via", "1.1 google"}};
            r.body = status == 503 ? "upstream connect error or disconnect/reset before headers"
                                   : "internal error";
            server.inject(std::move(r));
        }
    };
    // The burst answers the next 8 requests after the first one ended: mid-stream.
    const auto results = runner.run(plan, {{0, 0ms, burst}});
    require_all_ended(runner, results, plan.size());
    CHECK(server.counters().injected == 8);

    // A POST answered 500 or 502 may have been taken: it fails with not_resent and is never
    // sent again. A POST answered 503 was refused: it is resent. Every GET is retried.
    const std::size_t posts_lost = logged(server, "POST", {500, 502});
    const std::size_t posts_refused = logged(server, "POST", {503});
    CHECK(failed_with(results, drl::error::not_resent) == posts_lost);
    CHECK(succeeded(results) == plan.size() - posts_lost);
    CHECK(logged(server, "POST") == count_method(plan, "POST") + posts_refused);
    CHECK(logged(server, "GET") ==
          count_method(plan, "GET") + logged(server, "GET", {500, 502, 503}));
    for (std::size_t i = 0; i < plan.size(); ++i)
        if (plan[i].method == "GET")
            CHECK_FALSE(results[i].ec);
    // A 5xx teaches nothing, and the engine counts its request as used: no 429.
    CHECK(invalid_requests(server) == 0);
}

TEST_CASE("a connection reset in the middle of a response: a GET is retried, a POST is not resent",
          "[faults]")
{
    fd::server server{fast_options()};
    batch_runner runner{server, attempt_timeout, fast_config()};

    auto plan = mixed_batch(5); // 30 requests
    for (int i = 0; i < 6; ++i)
        plan.push_back(edit_in(channels[static_cast<std::size_t>(i) % 3], i));
    const auto faults = [&] {
        server.inject_fault(fd::fault::reset_mid_response, "POST");
        server.inject_fault(fd::fault::reset_mid_response, "GET");
        server.inject_fault(fd::fault::reset_mid_response, "PATCH");
        server.inject_fault(fd::fault::reset_before_response, "POST");
        server.inject_fault(fd::fault::reset_mid_response, "GET");
    };
    const auto results = runner.run(plan, {{0, 0ms, faults}});
    require_all_ended(runner, results, plan.size());
    CHECK(server.pending_faults() == 0);

    // The two POSTs whose answers were cut off reached Discord: each fails with not_resent and
    // arrived exactly once, as did every other POST. The GETs and the PATCH (idempotent) are
    // sent again and succeed.
    CHECK(failed_with(results, drl::error::not_resent) == 2);
    CHECK(succeeded(results) == plan.size() - 2);
    for (std::size_t i = 0; i < plan.size(); ++i)
        if (results[i].ec)
            CHECK(plan[i].method == "POST");
    CHECK(logged(server, "POST") == count_method(plan, "POST"));
    CHECK(logged(server, "GET") == count_method(plan, "GET") + 2);
    CHECK(logged(server, "PATCH") == count_method(plan, "PATCH") + 1);
    // The lost answers' requests are counted as used by the engine: no 429.
    CHECK(invalid_requests(server) == 0);
}

TEST_CASE("a server too slow to answer: the POST that timed out is not resent, GETs are retried",
          "[faults]")
{
    fd::server server{fast_options()};
    // Loopback answers take milliseconds; a stalled one never comes.
    batch_runner runner{server, 300ms, fast_config()};

    const auto plan = mixed_batch(5); // 30 requests
    const auto stalls = [&] {
        server.inject_fault(fd::fault::stall, "POST");
        server.inject_fault(fd::fault::stall, "GET");
        server.inject_fault(fd::fault::stall, "GET");
    };
    const auto results = runner.run(plan, {{0, 0ms, stalls}});
    require_all_ended(runner, results, plan.size());
    CHECK(server.pending_faults() == 0);

    // The stalled POST may have been taken (it was: the server counted it): it fails with
    // not_resent, and the server saw it exactly once, like every other POST.
    std::size_t stalled_post = plan.size();
    for (std::size_t i = 0; i < plan.size(); ++i)
        if (results[i].ec) {
            CHECK(plan[i].method == "POST");
            CHECK(results[i].ec == drl::error::not_resent);
            stalled_post = i;
        }
    CHECK(stalled_post < plan.size());
    CHECK(failed_with(results, drl::error::not_resent) == 1);
    CHECK(logged(server, "POST") == count_method(plan, "POST"));
    std::size_t stalled_logged = 0;
    for (const fd::log_entry& e : server.request_log())
        stalled_logged += e.injected_fault == fd::fault::stall ? 1u : 0u;
    CHECK(stalled_logged == 3);
    // Both stalled GETs timed out and were sent again.
    CHECK(logged(server, "GET") == count_method(plan, "GET") + 2);
    CHECK(succeeded(results) == plan.size() - 1);
    CHECK(invalid_requests(server) == 0);
}

TEST_CASE("a bucket hash that changes mid-stream, and a limit that shrinks between windows",
          "[faults]")
{
    fd::server server{fast_options()};
    batch_runner runner{server, attempt_timeout, fast_config()};

    SECTION("the message route moves to a new hash, then onto the hash edits use")
    {
        // POSTs and PATCHes on three channels, submitted in three waves 400 ms apart.
        std::chrono::steady_clock::time_point merged_at{};
        std::vector<planned_request> plan;
        for (int wave = 0; wave < 3; ++wave)
            for (int i = 0; i < 4; ++i)
                for (const std::uint64_t channel : channels) {
                    plan.push_back(post_to(channel, wave * 4 + i));
                    plan.back().submit_at = std::chrono::milliseconds{400 * wave};
                    plan.push_back(edit_in(channel, wave * 4 + i));
                    plan.back().submit_at = std::chrono::milliseconds{400 * wave};
                }
        const std::vector<scheduled_action> actions{
            {std::nullopt, 300ms,
             [&] {
                 server.update_rules([](fd::rules& r) {
                     r.routes[std::string{post_message}] = {"messages-2", 5, 500ms};
                 });
             }},
            {std::nullopt, 700ms, [&] {
                 merged_at = std::chrono::steady_clock::now();
                 server.update_rules([](fd::rules& r) {
                     r.routes[std::string{post_message}] = {"modify", 5, 500ms};
                 });
             }}};
        const auto results = runner.run(plan, actions);
        require_all_ended(runner, results, plan.size());
        CHECK(succeeded(results) == plan.size());
        // Moving to a new hash opens a fresh window there: nothing to overrun, no 429.
        std::size_t before_merge = 0;
        for (const fd::log_entry& e : server.request_log())
            before_merge += e.status == 429 && e.arrival < merged_at ? 1u : 0u;
        CHECK(before_merge == 0);
        // Moving onto the edits' hash merges two windows into one of 5 while the engine still
        // holds them apart: what it granted on both routes before an answer named the new hash
        // (at most the message bucket's limit, 5, per channel; 1 per channel in practice, the
        // POST and the PATCH that share the merged window's last request) can meet a spent
        // window. Each such 429 is waited out and retried.
        const auto invalid = invalid_requests(server);
        INFO("429s after the hash changes: " << invalid);
        CHECK(invalid <= 5 * std::size(channels));
    }

    SECTION("a route's limit shrinks from 5 to 2")
    {
        std::vector<planned_request> plan;
        for (int wave = 0; wave < 4; ++wave)
            for (int i = 0; i < 4; ++i)
                for (const std::uint64_t channel : {channels[0], channels[1]}) {
                    plan.push_back(read_from(channel));
                    plan.back().submit_at = std::chrono::milliseconds{300 * wave};
                }
        const std::vector<scheduled_action> actions{
            {std::nullopt, 450ms, [&] {
                 server.update_rules(
                     [](fd::rules& r) { r.routes[std::string{get_messages}].limit = 2; });
             }}};
        const auto results = runner.run(plan, actions);
        require_all_ended(runner, results, plan.size());
        CHECK(succeeded(results) == plan.size());
        // The new limit applies to the open windows at once: in the window where it shrank, the
        // engine may have granted up to the old limit before an answer showed the new one, so
        // at most 5 - 2 = 3 requests per channel meet a spent window; from the next answer on,
        // it knows the limit is 2.
        const auto invalid = invalid_requests(server);
        INFO("429s after the limit shrank: " << invalid);
        CHECK(invalid <= std::size_t{3 * 2});
    }
}

TEST_CASE("the wall clock jumping 5 minutes forward and back changes nothing: zero 429s",
          "[faults]")
{
    fd::server server{fast_options()};
    batch_runner runner{server, attempt_timeout, fast_config()};

    // 60 requests in four waves 300 ms apart: traffic flows while Discord's clock (the
    // X-RateLimit-Reset it sends) jumps +5 minutes, then -5 minutes from the system clock.
    std::vector<planned_request> plan;
    for (int wave = 0; wave < 4; ++wave)
        for (int i = 0; i < 5; ++i)
            for (const std::uint64_t channel : channels) {
                plan.push_back(i % 2 == 0 ? post_to(channel, i) : read_from(channel));
                plan.back().submit_at = std::chrono::milliseconds{300 * wave};
            }
    const std::vector<scheduled_action> actions{{std::nullopt, 250ms,
                                                 [&] {
                                                     server.set_skew(5min);
                                                 }},
                                                {std::nullopt, 650ms,
                                                 [&] {
                                                     server.set_skew(-5min);
                                                 }},
                                                {std::nullopt, 1050ms, [&] {
                                                     server.set_skew(0ms);
                                                 }}};
    const auto results = runner.run(plan, actions);
    require_all_ended(runner, results, plan.size());
    CHECK(succeeded(results) == plan.size());
    // Reset-After on the monotonic clock decides every wait; Reset is never trusted for it.
    CHECK(server.counters().rate_limited() == 0);
    CHECK(invalid_requests(server) == 0);
}

namespace {

/// A 429 of scope `user` on the GET route's bucket with these Retry-After header and JSON
/// retry_after texts (the body is Discord's JSON only when `json_retry_after` is not empty).
fd::reply user_429(std::string retry_after, std::string json_retry_after)
{
    fd::reply r;
    r.status = 429;
    r.headers = {{"content-type", "application/json"},
                 {"via", "1.1 google"},
                 {"retry-after", std::move(retry_after)},
                 {"x-ratelimit-limit", "5"},
                 {"x-ratelimit-remaining", "0"},
                 {"x-ratelimit-bucket", "read"},
                 {"x-ratelimit-scope", "user"}};
    r.body = json_retry_after.empty()
                 ? R"({"message": "You are being rate limited.", "global": false})"
                 : R"({"message": "You are being rate limited.", "retry_after": )" +
                       json_retry_after + R"(, "global": false})";
    return r;
}

/// A 200 on the GET route's bucket with this Reset-After text.
fd::reply ok_with_reset_after(std::string reset_after, std::string remaining)
{
    fd::reply r;
    r.status = 200;
    r.headers = {{"content-type", "application/json"},
                 {"via", "1.1 google"},
                 {"x-ratelimit-limit", "5"},
                 {"x-ratelimit-remaining", std::move(remaining)},
                 {"x-ratelimit-reset-after", std::move(reset_after)},
                 {"x-ratelimit-bucket", "read"}};
    r.body = "[]";
    return r;
}

} // namespace

TEST_CASE("Retry-After and Reset-After of 0, negative, fractional, huge and non-numeric values "
          "neither spin, nor hang, nor wait absurdly",
          "[faults]")
{
    fd::server server{fast_options()};
    batch_runner runner{server, attempt_timeout, fast_config()};

    // Reads on three channels, in chains of 8 one after another, so that the injected answers
    // land on requests that are already known to the engine.
    std::vector<planned_request> plan;
    for (int step = 0; step < 8; ++step)
        for (const std::uint64_t channel : channels) {
            plan.push_back(read_from(channel));
            if (step > 0)
                plan.back().after = plan.size() - 1 - std::size(channels);
        }
    const std::vector<fd::reply> odd_answers{
        user_429("0", "0"),
        user_429("-5", "-5.5"),
        user_429("0.25", "0.125"),
        user_429("1000000000", "1e9"),
        user_429("soon", ""),
        user_429("1e9", "\"later\""),
        ok_with_reset_after("0", "0"),
        ok_with_reset_after("-1", "0"),
        ok_with_reset_after("0.150", "0"),
        ok_with_reset_after("1000000000", "0"),
        ok_with_reset_after("1e9", "0"),
        ok_with_reset_after("abc", "0"),
    };
    const auto inject_all = [&] {
        for (const auto& r : odd_answers)
            server.inject(r);
    };
    const auto results = runner.run(plan, {{0, 0ms, inject_all}}, 20s);
    require_all_ended(runner, results, plan.size());
    CHECK(server.counters().injected == odd_answers.size());
    CHECK(succeeded(results) == plan.size());
    // No spinning: each injected 429 costs one retry, nothing more (the injected 200s are the
    // requests' own answers). Invalid waits fall back to Reset-After or `default_retry_after`
    // (300 ms here), so the batch ends in seconds: a 1e9-second wait would trip the watchdog.
    const std::size_t injected_429s = 6;
    CHECK(server.counters().requests == plan.size() + injected_429s);
    CHECK(server.counters().rate_limited() == 0);
    CHECK(invalid_requests(server) == injected_429s);
}
