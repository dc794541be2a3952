// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// What the engine's test files share: the fake clock and the types around it, a seeded generator
// that gives the same run everywhere, and the grants an `advance` reports.
#pragma once

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

namespace engine_test {

using clock_type = discord_ratelimit::manual_clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;
using engine_type = discord_ratelimit::engine<clock_type>;
using server_type = discord_ratelimit::testing::simulated_discord<clock_type>;

inline const time_point t0{};

/// SplitMix64: a fixed seed gives the same sequence on every platform.
struct rng {
    std::uint64_t state;
    std::uint64_t next()
    {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }
    /// In [0, n); 0 when n is 0.
    std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
    bool chance(unsigned percent) { return percent != 0 && below(100) < percent; }
    /// Whole milliseconds in [lo, hi].
    duration ms(std::int64_t lo, std::int64_t hi)
    {
        return std::chrono::milliseconds{
            lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)))};
    }
};

/// Advances to `now` and returns the tickets it reported granted.
inline std::vector<discord_ratelimit::ticket_id> granted_by_advance(engine_type& e, time_point now)
{
    std::vector<discord_ratelimit::ticket_id> out;
    e.advance(now, [&](discord_ratelimit::ticket_id id,
                       const discord_ratelimit::acquire_result<clock_type>& r) {
        if (r.granted())
            out.push_back(id);
    });
    return out;
}

} // namespace engine_test
