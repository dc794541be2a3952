// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_LEAKY_BUCKET_HPP
#define DISCORD_RATELIMIT_LEAKY_BUCKET_HPP

/// @file
/// `leaky_bucket` and `atomic_leaky_bucket`: pacing by the generic cell rate algorithm (GCRA),
/// one request every emission interval with a tolerance for bursts.
///
/// A leaky bucket and a `token_bucket` with the same burst and interval make the same decisions:
/// they are the two textbook views of one rule. Take the leaky bucket to pace ("one every T"),
/// where burst defaults to 1; take the token bucket to say "N at once, then one per interval".

#include <discord_ratelimit/bucket_decision.hpp>
#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/detail/bucket_cell.hpp>
#include <discord_ratelimit/detail/gcra.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace discord_ratelimit {

/// A GCRA meter: requests are spaced `emission_interval` apart on average, and up to `burst` may
/// go back to back (a tolerance of `(burst - 1) * emission_interval`). Burst 1 spaces every request
/// exactly one emission interval after the previous one.
///
/// The whole state is one time value, the theoretical arrival time (TAT): when the bucket has
/// drained and takes a full burst again. A request of n cells conforms at `now` when the TAT,
/// advanced by n emission intervals from `max(TAT, now)`, is at most `now + burst * interval`;
/// conforming moves the TAT there. Decisions are therefore exact to the tick of `Clock::duration`,
/// in integer arithmetic, without division, allocation or clock reads.
///
/// Time is passed in: the bucket never reads `Clock`, so read the clock once per request and test
/// with any time points you like. A `now` earlier than one passed before (a non-monotonic caller)
/// sees less room, never more. Where the exact schedule does not fit in 64 bits (a TAT that would
/// pass the clock's last time point, as it may within `burst * emission_interval` of it), the
/// bucket rounds toward refusing: it never grants, nor schedules a reservation, earlier than the
/// exact rule would. A wait longer than `duration` can hold reads `duration::max()`.
///
/// Which member to use:
/// - `try_acquire`: go now or do something else (skip, coalesce, fail fast). Takes room only
///   when it grants; otherwise says how long until there would be room.
/// - `reserve`: the caller goes in any case and wants to know when. It always advances the TAT,
///   so callers queue one emission interval apart.
/// - `refund`: a reservation was abandoned before its request was sent.
/// - `available`: to observe (metrics, logs). Deciding on it races with other callers.
///
/// @tparam Clock a `clock` whose `rep` is a signed 64-bit integer.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe; share an `atomic_leaky_bucket` instead.
template <clock Clock = std::chrono::steady_clock>
class leaky_bucket {
public:
    using clock_type = Clock;
    using duration = typename Clock::duration;
    using time_point = typename Clock::time_point;
    using decision = bucket_decision<duration>;

    /// An empty (fully drained) meter: `burst` requests may go at once, then one per
    /// `emission_interval`.
    /// @throws std::invalid_argument when `emission_interval` is not positive or `burst` is 0.
    explicit leaky_bucket(duration emission_interval, std::uint32_t burst = 1)
        : rule_{"leaky_bucket", "emission interval", burst, emission_interval}
    {
    }

    /// Lets `n` cells through if they conform at `now`.
    ///
    /// @returns `granted` (the TAT advanced, `wait` zero); `wait` (nothing changed; `wait` is
    /// exactly how long until `n` cells would conform if nobody else went); or `never` when `n`
    /// exceeds `burst()`. `n == 0` is always granted and changes nothing.
    decision try_acquire(time_point now, std::uint32_t n = 1) noexcept
    {
        return rule_.try_acquire(now, n);
    }

    /// Advances the TAT by `n` cells now, whether they conform or not, and says when to go.
    ///
    /// @returns `now` when the cells conform, otherwise the time point at which they will
    /// (`time_point::max()` when that lies beyond the clock's range); no value, and nothing
    /// changed, when `n` exceeds `burst()`. Later callers queue behind.
    std::optional<time_point> reserve(time_point now, std::uint32_t n = 1) noexcept
    {
        return rule_.reserve(now, n);
    }

    /// Takes back `n` cells of a reservation whose request was never sent.
    ///
    /// The meter never allows more than `burst()` at once, whatever is refunded. Refunding cells
    /// that were sent lets more requests through than the limit allows.
    void refund(std::uint32_t n = 1) noexcept { rule_.refund(n); }

    /// How many cells would conform at `now`: 0 to `burst()`.
    std::uint32_t available(time_point now) const noexcept { return rule_.available(now); }

    /// The most cells that may go back to back.
    std::uint32_t burst() const noexcept { return rule_.burst(); }

    /// The spacing T between cells once the burst is spent.
    duration emission_interval() const noexcept { return rule_.interval(); }

private:
    detail::gcra<Clock, detail::plain_cell, detail::bucket_anchor::full_at> rule_;
};

/// A `leaky_bucket` that many threads may share: lock-free, its TAT one 64-bit atomic.
///
/// Makes the same decisions as a `leaky_bucket` given the same sequence of calls; calls from
/// several threads take effect in some single order. Each call is one load, plus one
/// compare-exchange per attempt when it advances or takes back the TAT; a refusal writes nothing.
/// Neither copyable nor movable.
///
/// @tparam Clock a `clock` whose `rep` is a signed 64-bit integer.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe.
template <clock Clock = std::chrono::steady_clock>
class atomic_leaky_bucket {
public:
    using clock_type = Clock;
    using duration = typename Clock::duration;
    using time_point = typename Clock::time_point;
    using decision = bucket_decision<duration>;

    /// An empty (fully drained) meter: `burst` requests may go at once, then one per
    /// `emission_interval`.
    /// @throws std::invalid_argument when `emission_interval` is not positive or `burst` is 0.
    explicit atomic_leaky_bucket(duration emission_interval, std::uint32_t burst = 1)
        : rule_{"atomic_leaky_bucket", "emission interval", burst, emission_interval}
    {
    }

    /// As `leaky_bucket::try_acquire`, atomically.
    decision try_acquire(time_point now, std::uint32_t n = 1) noexcept
    {
        return rule_.try_acquire(now, n);
    }

    /// As `leaky_bucket::reserve`, atomically: concurrent reservations each get their own slot.
    std::optional<time_point> reserve(time_point now, std::uint32_t n = 1) noexcept
    {
        return rule_.reserve(now, n);
    }

    /// As `leaky_bucket::refund`, atomically.
    void refund(std::uint32_t n = 1) noexcept { rule_.refund(n); }

    /// As `leaky_bucket::available`; other threads may change it right after.
    std::uint32_t available(time_point now) const noexcept { return rule_.available(now); }

    /// The most cells that may go back to back.
    std::uint32_t burst() const noexcept { return rule_.burst(); }

    /// The spacing T between cells once the burst is spent.
    duration emission_interval() const noexcept { return rule_.interval(); }

private:
    detail::gcra<Clock, detail::atomic_cell, detail::bucket_anchor::full_at> rule_;
};

} // namespace discord_ratelimit

#endif
