// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/token_bucket.hpp>
#include "catch.hpp"
#if defined(DISCORD_RATELIMIT_CATCH2_V3)
#include <catch2/catch_template_test_macros.hpp>
#endif

#include "bucket_test_support.hpp"

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/leaky_bucket.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using discord_ratelimit::atomic_leaky_bucket;
using discord_ratelimit::atomic_token_bucket;
using discord_ratelimit::bucket_verdict;
using discord_ratelimit::leaky_bucket;
using discord_ratelimit::manual_clock;
using discord_ratelimit::token_bucket;

using namespace bucket_test_support;

} // namespace

TEST_CASE("a token bucket rejects a zero burst and a non-positive interval", "[token_bucket]")
{
    CHECK(invalid_argument_message<token_bucket<manual_clock>>(0, ticks(10)) ==
          "token_bucket: the burst must be at least 1");
    CHECK(invalid_argument_message<token_bucket<manual_clock>>(5, ticks(0)) ==
          "token_bucket: the interval must be positive");
    CHECK(invalid_argument_message<token_bucket<manual_clock>>(5, ticks(-3)) ==
          "token_bucket: the interval must be positive");
    CHECK(invalid_argument_message<token_bucket<manual_clock>>(5, duration::min()) ==
          "token_bucket: the interval must be positive");
    CHECK(invalid_argument_message<atomic_token_bucket<manual_clock>>(0, ticks(10)) ==
          "atomic_token_bucket: the burst must be at least 1");
    CHECK(invalid_argument_message<atomic_token_bucket<manual_clock>>(1, ticks(0)) ==
          "atomic_token_bucket: the interval must be positive");
    CHECK(invalid_argument_message<token_bucket<manual_clock>>(1, ticks(1)) == "no exception");

    const token_bucket<manual_clock> bucket{5, ticks(20)};
    CHECK(bucket.burst() == 5);
    CHECK(bucket.interval() == ticks(20));
    const atomic_token_bucket<manual_clock> shared{5, ticks(20)};
    CHECK(shared.burst() == 5);
    CHECK(shared.interval() == ticks(20));
}

TEST_CASE("a token bucket near the end of the clock neither overflows nor over-grants",
          "[token_bucket]")
{
    SECTION("a full burst still fits just before the last time point")
    {
        token_bucket<manual_clock> bucket{3, ticks(10)};
        const time_point late = at(last_tick - 3);
        for (int i = 0; i < 3; ++i)
            CHECK(said(bucket.try_acquire(late)) == "granted");
        // The next token would come after the last time point: not within the clock's range.
        CHECK(said(bucket.try_acquire(late)) == "wait " + std::to_string(last_tick));
        CHECK(said(bucket.try_acquire(time_point::max())) == "wait " + std::to_string(last_tick));
        CHECK(bucket.available(time_point::max()) == 0);

        // A debt past the last time point cannot be scheduled: that caller and all after wait
        // forever; a refund cannot undo a debt whose depth was lost.
        CHECK(said(bucket.reserve(late)) == "go at " + std::to_string(last_tick));
        CHECK(said(bucket.try_acquire(time_point::max())) == "wait " + std::to_string(last_tick));
        bucket.refund(3);
        CHECK(bucket.available(time_point::max()) == 0);
        CHECK(said(bucket.reserve(time_point::max())) == "go at " + std::to_string(last_tick));
    }

    SECTION("the largest interval and burst")
    {
        token_bucket<manual_clock> bucket{std::numeric_limits<std::uint32_t>::max(),
                                          duration::max()};
        CHECK(said(bucket.try_acquire(at(0))) == "granted");
        CHECK(said(bucket.try_acquire(at(0))) == "wait " + std::to_string(last_tick));
        CHECK(said(bucket.try_acquire(at(0), 2)) == "wait " + std::to_string(last_tick));
        CHECK(bucket.available(time_point::max()) == 1);
        CHECK(said(bucket.try_acquire(time_point::max())) == "granted");
        CHECK(said(bucket.reserve(at(0), 2)) == "go at " + std::to_string(last_tick));
        CHECK(said(bucket.try_acquire(time_point::max())) == "wait " + std::to_string(last_tick));
    }

    SECTION("near the first time point the bucket starts short, never over")
    {
        token_bucket<manual_clock> bucket{3, ticks(10)};
        CHECK(bucket.available(at(first_tick)) == 0);
        CHECK(said(bucket.try_acquire(at(first_tick))) == "wait 10");
        CHECK(said(bucket.try_acquire(at(first_tick + 10))) == "granted");
    }
}

TEST_CASE("a token bucket runs on steady_clock by default", "[token_bucket]")
{
    using namespace std::chrono_literals;
    token_bucket bucket{50, 20ms}; // Discord's global limit: 50 per second
    static_assert(std::is_same_v<decltype(bucket)::clock_type, std::chrono::steady_clock>);
    static_assert(std::is_copy_constructible_v<token_bucket<>>);
    static_assert(!std::is_copy_constructible_v<atomic_token_bucket<>>);
    static_assert(!std::is_move_constructible_v<atomic_token_bucket<>>);

    const auto start = std::chrono::steady_clock::time_point{} + 1h;
    CHECK(bucket.try_acquire(start, 50));
    const auto d = bucket.try_acquire(start + 5ms);
    CHECK(d.verdict == bucket_verdict::wait);
    CHECK(d.wait == 15ms);
    CHECK(bucket.reserve(start + 5ms, 2) == start + 40ms);
}

// The rules a token bucket shares with a leaky bucket (the other view of the same rule), checked
// on all four buckets, or on the two plain ones where the test copies a bucket. They speak of
// tokens; for a leaky bucket read cells.

TEMPLATE_TEST_CASE("a full bucket grants exactly burst, then waits exactly one interval",
                   "[token_bucket][leaky_bucket]", token_bucket<manual_clock>,
                   atomic_token_bucket<manual_clock>, leaky_bucket<manual_clock>,
                   atomic_leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(5, ticks(20));
    CHECK(bucket.burst() == 5);
    CHECK(bucket.available(at(1'000)) == 5);

    for (int i = 0; i < 5; ++i)
        CHECK(said(bucket.try_acquire(at(1'000))) == "granted");
    CHECK(said(bucket.try_acquire(at(1'000))) == "wait 20");
    CHECK(bucket.available(at(1'000)) == 0);

    CHECK(said(bucket.try_acquire(at(1'020))) == "granted");
    CHECK(said(bucket.try_acquire(at(1'020))) == "wait 20");
}

TEMPLATE_TEST_CASE("a bucket's wait is exact to the tick", "[token_bucket][leaky_bucket]",
                   token_bucket<manual_clock>, atomic_token_bucket<manual_clock>,
                   leaky_bucket<manual_clock>, atomic_leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(3, ticks(7));
    // Emptied one token at a time or all at once, the bucket refills alike.
    const std::uint32_t per_call = GENERATE(1u, 3u);
    for (std::uint32_t taken = 0; taken < 3; taken += per_call)
        REQUIRE(bucket.try_acquire(at(0), per_call));

    for (std::int64_t elapsed = 0; elapsed < 7; ++elapsed)
        CHECK(said(bucket.try_acquire(at(elapsed))) == "wait " + std::to_string(7 - elapsed));
    for (std::int64_t elapsed = 0; elapsed < 21; ++elapsed)
        CHECK(said(bucket.try_acquire(at(elapsed), 3)) == "wait " + std::to_string(21 - elapsed));
    CHECK(said(bucket.try_acquire(at(7))) == "granted");
    CHECK(said(bucket.try_acquire(at(20), 2)) == "wait 1");
    CHECK(said(bucket.try_acquire(at(21), 2)) == "granted");
}

TEMPLATE_TEST_CASE("a bucket's wait is the shortest that grants", "[token_bucket][leaky_bucket]",
                   token_bucket<manual_clock>, leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(4, ticks(1'000));
    call_walk walk{GENERATE(as<std::uint64_t>{}, 7, 17), 4, 1'000};
    int checked = 0;
    for (int step = 0; step < 20'000; ++step) {
        const call_walk::call c = walk.next();
        if (c.what == call_walk::member::refund) {
            bucket.refund(c.n);
            continue;
        }
        if (c.what == call_walk::member::reserve) {
            bucket.reserve(c.now, c.n);
            continue;
        }
        const TestType before = bucket;
        const decision d = bucket.try_acquire(c.now, c.n);
        if (d.verdict != bucket_verdict::wait)
            continue;
        TestType too_early = before;
        TestType just_in_time = before;
        INFO("step " << step << ": wait " << d.wait.count() << " for " << c.n);
        REQUIRE(!too_early.try_acquire(c.now + d.wait - ticks(1), c.n));
        REQUIRE(just_in_time.try_acquire(c.now + d.wait, c.n));
        ++checked;
    }
    CHECK(checked > 1'000);
}

TEMPLATE_TEST_CASE("a bucket refills to burst and no further after a long idle",
                   "[token_bucket][leaky_bucket]", token_bucket<manual_clock>,
                   atomic_token_bucket<manual_clock>, leaky_bucket<manual_clock>,
                   atomic_leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(3, ticks(10));
    REQUIRE(bucket.try_acquire(at(0), 3));

    CHECK(bucket.available(at(25)) == 2);
    CHECK(bucket.available(at(30)) == 3);
    CHECK(bucket.available(at(10'000)) == 3);
    CHECK(bucket.available(at(last_tick / 2)) == 3);

    const time_point later = at(1'000'000);
    for (int i = 0; i < 3; ++i)
        CHECK(said(bucket.try_acquire(later)) == "granted");
    CHECK(said(bucket.try_acquire(later)) == "wait 10");
}

TEMPLATE_TEST_CASE("a bucket reserves ahead: callers queue at now, then one interval apart",
                   "[token_bucket][leaky_bucket]", token_bucket<manual_clock>,
                   atomic_token_bucket<manual_clock>, leaky_bucket<manual_clock>,
                   atomic_leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(2, ticks(10));
    CHECK(said(bucket.reserve(at(100))) == "go at 100");
    CHECK(said(bucket.reserve(at(100))) == "go at 100");
    CHECK(said(bucket.reserve(at(100))) == "go at 110");
    CHECK(said(bucket.reserve(at(100))) == "go at 120");
    CHECK(said(bucket.reserve(at(105))) == "go at 130");
    CHECK(said(bucket.reserve(at(100), 2)) == "go at 150");

    // The debt holds back everyone who comes after, whichever member they call.
    CHECK(bucket.available(at(100)) == 0);
    CHECK(bucket.available(at(150)) == 0);
    CHECK(said(bucket.try_acquire(at(100))) == "wait 60");
    CHECK(said(bucket.try_acquire(at(160))) == "granted");
    CHECK(said(bucket.reserve(at(500))) == "go at 500");
}

TEMPLATE_TEST_CASE("asking a bucket for 0 tokens is granted and takes nothing",
                   "[token_bucket][leaky_bucket]", token_bucket<manual_clock>,
                   atomic_token_bucket<manual_clock>, leaky_bucket<manual_clock>,
                   atomic_leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(2, ticks(10));
    CHECK(said(bucket.try_acquire(at(0), 0)) == "granted");
    CHECK(said(bucket.reserve(at(0), 0)) == "go at 0");
    CHECK(bucket.available(at(0)) == 2);

    REQUIRE(bucket.try_acquire(at(0), 2));
    CHECK(said(bucket.try_acquire(at(0), 0)) == "granted");
    CHECK(said(bucket.reserve(at(0), 0)) == "go at 0");
    bucket.refund(0);
    CHECK(said(bucket.try_acquire(at(0))) == "wait 10");
}

TEMPLATE_TEST_CASE("a bucket says never to more tokens than its burst, and takes nothing",
                   "[token_bucket][leaky_bucket]", token_bucket<manual_clock>,
                   atomic_token_bucket<manual_clock>, leaky_bucket<manual_clock>,
                   atomic_leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(3, ticks(10));
    const decision d = bucket.try_acquire(at(0), 4);
    CHECK(said(d) == "never");
    CHECK_FALSE(d);
    CHECK(said(bucket.try_acquire(at(1'000'000), 4)) == "never");
    CHECK(said(bucket.try_acquire(at(0), std::numeric_limits<std::uint32_t>::max())) == "never");
    CHECK(said(bucket.reserve(at(0), 4)) == "never");
    CHECK(bucket.available(at(0)) == 3);
    CHECK(said(bucket.try_acquire(at(0), 3)) == "granted");
}

TEMPLATE_TEST_CASE("a bucket given an earlier now grants no extra tokens",
                   "[token_bucket][leaky_bucket]", token_bucket<manual_clock>,
                   atomic_token_bucket<manual_clock>, leaky_bucket<manual_clock>,
                   atomic_leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(2, ticks(10));
    REQUIRE(bucket.try_acquire(at(1'000), 2));

    // A caller whose clock reads earlier sees an emptier bucket; its wait counts from its now.
    CHECK(said(bucket.try_acquire(at(0))) == "wait 1010");
    CHECK(bucket.available(at(0)) == 0);
    CHECK(said(bucket.reserve(at(995))) == "go at 1010");
    CHECK(said(bucket.try_acquire(at(1'010))) == "wait 10");
    CHECK(said(bucket.try_acquire(at(1'020))) == "granted");
    CHECK(said(bucket.try_acquire(at(1'020))) == "wait 10");

    SECTION("as far back as the clock goes, without overflow")
    {
        CHECK(said(bucket.try_acquire(at(first_tick))) == "wait " + std::to_string(last_tick));
        CHECK(bucket.available(at(first_tick)) == 0);
        CHECK(said(bucket.reserve(at(first_tick))) == "go at 1030");
        CHECK(said(bucket.try_acquire(at(1'040))) == "granted");
    }
}

TEMPLATE_TEST_CASE("a bucket's available count is exactly what try_acquire grants",
                   "[token_bucket][leaky_bucket]", token_bucket<manual_clock>,
                   leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(5, ticks(300));
    call_walk walk{GENERATE(as<std::uint64_t>{}, 11, 19), 5, 300};
    for (int step = 0; step < 20'000; ++step) {
        const call_walk::call c = walk.next();
        if (c.what == call_walk::member::reserve)
            bucket.reserve(c.now, c.n);
        else if (c.what == call_walk::member::refund)
            bucket.refund(c.n);
        else if (c.what == call_walk::member::try_acquire)
            bucket.try_acquire(c.now, c.n);

        const std::uint32_t count = bucket.available(c.now);
        REQUIRE(count <= 5);
        TestType all = bucket;
        TestType one_more = bucket;
        INFO("step " << step << ": available " << count);
        REQUIRE(all.try_acquire(c.now, count));
        if (count < 5)
            REQUIRE(!one_more.try_acquire(c.now, count + 1));
    }
}

TEMPLATE_TEST_CASE("a bucket refund gives back a reservation, never beyond burst",
                   "[token_bucket][leaky_bucket]", token_bucket<manual_clock>,
                   atomic_token_bucket<manual_clock>, leaky_bucket<manual_clock>,
                   atomic_leaky_bucket<manual_clock>)
{
    auto bucket = make_bucket<TestType>(3, ticks(10));
    REQUIRE(said(bucket.reserve(at(0), 3)) == "go at 0");
    REQUIRE(said(bucket.reserve(at(0))) == "go at 10");

    bucket.refund(); // the caller queued for 10 gave up: the next one takes its slot
    CHECK(said(bucket.reserve(at(0))) == "go at 10");
    bucket.refund(1);
    bucket.refund(3);
    CHECK(bucket.available(at(0)) == 3);

    bucket.refund(100);
    CHECK(bucket.available(at(0)) == 3);
    CHECK(said(bucket.try_acquire(at(0), 3)) == "granted");
    CHECK(said(bucket.try_acquire(at(0))) == "wait 10");
}

TEMPLATE_TEST_CASE("an atomic bucket decides like its plain bucket over 100'000 random calls",
                   "[token_bucket][leaky_bucket][atomic]",
                   (std::pair<token_bucket<manual_clock>, atomic_token_bucket<manual_clock>>),
                   (std::pair<leaky_bucket<manual_clock>, atomic_leaky_bucket<manual_clock>>))
{
    using plain_bucket = typename TestType::first_type;
    using atomic_bucket = typename TestType::second_type;
    struct shape {
        std::uint32_t burst;
        std::int64_t interval;
    };
    const shape shapes[] = {{1, 1}, {2, 7}, {5, 1'000}, {50, 20'000'000}};
    std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 101);
    for (const shape s : shapes) {
        auto plain = make_bucket<plain_bucket>(s.burst, ticks(s.interval));
        auto shared = make_bucket<atomic_bucket>(s.burst, ticks(s.interval));
        INFO("burst " << s.burst << ", interval " << s.interval << ", seed " << seed);
        CHECK(first_disagreement(plain, shared, call_walk{seed++, s.burst, s.interval}, 100'000) ==
              "");
    }
}

TEMPLATE_TEST_CASE("two threads hammering one atomic bucket get at most burst + elapsed / interval",
                   "[token_bucket][leaky_bucket][atomic][threads]",
                   atomic_token_bucket<manual_clock>, atomic_leaky_bucket<manual_clock>)
{
    constexpr std::uint32_t burst = 8;
    constexpr std::int64_t interval = 1'000;
    constexpr std::int64_t step = interval / 4; // each thread asks four times per interval
    constexpr int calls = 200'001;
    constexpr std::int64_t start = 5'000'000;
    constexpr std::int64_t end = start + (calls - 1) * step;
    constexpr std::int64_t allowed = burst + (end - start) / interval;

    auto bucket = make_bucket<TestType>(burst, ticks(interval));
    std::atomic<int> arrived{0};
    std::int64_t granted[2] = {0, 0};
    auto hammer = [&](int thread, std::uint32_t max_n) {
        start_together(arrived);
        for (int i = 0; i < calls; ++i) {
            const std::uint32_t n = 1 + static_cast<std::uint32_t>(i) % max_n;
            if (bucket.try_acquire(at(start + i * step), n))
                granted[thread] += n;
        }
    };

    SECTION("one token at a time: every token is granted exactly once")
    {
        std::thread first{hammer, 0, 1};
        std::thread second{hammer, 1, 1};
        first.join();
        second.join();
        const std::int64_t total = granted[0] + granted[1];
        CHECK(total <= allowed);
        // Both threads keep asking, so no token goes to waste in a full bucket.
        CHECK(total + bucket.available(at(end)) == allowed);
    }

    SECTION("one to three tokens at a time")
    {
        std::thread first{hammer, 0, 1};
        std::thread second{hammer, 1, 3};
        first.join();
        second.join();
        CHECK(granted[0] + granted[1] <= allowed);
        CHECK(granted[0] + granted[1] + bucket.available(at(end)) <= allowed);
    }
}

TEMPLATE_TEST_CASE("two threads reserving one atomic bucket at once each get their own slot",
                   "[token_bucket][leaky_bucket][atomic][threads]",
                   atomic_token_bucket<manual_clock>, atomic_leaky_bucket<manual_clock>)
{
    constexpr std::uint32_t burst = 4;
    constexpr std::int64_t interval = 10;
    constexpr int calls = 100'000;

    auto bucket = make_bucket<TestType>(burst, ticks(interval));
    std::atomic<int> arrived{0};
    std::vector<std::int64_t> slots[2];
    auto reserve = [&](int thread) {
        slots[thread].reserve(calls);
        start_together(arrived);
        for (int i = 0; i < calls; ++i)
            slots[thread].push_back(bucket.reserve(at(0))->time_since_epoch().count());
    };
    std::thread first{reserve, 0};
    std::thread second{reserve, 1};
    first.join();
    second.join();

    std::vector<std::int64_t> all = slots[0];
    all.insert(all.end(), slots[1].begin(), slots[1].end());
    std::sort(all.begin(), all.end());
    std::string first_wrong_slot; // one line, not two vectors of 200'000 slots
    for (std::size_t i = 0; i < all.size() && first_wrong_slot.empty(); ++i) {
        const std::int64_t slot = static_cast<std::int64_t>(i);
        const std::int64_t expected = slot < burst ? 0 : (slot - burst + 1) * interval;
        if (all[i] != expected)
            first_wrong_slot = "slot " + std::to_string(i) + " is at " + std::to_string(all[i]) +
                               " instead of " + std::to_string(expected);
    }
    CHECK(all.size() == static_cast<std::size_t>(2 * calls));
    CHECK(first_wrong_slot == "");
}
