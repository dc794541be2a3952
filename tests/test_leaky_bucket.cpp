// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/leaky_bucket.hpp>
#include "catch.hpp"

#include "bucket_test_support.hpp"

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/token_bucket.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <type_traits>

// What a leaky bucket shares with a token bucket (the other view of the same rule) is checked on
// all four buckets in test_token_bucket.cpp; here is what belongs to the leaky view alone.

namespace {

using discord_ratelimit::atomic_leaky_bucket;
using discord_ratelimit::bucket_verdict;
using discord_ratelimit::leaky_bucket;
using discord_ratelimit::manual_clock;
using discord_ratelimit::token_bucket;

using namespace bucket_test_support;

} // namespace

TEST_CASE("a leaky bucket rejects a non-positive emission interval and a zero burst",
          "[leaky_bucket]")
{
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(1, ticks(0)) ==
          "leaky_bucket: the emission interval must be positive");
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(1, ticks(-1)) ==
          "leaky_bucket: the emission interval must be positive");
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(1, duration::min()) ==
          "leaky_bucket: the emission interval must be positive");
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(0, ticks(10)) ==
          "leaky_bucket: the burst must be at least 1");
    CHECK(invalid_argument_message<atomic_leaky_bucket<manual_clock>>(1, ticks(0)) ==
          "atomic_leaky_bucket: the emission interval must be positive");
    CHECK(invalid_argument_message<atomic_leaky_bucket<manual_clock>>(0, ticks(10)) ==
          "atomic_leaky_bucket: the burst must be at least 1");
    CHECK(invalid_argument_message<leaky_bucket<manual_clock>>(1, ticks(1)) == "no exception");

    const leaky_bucket<manual_clock> pacer{ticks(10)};
    CHECK(pacer.burst() == 1);
    CHECK(pacer.emission_interval() == ticks(10));
    const atomic_leaky_bucket<manual_clock> shared{ticks(10)};
    CHECK(shared.burst() == 1);
    CHECK(shared.emission_interval() == ticks(10));
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
