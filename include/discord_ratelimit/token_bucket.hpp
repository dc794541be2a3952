// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_TOKEN_BUCKET_HPP
#define DISCORD_RATELIMIT_TOKEN_BUCKET_HPP

/// @file
/// `token_bucket` and `atomic_token_bucket`: at most `burst` requests at once, one more every
/// `interval`. Client-side pacing that keeps a bot under a limit it knows in advance.
///
/// A token bucket and a `leaky_bucket` with the same burst and interval make the same decisions:
/// they are the two textbook views of one rule. Take the token bucket to say "N at once, then one
/// per interval" (N requests per window: burst N, interval window / N); take the leaky bucket to
/// pace ("one every T"), where burst defaults to 1.

#include <discord_ratelimit/bucket_decision.hpp>
#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/detail/bucket_cell.hpp>
#include <discord_ratelimit/detail/gcra.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace discord_ratelimit {

/// A token bucket: it holds at most `burst` tokens, starts full, and gains one token every
/// `interval`; each request takes tokens.
///
/// The whole state is one time value, the "zero time": when the bucket would have been empty.
/// The bucket holds `(now - zero time) / interval` tokens, at most `burst`, and taking n tokens
/// moves the zero time n intervals later. Decisions are therefore exact to the tick of
/// `Clock::duration`, in integer arithmetic, without division, allocation or clock reads.
///
/// Time is passed in: the bucket never reads `Clock`, so read the clock once per request and test
/// with any time points you like. A `now` earlier than one passed before (a non-monotonic caller)
/// sees fewer tokens, never more. Where the exact schedule does not fit in 64 bits (a `now` within
/// `burst * interval` of the clock's first time point, tokens that would come only after its last
/// one), the bucket rounds toward refusing: it never grants, nor schedules a reservation, earlier
/// than the exact rule would. A wait longer than `duration` can hold reads `duration::max()`.
///
/// Which member to use:
/// - `try_acquire`: go now or do something else (skip, coalesce, fail fast). Takes tokens only
///   when it grants; otherwise says how long until they would be there.
/// - `reserve`: the caller goes in any case and wants to know when. It always takes the tokens,
///   going into debt, so callers queue at now, now + interval, now + 2 * interval, ...
/// - `refund`: a reservation was abandoned before its request was sent.
/// - `available`: to observe (metrics, logs). Deciding on it races with other callers.
///
/// @tparam Clock a `clock` whose `rep` is a signed 64-bit integer.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe; share an `atomic_token_bucket` instead.
template <clock Clock = std::chrono::steady_clock>
class token_bucket
    : public detail::gcra<Clock, detail::plain_cell, detail::bucket_anchor::empty_at> {
public:
    /// `token_bucket(std::uint32_t burst, duration interval)`:
    /// A full bucket of `burst` tokens that gains one token every `interval`.
    /// @throws std::invalid_argument when `burst` is 0 or `interval` is not positive.
    using token_bucket::gcra::gcra;
};

/// A `token_bucket` that many threads may share: lock-free, its state one 64-bit atomic.
///
/// Makes the same decisions as a `token_bucket` given the same sequence of calls; calls from
/// several threads take effect in some single order. Each call is one load, plus one
/// compare-exchange per attempt when it takes or gives back tokens; a refusal writes nothing.
/// Neither copyable nor movable.
///
/// @tparam Clock a `clock` whose `rep` is a signed 64-bit integer.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe.
template <clock Clock = std::chrono::steady_clock>
class atomic_token_bucket
    : public detail::gcra<Clock, detail::atomic_cell, detail::bucket_anchor::empty_at> {
public:
    /// `atomic_token_bucket(std::uint32_t burst, duration interval)`:
    /// A full bucket of `burst` tokens that gains one token every `interval`.
    /// @throws std::invalid_argument when `burst` is 0 or `interval` is not positive.
    using atomic_token_bucket::gcra::gcra;
};

// The constructors are inherited, so class template argument deduction needs these guides: a
// duration (`token_bucket b{..., 20ms}`) picks the default clock, as it did when the constructors
// were the classes' own.
template <class Rep, class Period>
token_bucket(std::uint32_t, std::chrono::duration<Rep, Period>) -> token_bucket<>;
template <class Rep, class Period>
atomic_token_bucket(std::uint32_t, std::chrono::duration<Rep, Period>) -> atomic_token_bucket<>;

} // namespace discord_ratelimit

#endif
