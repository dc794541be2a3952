// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// request_options::max_rate_limit_wait: a wait that Discord's limits impose and that is known to
// be longer than the bound fails the request at once; waiting behind the bot's own queue does not
// count. Fake clock only.
#include <discord_ratelimit/engine.hpp>

#include "catch.hpp"
#include "engine_test_support.hpp"
#include "test_support.hpp"

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using namespace engine_test;
using drl::acquire_status;
using drl::completion_status;
using test_support::bucket_headers;
using test_support::headers_type;

namespace {

drl::route message_to(std::uint64_t channel)
{
    return drl::make_route("POST", "/channels/" + std::to_string(channel) + "/messages");
}

drl::request_options<clock_type> at_most(duration wait)
{
    drl::request_options<clock_type> o;
    o.max_rate_limit_wait = wait;
    return o;
}

/// A 429 of the route's own bucket asking for a week (604800 s, the longest valid Retry-After).
const headers_type week_429{{"x-ratelimit-limit", "5"},       {"x-ratelimit-remaining", "0"},
                            {"x-ratelimit-reset-after", "604800"},
                            {"x-ratelimit-bucket", "week"},   {"x-ratelimit-scope", "user"},
                            {"retry-after", "604800"},        {"via", "1.1 google"}};
constexpr std::string_view week_body =
    R"({"global": false, "message": "You are being rate limited.", "retry_after": 604800})";

} // namespace

TEST_CASE("rule 3: a 429 asking for a week fails the request at once under max_rate_limit_wait",
          "[engine][max_wait]")
{
    engine_type e;
    const auto first = e.acquire(message_to(1), t0, at_most(15min));
    REQUIRE(first.granted());
    const auto c = e.complete(first.ticket, 429, week_429, week_body, t0);
    CHECK(c.status == completion_status::failed);
    CHECK(c.error == drl::error::rate_limited);

    SECTION("a later request of the same bucket fails at once, saying how long it would wait")
    {
        const auto later = e.acquire(message_to(1), t0 + 1s, at_most(15min));
        CHECK(later.status == acquire_status::failed);
        CHECK(later.error == drl::error::rate_limited);
        CHECK(later.wait > 6 * 24h);
    }
    SECTION("a request of another channel is not affected")
    {
        CHECK(e.acquire(message_to(2), t0 + 1s, at_most(15min)).granted());
    }
    SECTION("without the bound, the request is retried after the week, as before")
    {
        engine_type unbounded;
        const auto r = unbounded.acquire(message_to(1), t0);
        REQUIRE(r.granted());
        const auto retry = unbounded.complete(r.ticket, 429, week_429, week_body, t0);
        CHECK(retry.status == completion_status::retry);
        REQUIRE(retry.retry_at);
        CHECK(*retry.retry_at >= t0 + 604800s);
    }
}

TEST_CASE("rule 3: a global 429 longer than the bound fails later requests at once",
          "[engine][max_wait]")
{
    engine_type e;
    const auto first = e.acquire(message_to(1), t0, at_most(60s));
    REQUIRE(first.granted());
    const headers_type global{{"x-ratelimit-global", "true"},
                              {"x-ratelimit-scope", "global"},
                              {"retry-after", "3600"},
                              {"via", "1.1 google"}};
    const auto c = e.complete(first.ticket, 429, global,
                              R"({"global": true, "message": "slow down", "retry_after": 3600})", t0);
    CHECK(c.status == completion_status::failed);
    CHECK(c.error == drl::error::rate_limited);
    const auto other = e.acquire(message_to(2), t0 + 1s, at_most(60s));
    CHECK(other.status == acquire_status::failed);
    CHECK(other.error == drl::error::rate_limited);
    // Within the bound, a request waits for the pause as usual.
    const auto patient = e.acquire(message_to(3), t0 + 1s, at_most(2h));
    CHECK(patient.status == acquire_status::waiting);
}

TEST_CASE("rule 3: a long backlog behind the bot's own requests still drains under the bound",
          "[engine][max_wait]")
{
    // Channel 1's bucket lets 1 request per second go; 100 requests are submitted at once with a
    // bound of 5 s: the last waits 99 s in the queue, yet each single wait is a 1 s reset.
    engine_type e;
    std::vector<drl::ticket_id> waiting;
    std::size_t done = 0;
    const auto first = e.acquire(message_to(1), t0, at_most(5s));
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(1, 0, "1"), "{}", t0).status ==
            completion_status::done);
    ++done;
    for (int i = 0; i < 99; ++i) {
        const auto r = e.acquire(message_to(1), t0, at_most(5s));
        REQUIRE(r.status == acquire_status::waiting);
        waiting.push_back(r.ticket);
    }
    for (int second = 1; second <= 200 && done < 100; ++second) {
        const auto now = t0 + std::chrono::seconds{second};
        for (const auto id : granted_by_advance(e, now)) {
            REQUIRE(e.complete(id, 200, bucket_headers(1, 0, "1"), "{}", now).status ==
                    completion_status::done);
            ++done;
        }
    }
    CHECK(done == 100);
    CHECK(e.stats(t0 + 200s).failed == 0);
}

TEST_CASE("rule 3: requests already queued fail when a long reset is learned",
          "[engine][max_wait]")
{
    // The first request probes the unknown bucket; two more wait behind it. Its answer says the
    // bucket is spent for 30 s: with a bound of 5 s, both fail now, not at the reset.
    engine_type e;
    const auto probe = e.acquire(message_to(1), t0, at_most(5s));
    REQUIRE(probe.granted());
    const auto second = e.acquire(message_to(1), t0, at_most(5s));
    const auto third = e.acquire(message_to(1), t0, at_most(5s));
    const auto unbounded = e.acquire(message_to(1), t0);
    REQUIRE(second.status == acquire_status::waiting);
    REQUIRE(third.status == acquire_status::waiting);
    REQUIRE(e.complete(probe.ticket, 200, bucket_headers(5, 0, "30"), "{}", t0 + 100ms).status ==
            completion_status::done);
    std::vector<drl::ticket_id> failed;
    e.advance(t0 + 100ms, [&](drl::ticket_id id, const drl::acquire_result<clock_type>& r) {
        if (r.status == acquire_status::failed) {
            CHECK(r.error == drl::error::rate_limited);
            failed.push_back(id);
        }
    });
    CHECK(failed == std::vector<drl::ticket_id>{second.ticket, third.ticket});
    // The request without a bound still waits for the reset, and goes then.
    CHECK(granted_by_advance(e, t0 + 31s) == std::vector<drl::ticket_id>{unbounded.ticket});
}

TEST_CASE("rule 3: a retry's backoff after a 5xx is not a rate limit", "[engine][max_wait]")
{
    drl::engine_config<clock_type> config;
    config.retry.initial_backoff = 20s;
    config.retry.max_backoff = 20s;
    config.jitter_seed = 7;
    engine_type e{config};
    const auto r = e.acquire(drl::make_route("GET", "/channels/1/messages"), t0, at_most(1s));
    REQUIRE(r.granted());
    const auto c = e.complete(r.ticket, 503, headers_type{{"via", "1.1 google"}}, "", t0);
    CHECK(c.status == completion_status::retry);
}

TEST_CASE("rule 5: bounded requests queue and cancel in linear work behind an ordinary reset",
          "[engine][max_wait]")
{
    // Channel 1's bucket is spent for 5 s; 4,000 requests bounded at 15 minutes queue behind it
    // and are then cancelled one by one. The reset is shorter than every bound: no walk looks
    // for requests to fail (it took N^2 / 2 steps when every drain walked the queue).
    constexpr std::uint64_t n = 4000;
    engine_type e;
    const auto first = e.acquire(message_to(1), t0, at_most(15min));
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(1, 0, "5"), "{}", t0).status ==
            completion_status::done);
    const auto before = e.stats(t0).queue_steps;
    std::vector<drl::ticket_id> waiting;
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto r = e.acquire(message_to(1), t0, at_most(15min));
        REQUIRE(r.status == acquire_status::waiting);
        waiting.push_back(r.ticket);
    }
    for (const auto id : waiting)
        REQUIRE_FALSE(e.cancel(id, t0));
    CHECK(e.stats(t0).queue_steps - before <= 4 * n);
}

namespace {

/// The failures an advance to `now` reports.
std::vector<drl::ticket_id> failed_by_advance(engine_type& e, time_point now)
{
    std::vector<drl::ticket_id> failed;
    e.advance(now, [&](drl::ticket_id id, const drl::acquire_result<clock_type>& r) {
        if (r.status == acquire_status::failed) {
            CHECK(r.error == drl::error::rate_limited);
            failed.push_back(id);
        }
    });
    return failed;
}

/// Probes out on channels 1 and 2, and a request bounded at 60 s waiting behind each.
struct two_channels_waiting {
    engine_type e;
    drl::acquire_result<clock_type> probe1 = e.acquire(message_to(1), t0, at_most(60s));
    drl::acquire_result<clock_type> probe2 = e.acquire(message_to(2), t0, at_most(60s));
    drl::acquire_result<clock_type> waiting1 = e.acquire(message_to(1), t0, at_most(60s));
    drl::acquire_result<clock_type> waiting2 = e.acquire(message_to(2), t0, at_most(60s));

    two_channels_waiting()
    {
        REQUIRE(probe1.granted());
        REQUIRE(probe2.granted());
        REQUIRE(waiting1.status == acquire_status::waiting);
        REQUIRE(waiting2.status == acquire_status::waiting);
    }
};

} // namespace

TEST_CASE("rule 3: requests already waiting fail when a long global pause is learned",
          "[engine][max_wait]")
{
    // Two probes go out on channels 1 and 2; a second request of each waits behind its probe.
    // Channel 1's probe meets a global 429 of an hour: every waiting request bounded at 60 s
    // fails now; the one bounded at two hours waits.
    two_channels_waiting s;
    auto& [e, probe1, probe2, waiting1, waiting2] = s;
    const auto patient = e.acquire(message_to(2), t0, at_most(2h));
    REQUIRE(patient.status == acquire_status::waiting);
    const headers_type global{{"x-ratelimit-global", "true"},
                              {"x-ratelimit-scope", "global"},
                              {"retry-after", "3600"},
                              {"via", "1.1 google"}};
    const auto c = e.complete(probe1.ticket, 429, global,
                              R"({"global": true, "message": "slow down", "retry_after": 3600})",
                              t0 + 100ms);
    CHECK(c.error == drl::error::rate_limited);
    CHECK(failed_by_advance(e, t0 + 100ms) ==
          std::vector<drl::ticket_id>{waiting1.ticket, waiting2.ticket});
    CHECK(e.cancel(patient.ticket, t0 + 200ms) == std::error_code{}); // still waiting: cancellable
}

TEST_CASE("rule 3: requests of a route fail when a long route block is learned",
          "[engine][max_wait]")
{
    // A shared-scope 429 of an hour blocks channel 1's messages: its waiting requests bounded at
    // 60 s fail now; channel 2's do not.
    two_channels_waiting s;
    auto& [e, probe1, probe2, waiting1, waiting2] = s;
    const headers_type shared{{"x-ratelimit-scope", "shared"},
                              {"retry-after", "3600"},
                              {"via", "1.1 google"}};
    const auto c = e.complete(probe1.ticket, 429, shared,
                              R"({"global": false, "message": "busy", "retry_after": 3600})",
                              t0 + 100ms);
    CHECK(c.error == drl::error::rate_limited);
    CHECK(failed_by_advance(e, t0 + 100ms) == std::vector<drl::ticket_id>{waiting1.ticket});
    CHECK(e.cancel(waiting2.ticket, t0 + 200ms) == std::error_code{});
}
