// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_CLOCK_HPP
#define DISCORD_RATELIMIT_CLOCK_HPP

/// @file
/// The Clock concept every template of the library is parameterized on, and `manual_clock`, a fake
/// clock that tests and simulations advance by hand.

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>

namespace discord_ratelimit {

/// A clock in the sense of std::chrono (`std::chrono::steady_clock` is the usual one).
///
/// The core never reads a clock itself: callers pass `Clock::time_point`s in. The clock must be
/// monotonic for the library's guarantees to hold; rate-limit deadlines are always computed from
/// relative durations (X-RateLimit-Reset-After, Retry-After) added to its time points.
template <class C>
concept clock = requires
{
    typename C::rep;
    typename C::period;
    typename C::duration;
    typename C::time_point;
    {
        C::now()
        } -> std::same_as<typename C::time_point>;
    {
        C::is_steady
        } -> std::convertible_to<bool>;
}
&&std::same_as<typename C::duration, typename C::time_point::duration>;

/// A fake, monotonic clock that only moves when told to.
///
/// Each distinct `Tag` is an independent clock, so unrelated tests or simulations can own one each.
/// `now()` is static, as Asio's `basic_waitable_timer` requires of a clock.
///
/// @par Thread Safety
/// All functions are safe to call concurrently: the time is one atomic 64-bit count of nanoseconds.
template <class Tag = void>
struct basic_manual_clock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::duration<rep, period>;
    using time_point = std::chrono::time_point<basic_manual_clock, duration>;
    static constexpr bool is_steady = true;

    /// The current fake time. Starts at the epoch (zero).
    static time_point now() noexcept
    {
        return time_point{duration{ticks().load(std::memory_order_acquire)}};
    }

    /// Moves the clock forward by `d`; a negative `d` is ignored (the clock is monotonic).
    static void advance(duration d) noexcept
    {
        if (d > duration::zero())
            ticks().fetch_add(d.count(), std::memory_order_acq_rel);
    }

    /// Sets the clock to `t` if `t` is later than now; an earlier `t` is ignored (monotonic).
    static void advance_to(time_point t) noexcept
    {
        auto current = ticks().load(std::memory_order_acquire);
        while (t.time_since_epoch().count() > current &&
               !ticks().compare_exchange_weak(current, t.time_since_epoch().count(),
                                              std::memory_order_acq_rel)) {
        }
    }

    /// Puts the clock back to the epoch, for test fixtures only; never while timers are waiting on
    /// it.
    static void reset() noexcept { ticks().store(0, std::memory_order_release); }

private:
    static std::atomic<rep>& ticks() noexcept
    {
        static std::atomic<rep> value{0};
        return value;
    }
};

/// The default fake clock.
using manual_clock = basic_manual_clock<>;

static_assert(clock<std::chrono::steady_clock>);
static_assert(clock<manual_clock>);

} // namespace discord_ratelimit

#endif
