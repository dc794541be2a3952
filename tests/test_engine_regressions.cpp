// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Regression tests for what the fuzzers and the load tests found (fuzz/corpus/fuzz_engine/
// regression_*.bin replays each of the first five in the engine fuzzer): every ticket ends, none
// waits with nothing left to wake it, no header causes undefined behaviour, and every request is
// counted once. (What the load tests found, memory an idle engine kept, tests/load/ measures.)
// Last, a rule of the global-limit walk that no other test pinned.
#include <discord_ratelimit/engine.hpp>

#include "catch.hpp"
#include "engine_test_support.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

namespace {

using namespace engine_test;
using drl::acquire_status;
using drl::completion_status;
using test_support::headers_type;

const headers_type via_only{{"via", "1.1 google"}};

/// Drives the engine as a caller does (asks again for `id` at `now`, then calls `advance` at each
/// `next_wakeup`) until `id` is granted. Returns when; no value when it failed, or when nothing was
/// left to wake it, or when `limit` passed first.
std::optional<time_point> granted_at(engine_type& e, drl::ticket_id id, time_point now,
                                     time_point limit)
{
    const auto first = e.acquire(id, now);
    if (first.granted())
        return now;
    if (first.status == acquire_status::failed)
        return std::nullopt;
    for (int step = 0; step < 100'000; ++step) {
        const auto next = e.next_wakeup();
        if (!next)
            return std::nullopt; // waiting, with nothing left to wake it: a hang
        now = std::max(now, *next);
        if (now > limit)
            return std::nullopt;
        bool granted = false;
        bool failed = false;
        e.advance(now, [&](drl::ticket_id t, const drl::acquire_result<clock_type>& r) {
            if (t == id) {
                granted = r.granted();
                failed = !r.granted();
            }
        });
        if (granted)
            return now;
        if (failed)
            return std::nullopt;
    }
    return std::nullopt;
}

const drl::route pins = drl::make_route("GET", "/channels/1/pins");

} // namespace

TEST_CASE("regression: a 429 without rate-limit headers does not strand its retry", "[engine]")
{
    // It was charged to its bucket as a lost request, in a window of unknown length that ended as
    // it opened: at the retry, nothing was granted and no timer was left.
    engine_type e;
    const auto a = e.acquire(pins, t0);
    REQUIRE(a.granted());
    const auto c = e.complete(a.ticket, 429, via_only, "", t0 + 10ms);
    REQUIRE(c.status == completion_status::retry);
    REQUIRE(c.retry_at);
    CHECK(*c.retry_at == t0 + 10ms + e.config().default_retry_after);
    const auto at = granted_at(e, a.ticket, *c.retry_at, t0 + 1min);
    REQUIRE(at);
    CHECK(*at == *c.retry_at);
}

TEST_CASE("regression: a lost probe, then a headerless 429, with default_retry_after 0", "[engine]")
{
    engine_type::config_type config;
    config.default_retry_after = 0s;
    engine_type e{config};
    const auto a = e.acquire(pins, t0);
    REQUIRE(a.granted());
    REQUIRE(e.complete(a.ticket, drl::transport_error::network, t0).status ==
            completion_status::retry);
    REQUIRE_FALSE(e.cancel(a.ticket, t0));
    const auto b = e.acquire(pins, t0);
    REQUIRE(b.granted());
    const auto c = e.complete(
        b.ticket, 429, headers_type{{"x-ratelimit-remaining", "0"}, {"via", "1.1 google"}}, "", t0);
    REQUIRE(c.status == completion_status::retry);
    CHECK(granted_at(e, b.ticket, c.retry_at.value_or(t0), t0 + 1min));
}

TEST_CASE("regression: X-RateLimit-Limit 0 teaches nothing; the bucket's waiters still go",
          "[engine]")
{
    engine_type e;
    const auto a = e.acquire(pins, t0);
    REQUIRE(a.granted());
    const auto b = e.acquire(pins, t0);
    REQUIRE(b.status == acquire_status::waiting); // behind the probe
    const auto c = e.complete(a.ticket, 200,
                              headers_type{{"x-ratelimit-limit", "0"},
                                           {"x-ratelimit-remaining", "0"},
                                           {"via", "1.1 google"}},
                              "{}", t0 + 10ms);
    REQUIRE(c.status == completion_status::done);
    CHECK_FALSE(e.registry().find_bucket(e.registry().resolve(pins, t0 + 10ms))->state.limit());
    CHECK(granted_at(e, b.ticket, t0 + 10ms, t0 + 1min));
}

TEST_CASE("regression: a Date outside what nanoseconds count, or far from Reset, is not used",
          "[engine]")
{
    // A Date before 1970 or after 2262 overflowed the conversion to nanoseconds (UBSan reports it
    // in the asan build); a Reset centuries after the Date named a wait past any clock's range.
    const std::string date = GENERATE(std::string{"Sat, 01 Jan 0000 00:00:00 GMT"},
                                      std::string{"Fri, 31 Dec 9999 23:59:59 GMT"},
                                      std::string{"Mon, 30 Nov 2026 00:00:00 GMT"});
    INFO("Date: " << date);
    engine_type e;
    const auto a = e.acquire(pins, t0);
    REQUIRE(a.granted());
    const headers_type headers{{"x-ratelimit-reset", "99999999999.5"}, // the year 5138
                               {"date", date},
                               {"via", "1.1 google"}};
    const auto c = e.complete(a.ticket, 429, headers, "", t0 + 10ms);
    REQUIRE(c.status == completion_status::retry);
    REQUIRE(c.retry_at);
    // No usable wait: the default applies, and the retry goes then.
    CHECK(*c.retry_at == t0 + 10ms + e.config().default_retry_after);
    CHECK(granted_at(e, a.ticket, *c.retry_at, t0 + 1min));
}

TEST_CASE("regression: a ticket failed by its max_wait and cancelled before the report counts once",
          "[engine]")
{
    engine_type e;
    const auto a = e.acquire(pins, t0);
    REQUIRE(a.granted());
    engine_type::options_type options;
    options.max_wait = 100ms;
    const auto b = e.acquire(pins, t0, options);
    REQUIRE(b.status == acquire_status::waiting);
    // Past b's max_wait, another call lets the engine fail b; the caller cancels it before the
    // next advance reports that.
    const auto other = e.acquire(drl::make_route("GET", "/channels/2/pins"), t0 + 200ms);
    REQUIRE(other.status != acquire_status::failed);
    REQUIRE_FALSE(e.cancel(b.ticket, t0 + 200ms));
    const auto s = e.stats(t0 + 200ms);
    CHECK(s.failed == 1);
    CHECK(s.cancelled == 0);
    CHECK(s.live_tickets == 2);
}

TEST_CASE("rule: a bucket blocked by the global limit still grants an exempt request deep in its "
          "queue",
          "[engine]")
{
    // An interaction's follow-up and a plain call of the same webhook share one bucket (same path,
    // same id and token); only the first is exempt from the global limit. A bucket blocked by the
    // global limit looks at no more waiting requests than it could grant, unless it holds an
    // exempt one: then it walks on to it.
    engine_type::config_type config;
    config.global_limit = 1;
    engine_type e{config};
    const std::string path = "/webhooks/223704706495545344/not-an-interaction-looking-token";
    const drl::route plain = drl::make_route("POST", path);
    drl::route_options interaction;
    interaction.interaction_webhook = true;
    const drl::route follow_up = drl::make_route("POST", path, interaction);
    REQUIRE_FALSE(plain.global_exempt);
    REQUIRE(follow_up.global_exempt);
    REQUIRE(plain.key == follow_up.key);

    // Learn the bucket: 5 per 5 s, 4 left. The probe's global slot is held for a second.
    const auto probe = e.acquire(plain, t0);
    REQUIRE(probe.granted());
    REQUIRE(e.complete(probe.ticket, 200, test_support::bucket_headers(5, 4, "5"), "{}", t0 + 10ms)
                .status == completion_status::done);

    // Six plain calls wait for the global slot: more than the 4 the bucket could grant.
    std::vector<drl::ticket_id> waiting;
    for (int i = 0; i < 6; ++i) {
        const auto r = e.acquire(plain, t0 + 20ms);
        REQUIRE(r.status == acquire_status::waiting);
        CHECK(r.reason == drl::wait_reason::global_limit);
        waiting.push_back(r.ticket);
    }
    // The follow-up behind them goes at once: the global limit does not bind it.
    const auto x = e.acquire(follow_up, t0 + 20ms);
    CHECK(x.granted());
    CHECK(e.stats(t0 + 20ms).live_tickets == 7);
}
