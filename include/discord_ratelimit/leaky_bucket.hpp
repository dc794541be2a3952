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
class leaky_bucket
    : public detail::gcra<Clock, detail::plain_cell, detail::bucket_anchor::full_at> {
public:
    /// `leaky_bucket(duration emission_interval, std::uint32_t burst = 1)`:
    /// An empty (fully drained) meter: `burst` requests may go at once, then one per
    /// `emission_interval`.
    /// @throws std::invalid_argument when `emission_interval` is not positive or `burst` is 0.
    using leaky_bucket::gcra::gcra;
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
class atomic_leaky_bucket
    : public detail::gcra<Clock, detail::atomic_cell, detail::bucket_anchor::full_at> {
public:
    /// `atomic_leaky_bucket(duration emission_interval, std::uint32_t burst = 1)`:
    /// An empty (fully drained) meter: `burst` requests may go at once, then one per
    /// `emission_interval`.
    /// @throws std::invalid_argument when `emission_interval` is not positive or `burst` is 0.
    using atomic_leaky_bucket::gcra::gcra;
};

// The constructors are inherited, so class template argument deduction needs these guides: a
// duration (`leaky_bucket b{..., 20ms}`) picks the default clock, as it did when the constructors
// were the classes' own.
template <class Rep, class Period>
leaky_bucket(std::chrono::duration<Rep, Period>, std::uint32_t = 1) -> leaky_bucket<>;
template <class Rep, class Period>
atomic_leaky_bucket(std::chrono::duration<Rep, Period>, std::uint32_t = 1) -> atomic_leaky_bucket<>;

} // namespace discord_ratelimit

#endif
