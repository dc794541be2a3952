// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_SATURATING_TICKS_HPP
#define DISCORD_RATELIMIT_DETAIL_SATURATING_TICKS_HPP

/// @file
/// Clock ticks as signed 64-bit integers, with arithmetic that stops at the ends of the range
/// instead of overflowing. Branches and compares only: no division, no compiler builtins.

#include <cstdint>
#include <limits>

namespace discord_ratelimit::detail {

inline constexpr std::int64_t earliest_tick = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t latest_tick = std::numeric_limits<std::int64_t>::max();

/// `a + b` for `b >= 0`, or `latest_tick` when the sum does not fit.
constexpr std::int64_t add_saturated(std::int64_t a, std::int64_t b) noexcept
{
    return a > latest_tick - b ? latest_tick : a + b;
}

/// `a - b` for `b >= 0`, or `earliest_tick` when the difference does not fit.
constexpr std::int64_t subtract_saturated(std::int64_t a, std::int64_t b) noexcept
{
    return a < earliest_tick + b ? earliest_tick : a - b;
}

/// `to - from` for `from <= to`, or `latest_tick` when the distance does not fit.
constexpr std::int64_t distance_saturated(std::int64_t from, std::int64_t to) noexcept
{
    // Two's complement subtraction in unsigned arithmetic is exact for any from <= to.
    const std::uint64_t distance =
        static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(from);
    return distance > static_cast<std::uint64_t>(latest_tick) ? latest_tick
                                                              : static_cast<std::int64_t>(distance);
}

/// `t + d` that stops at the ends of the time point's range instead of overflowing: a wait of any
/// length (a `max_wait` of `duration::max()`, a Retry-After of days near the end of a clock's
/// range) ends at the last time point the clock can name, never before `t`.
template <class TimePoint>
constexpr TimePoint later_by(TimePoint t, typename TimePoint::duration d) noexcept
{
    if (d >= TimePoint::duration::zero())
        return t > TimePoint::max() - d ? TimePoint::max() : t + d;
    return t < TimePoint::min() - d ? TimePoint::min() : t + d;
}

} // namespace discord_ratelimit::detail

#endif
