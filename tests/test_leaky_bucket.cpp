// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/leaky_bucket.hpp>
#include "catch.hpp"

#include "bucket_test_support.hpp"

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/token_bucket.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using discord_ratelimit::atomic_leaky_bucket;
using discord_ratelimit::bucket_verdict;
using discord_ratelimit::leaky_bucket;
using discord_ratelimit::manual_clock;
using discord_ratelimit::token_bucket;

using namespace bucket_test_support;

template <class Bucket>
std::string invalid_argument_message(duration emission_interval, std::uint32_t burst)
{
    try {
        Bucket bucket{emission_interval, burst};
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no exception";
}

} // namespace

TEST_CASE("a leaky bucket rejects a non-positive emission interval and a zero burst",
          "[leaky_bucket]")
{
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(ticks(0), 1) ==
          "leaky_bucket: the emission interval must be positive");
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(ticks(-1), 1) ==
          "leaky_bucket: the emission interval must be positive");
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(duration::min(), 1) ==
          "leaky_bucket: the emission interval must be positive");
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(ticks(10), 0) ==
          "leaky_bucket: the burst must be at least 1");
    CHECK(invalid_argument_message<atomic_leaky_bucket<manual_clock>>(ticks(0), 1) ==
          "atomic_leaky_bucket: the emission interval must be positive");
    CHECK(invalid_argument_message<atomic_leaky_bucket<manual_clock>>(ticks(10), 0) ==
          "atomic_leaky_bucket: the burst must be at least 1");
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(ticks(1), 1) == "no exception");

    const leaky_bucket<manual_clock> pacer{ticks(10)};
    CHECK(pacer.burst() == 1);
    CHECK(pacer.emission_interval() == ticks(10));
}

TEST_CASE("a leaky bucket with burst 1 spaces requests exactly one emission interval apart",
          "[leaky_bucket]")
{
    leaky_bucket<manual_clock> pacer{ticks(250)};
    CHECK(said(pacer.try_acquire(at(1'000))) == "granted");
    CHECK(said(pacer.try_acquire(at(1'000))) == "wait 250");
    CHECK(said(pacer.try_acquire(at(1'001))) == "wait 249");
    CHECK(said(pacer.try_acquire(at(1'249))) == "wait 1");
    CHECK(said(pacer.try_acquire(at(1'250))) == "granted");
    CHECK(said(pacer.reserve(at(1'250))) == "go at 1500");
    CHECK(said(pacer.reserve(at(1'250))) == "go at 1750");

    SECTION("whatever the arrivals")
    {
        leaky_bucket<manual_clock> spaced{ticks(250)};
        std::mt19937_64 random{3};
        std::int64_t now = 0;
        std::optional<std::int64_t> last_granted;
        int grants = 0;
        for (int i = 0; i < 20'000; ++i) {
            now += static_cast<std::int64_t>(random() % 400);
            const bool on_time = !last_granted || now - *last_granted >= 250;
            const bool granted = static_cast<bool>(spaced.try_acquire(at(now)));
            INFO("arrival " << i << " at " << now << ", last grant at "
                            << last_granted.value_or(-1));
            REQUIRE(granted == on_time);
            if (granted) {
                last_granted = now;
                ++grants;
            }
        }
        CHECK(grants > 5'000);
    }
}

TEST_CASE("a leaky bucket lets exactly burst through back to back, then waits one emission "
          "interval",
          "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(20), 5}; // a tolerance of 4 * 20
    CHECK(bucket.burst() == 5);
    CHECK(bucket.available(at(1'000)) == 5);

    for (int i = 0; i < 5; ++i)
        CHECK(said(bucket.try_acquire(at(1'000))) == "granted");
    CHECK(said(bucket.try_acquire(at(1'000))) == "wait 20");
    CHECK(bucket.available(at(1'000)) == 0);

    CHECK(said(bucket.try_acquire(at(1'020))) == "granted");
    CHECK(said(bucket.try_acquire(at(1'020))) == "wait 20");
}

TEST_CASE("a leaky bucket's wait is exact to the tick", "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(7), 3};
    REQUIRE(bucket.try_acquire(at(0), 3));

    for (std::int64_t elapsed = 0; elapsed < 7; ++elapsed)
        CHECK(said(bucket.try_acquire(at(elapsed))) == "wait " + std::to_string(7 - elapsed));
    for (std::int64_t elapsed = 0; elapsed < 21; ++elapsed)
        CHECK(said(bucket.try_acquire(at(elapsed), 3)) == "wait " + std::to_string(21 - elapsed));
    CHECK(said(bucket.try_acquire(at(7))) == "granted");
    CHECK(said(bucket.try_acquire(at(20), 2)) == "wait 1");
    CHECK(said(bucket.try_acquire(at(21), 2)) == "granted");
}

TEST_CASE("a leaky bucket's wait is the shortest that grants", "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(1'000), 4};
    call_walk walk{17, 4, 1'000};
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
        const leaky_bucket<manual_clock> before = bucket;
        const decision d = bucket.try_acquire(c.now, c.n);
        if (d.verdict != bucket_verdict::wait)
            continue;
        leaky_bucket<manual_clock> too_early = before;
        leaky_bucket<manual_clock> just_in_time = before;
        INFO("step " << step << ": wait " << d.wait.count() << " for " << c.n);
        REQUIRE(!too_early.try_acquire(c.now + d.wait - ticks(1), c.n));
        REQUIRE(just_in_time.try_acquire(c.now + d.wait, c.n));
        ++checked;
    }
    CHECK(checked > 1'000);
}

TEST_CASE("a leaky bucket drains to empty and no further after a long idle", "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(10), 3};
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

TEST_CASE("a leaky bucket reserves ahead: callers queue one emission interval apart",
          "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(10), 2};
    CHECK(said(bucket.reserve(at(100))) == "go at 100");
    CHECK(said(bucket.reserve(at(100))) == "go at 100");
    CHECK(said(bucket.reserve(at(100))) == "go at 110");
    CHECK(said(bucket.reserve(at(100))) == "go at 120");
    CHECK(said(bucket.reserve(at(105))) == "go at 130");
    CHECK(said(bucket.reserve(at(100), 2)) == "go at 150");

    CHECK(bucket.available(at(100)) == 0);
    CHECK(bucket.available(at(150)) == 0);
    CHECK(said(bucket.try_acquire(at(100))) == "wait 60");
    CHECK(said(bucket.try_acquire(at(160))) == "granted");
    CHECK(said(bucket.reserve(at(500))) == "go at 500");
}

TEST_CASE("asking a leaky bucket for 0 cells is granted and changes nothing", "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(10), 2};
    CHECK(said(bucket.try_acquire(at(0), 0)) == "granted");
    CHECK(said(bucket.reserve(at(0), 0)) == "go at 0");
    CHECK(bucket.available(at(0)) == 2);

    REQUIRE(bucket.try_acquire(at(0), 2));
    CHECK(said(bucket.try_acquire(at(0), 0)) == "granted");
    CHECK(said(bucket.reserve(at(0), 0)) == "go at 0");
    bucket.refund(0);
    CHECK(said(bucket.try_acquire(at(0))) == "wait 10");
}

TEST_CASE("a leaky bucket says never to more cells than its burst, and changes nothing",
          "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(10), 3};
    const decision d = bucket.try_acquire(at(0), 4);
    CHECK(said(d) == "never");
    CHECK_FALSE(d);
    CHECK(said(bucket.try_acquire(at(1'000'000), 4)) == "never");
    CHECK(said(bucket.try_acquire(at(0), std::numeric_limits<std::uint32_t>::max())) == "never");
    CHECK(said(bucket.reserve(at(0), 4)) == "never");
    CHECK(bucket.available(at(0)) == 3);
    CHECK(said(bucket.try_acquire(at(0), 3)) == "granted");
}

TEST_CASE("a leaky bucket given an earlier now grants no extra room", "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(10), 2};
    REQUIRE(bucket.try_acquire(at(1'000), 2));

    CHECK(said(bucket.try_acquire(at(0))) == "wait 1010");
    CHECK(bucket.available(at(0)) == 0);
    CHECK(said(bucket.reserve(at(995))) == "go at 1010");
    CHECK(said(bucket.try_acquire(at(1'010))) == "wait 10");
    CHECK(said(bucket.try_acquire(at(1'020))) == "granted");
    CHECK(said(bucket.try_acquire(at(1'020))) == "wait 10");

    SECTION("as far back as the clock goes, without overflow")
    {
        CHECK(said(bucket.try_acquire(at(first_tick))) ==
              "wait " + std::to_string(last_tick));
        CHECK(bucket.available(at(first_tick)) == 0);
        CHECK(said(bucket.reserve(at(first_tick))) == "go at 1030");
        CHECK(said(bucket.try_acquire(at(1'040))) == "granted");
    }
}

TEST_CASE("a leaky bucket near the ends of the clock neither overflows nor over-grants",
          "[leaky_bucket]")
{
    SECTION("exact while the TAT fits before the last time point")
    {
        leaky_bucket<manual_clock> bucket{ticks(10), 3};
        const time_point late = at(last_tick - 100);
        for (int i = 0; i < 3; ++i)
            CHECK(said(bucket.try_acquire(late)) == "granted");
        CHECK(said(bucket.try_acquire(late)) == "wait 10");
        CHECK(said(bucket.reserve(late)) == "go at " + std::to_string(last_tick - 90));
    }

    SECTION("refusing once it would not")
    {
        leaky_bucket<manual_clock> bucket{ticks(10), 3};
        const time_point late = at(last_tick - 35);
        for (int i = 0; i < 3; ++i)
            CHECK(said(bucket.try_acquire(late)) == "granted");
        // The exact answer, 10, needs a TAT past the last time point.
        CHECK(said(bucket.try_acquire(late)) == "wait " + std::to_string(last_tick));
        CHECK(bucket.available(late) == 0);
        CHECK(said(bucket.try_acquire(time_point::max())) == "wait " + std::to_string(last_tick));

        CHECK(said(bucket.reserve(late)) == "go at " + std::to_string(last_tick));
        bucket.refund(3);
        CHECK(bucket.available(time_point::max()) == 0);
        CHECK(said(bucket.reserve(time_point::max())) == "go at " + std::to_string(last_tick));
    }

    SECTION("the largest emission interval and burst")
    {
        leaky_bucket<manual_clock> bucket{duration::max(),
                                          std::numeric_limits<std::uint32_t>::max()};
        CHECK(bucket.available(at(0)) == 1);
        CHECK(said(bucket.try_acquire(at(0))) == "granted");
        CHECK(said(bucket.try_acquire(at(0))) == "wait " + std::to_string(last_tick));
        CHECK(said(bucket.try_acquire(time_point::max())) == "wait " + std::to_string(last_tick));
        CHECK(said(bucket.try_acquire(at(0), 2)) == "wait " + std::to_string(last_tick));
        CHECK(said(bucket.reserve(at(0), 2)) == "go at " + std::to_string(last_tick));
    }

    SECTION("a full burst at the first time point")
    {
        leaky_bucket<manual_clock> bucket{ticks(10), 3};
        CHECK(bucket.available(at(first_tick)) == 3);
        for (int i = 0; i < 3; ++i)
            CHECK(said(bucket.try_acquire(at(first_tick))) == "granted");
        CHECK(said(bucket.try_acquire(at(first_tick))) == "wait 10");
    }
}

TEST_CASE("a leaky bucket's available count is exactly what try_acquire grants",
          "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(300), 5};
    call_walk walk{19, 5, 300};
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
        leaky_bucket<manual_clock> all = bucket;
        leaky_bucket<manual_clock> one_more = bucket;
        INFO("step " << step << ": available " << count);
        REQUIRE(all.try_acquire(c.now, count));
        if (count < 5)
            REQUIRE(!one_more.try_acquire(c.now, count + 1));
    }
}

TEST_CASE("a leaky bucket refund takes back a reservation, never beyond burst", "[leaky_bucket]")
{
    leaky_bucket<manual_clock> bucket{ticks(10), 3};
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

TEST_CASE("a leaky bucket runs on steady_clock by default", "[leaky_bucket]")
{
    using namespace std::chrono_literals;
    leaky_bucket pacer{250ms}; // one bulk delete every quarter second
    static_assert(std::is_same_v<decltype(pacer)::clock_type, std::chrono::steady_clock>);
    static_assert(std::is_copy_constructible_v<leaky_bucket<>>);
    static_assert(!std::is_copy_constructible_v<atomic_leaky_bucket<>>);
    static_assert(!std::is_move_constructible_v<atomic_leaky_bucket<>>);

    const auto start = std::chrono::steady_clock::time_point{} + 1h;
    CHECK(pacer.try_acquire(start));
    const auto d = pacer.try_acquire(start + 100ms);
    CHECK(d.verdict == bucket_verdict::wait);
    CHECK(d.wait == 150ms);
    CHECK(pacer.reserve(start + 100ms) == start + 250ms);
}

TEST_CASE("atomic_leaky_bucket decides like leaky_bucket over 100'000 random calls",
          "[leaky_bucket][atomic]")
{
    struct shape {
        std::uint32_t burst;
        std::int64_t interval;
    };
    const shape shapes[] = {{1, 1}, {2, 7}, {5, 1'000}, {50, 20'000'000}};
    std::uint64_t seed = 101;
    for (const shape s : shapes) {
        leaky_bucket<manual_clock> plain{ticks(s.interval), s.burst};
        atomic_leaky_bucket<manual_clock> shared{ticks(s.interval), s.burst};
        INFO("burst " << s.burst << ", emission interval " << s.interval);
        CHECK(first_disagreement(plain, shared, call_walk{seed++, s.burst, s.interval}, 100'000) ==
              "");
    }
}

TEST_CASE("a token bucket and a leaky bucket with the same burst and interval decide alike",
          "[leaky_bucket][token_bucket]")
{
    struct shape {
        std::uint32_t burst;
        std::int64_t interval;
    };
    const shape shapes[] = {{1, 1}, {3, 7}, {50, 20'000'000}};
    std::uint64_t seed = 201;
    for (const shape s : shapes) {
        token_bucket<manual_clock> tokens{s.burst, ticks(s.interval)};
        leaky_bucket<manual_clock> gcra{ticks(s.interval), s.burst};
        INFO("burst " << s.burst << ", interval " << s.interval);
        CHECK(first_disagreement(tokens, gcra, call_walk{seed++, s.burst, s.interval}, 100'000) ==
              "");
    }
}

TEST_CASE("two threads hammering one atomic leaky bucket get at most burst + elapsed / interval",
          "[leaky_bucket][atomic][threads]")
{
    constexpr std::uint32_t burst = 8;
    constexpr std::int64_t interval = 1'000;
    constexpr std::int64_t step = interval / 4; // each thread asks four times per interval
    constexpr int calls = 200'001;
    constexpr std::int64_t start = 5'000'000;
    constexpr std::int64_t end = start + (calls - 1) * step;
    constexpr std::int64_t allowed = burst + (end - start) / interval;

    atomic_leaky_bucket<manual_clock> bucket{ticks(interval), burst};
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

    SECTION("one cell at a time: all the room is used exactly once")
    {
        std::thread first{hammer, 0, 1};
        std::thread second{hammer, 1, 1};
        first.join();
        second.join();
        const std::int64_t total = granted[0] + granted[1];
        CHECK(total <= allowed);
        CHECK(total + bucket.available(at(end)) == allowed);
    }

    SECTION("one to three cells at a time")
    {
        std::thread first{hammer, 0, 1};
        std::thread second{hammer, 1, 3};
        first.join();
        second.join();
        CHECK(granted[0] + granted[1] <= allowed);
        CHECK(granted[0] + granted[1] + bucket.available(at(end)) <= allowed);
    }
}

TEST_CASE("two threads reserving one atomic leaky bucket at once each get their own slot",
          "[leaky_bucket][atomic][threads]")
{
    constexpr std::uint32_t burst = 4;
    constexpr std::int64_t interval = 10;
    constexpr int calls = 100'000;

    atomic_leaky_bucket<manual_clock> bucket{ticks(interval), burst};
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
