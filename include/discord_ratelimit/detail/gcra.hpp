// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_GCRA_HPP
#define DISCORD_RATELIMIT_DETAIL_GCRA_HPP

/// @file
/// The one rule behind `token_bucket` and `leaky_bucket`: the generic cell rate algorithm, kept as
/// one time value in a `plain_cell` or an `atomic_cell`. The four public buckets are this class,
/// under their own names and documentation.

#include <discord_ratelimit/bucket_decision.hpp>
#include <discord_ratelimit/detail/bucket_cell.hpp>
#include <discord_ratelimit/detail/saturating_ticks.hpp>

#include <concepts>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace discord_ratelimit::detail {

/// Which instant the bucket's one time value names. The two differ by `burst * interval`.
///
/// The anchor is also the view, and each view takes its constructor arguments and names its
/// interval in its own words: `token_bucket(burst, interval)`, `leaky_bucket(emission_interval,
/// burst = 1)`.
enum class bucket_anchor : std::uint8_t {
    empty_at, ///< when the bucket would have been empty (a token bucket's "zero time")
    full_at,  ///< when the bucket is full again (GCRA's theoretical arrival time)
};

/// A bucket of `burst` tokens refilled one per `interval`, as one time value `state` (in ticks).
///
/// At a given `now`, the bucket is full at `floor` and may be drawn down until `limit`, with
/// `limit - floor == burst * interval` (less where saturated). Taking n tokens moves the state from
/// `max(state, floor)` n intervals later, which is allowed when the result is not past `limit`.
/// For `empty_at`, `limit` is `now`; for `full_at`, `floor` is `now`.
///
/// Every value that does not fit in 64 bits rounds toward refusing: `floor` saturates up,
/// `limit` down, and a state that would pass `latest_tick` is refused (or, when reserved, stored as
/// `latest_tick`, which grants nothing more).
///
/// Its public members are the buckets' own, which inherit them, constructors included. They speak
/// of tokens; for a leaky bucket read cells: taking n tokens lets n cells through, advancing the
/// TAT. Over an `atomic_cell` each call takes effect atomically.
template <class Clock, class Cell, bucket_anchor Anchor>
class gcra {
    static_assert(std::signed_integral<typename Clock::rep> &&
                      sizeof(typename Clock::rep) == sizeof(std::int64_t),
                  "the buckets need a Clock whose rep is a signed 64-bit integer");

public:
    using clock_type = Clock;
    using duration = typename Clock::duration;
    using time_point = typename Clock::time_point;
    using decision = bucket_decision<duration>;

    /// A full token bucket of `burst` tokens that gains one token every `interval`.
    /// @throws std::invalid_argument when `burst` is 0 or `interval` is not positive.
    explicit gcra(std::uint32_t burst,
                  duration interval) requires(Anchor == bucket_anchor::empty_at)
        : gcra{"interval", burst, interval}
    {
    }

    /// An empty (fully drained) leaky bucket: `burst` requests may go at once, then one per
    /// `emission_interval`.
    /// @throws std::invalid_argument when `emission_interval` is not positive or `burst` is 0.
    explicit gcra(duration emission_interval,
                  std::uint32_t burst = 1) requires(Anchor == bucket_anchor::full_at)
        : gcra{"emission interval", burst, emission_interval}
    {
    }

    /// Takes `n` tokens if the bucket holds them at `now`.
    ///
    /// @returns `granted` (tokens taken, `wait` zero); `wait` (nothing taken; `wait` is exactly how
    /// long until `n` tokens would be there if nobody else took any); or `never` when `n` exceeds
    /// `burst()`. `n == 0` is always granted and takes nothing.
    decision try_acquire(time_point now, std::uint32_t n = 1) noexcept
    {
        if (n == 0)
            return {bucket_verdict::granted, duration::zero()};
        if (n > burst_)
            return {bucket_verdict::never, duration::max()};
        if (!fits(n))
            return {bucket_verdict::wait, duration::max()};
        const frame bounds = frame_at(ticks_of(now));
        const std::int64_t cost = cost_of(n);
        return cell_.update([&](std::int64_t state) noexcept -> cell_update<decision> {
            const std::optional<std::int64_t> next = take(state, bounds, cost);
            if (!next)
                return {false, state, {bucket_verdict::wait, duration::max()}};
            if (*next > bounds.limit)
                return {false,
                        state,
                        {bucket_verdict::wait, duration{distance_saturated(bounds.limit, *next)}}};
            return {true, *next, {bucket_verdict::granted, duration::zero()}};
        });
    }

    /// Takes `n` tokens now, in debt if need be, and says when the caller may go.
    ///
    /// @returns `now` when the tokens are there, otherwise the time point at which the debt is paid
    /// (`time_point::max()` when that lies beyond the clock's range); no value, and nothing taken,
    /// when `n` exceeds `burst()`. Later callers queue behind the debt; concurrent reservations on
    /// an atomic bucket each get their own slot.
    std::optional<time_point> reserve(time_point now, std::uint32_t n = 1) noexcept
    {
        if (n == 0)
            return now;
        if (n > burst_)
            return std::nullopt;
        if (!fits(n)) {
            // More intervals than 64 bits of ticks can schedule: the bucket is spent for good.
            cell_.update([](std::int64_t) noexcept {
                return cell_update<bool>{true, latest_tick, true};
            });
            return time_point::max();
        }
        const frame bounds = frame_at(ticks_of(now));
        const std::int64_t cost = cost_of(n);
        const std::int64_t ready = cell_.update([&](std::int64_t state) noexcept {
            const std::optional<std::int64_t> next = take(state, bounds, cost);
            if (!next)
                return cell_update<std::int64_t>{true, latest_tick, latest_tick};
            // The caller may go once `limit`, which stays `lead` ahead of now, reaches `next`.
            const std::int64_t go = *next <= bounds.limit ? bounds.now : *next - bounds.lead();
            return cell_update<std::int64_t>{true, *next, go};
        });
        return time_point{duration{ready}};
    }

    /// Gives back `n` tokens of a reservation whose request was never sent.
    ///
    /// The bucket never holds more than `burst()` tokens, whatever is refunded. Refunding tokens
    /// that were used lets more requests through than the limit allows.
    void refund(std::uint32_t n = 1) noexcept
    {
        if (n == 0)
            return;
        const std::int64_t cost = cost_of(n); // saturating gives back less, never more
        cell_.update([&](std::int64_t state) noexcept -> cell_update<bool> {
            // A saturated state lost how deep the debt went: giving back could over-grant.
            if (state == latest_tick)
                return {false, state, false};
            return {true, subtract_saturated(state, cost), true};
        });
    }

    /// The tokens the bucket holds at `now`: 0 to `burst()`; 0 while in debt. On an atomic bucket
    /// other threads may change it right after.
    std::uint32_t available(time_point now) const noexcept
    {
        const frame bounds = frame_at(ticks_of(now));
        const std::int64_t state = cell_.load();
        const std::int64_t base = state < bounds.floor ? bounds.floor : state;
        if (base >= bounds.limit)
            return 0;
        // Off the hot path: the only division the buckets make after construction.
        const std::int64_t tokens = distance_saturated(base, bounds.limit) / interval_;
        return tokens >= static_cast<std::int64_t>(burst_) ? burst_
                                                           : static_cast<std::uint32_t>(tokens);
    }

    /// The most tokens the bucket holds: the most requests that may go back to back.
    std::uint32_t burst() const noexcept { return burst_; }

    /// A token bucket's: the time it takes to gain one token.
    duration interval() const noexcept requires(Anchor == bucket_anchor::empty_at)
    {
        return duration{interval_};
    }

    /// A leaky bucket's: the spacing T between cells once the burst is spent.
    duration emission_interval() const noexcept requires(Anchor == bucket_anchor::full_at)
    {
        return duration{interval_};
    }

private:
    /// The public name of this bucket, for error messages.
    static constexpr const char* owner =
        Anchor == bucket_anchor::empty_at
            ? (std::is_same_v<Cell, atomic_cell> ? "atomic_token_bucket" : "token_bucket")
            : (std::is_same_v<Cell, atomic_cell> ? "atomic_leaky_bucket" : "leaky_bucket");

    gcra(const char* interval_name, std::uint32_t burst, duration interval)
        : burst_{burst}
        , interval_{validated_interval(interval_name, burst, interval)}
        , exact_tokens_{latest_tick / interval_}
        , span_{cost_of(burst)}
        , cell_{earliest_tick}
    {
    }

    struct frame {
        std::int64_t now;
        std::int64_t floor; // a state at or before this is a full bucket
        std::int64_t limit; // a grant may move the state up to here; never before now

        std::int64_t lead() const noexcept { return limit - now; }
    };

    static std::int64_t validated_interval(const char* interval_name, std::uint32_t burst,
                                           duration interval)
    {
        if (burst == 0)
            throw std::invalid_argument{std::string{owner} + ": the burst must be at least 1"};
        if (interval <= duration::zero())
            throw std::invalid_argument{std::string{owner} + ": the " + interval_name +
                                        " must be positive"};
        return static_cast<std::int64_t>(interval.count());
    }

    static std::int64_t ticks_of(time_point t) noexcept
    {
        return static_cast<std::int64_t>(t.time_since_epoch().count());
    }

    /// Whether n intervals fit in 64 bits of ticks.
    bool fits(std::uint32_t n) const noexcept
    {
        return static_cast<std::int64_t>(n) <= exact_tokens_;
    }

    /// n intervals in ticks, or `latest_tick` when they do not fit.
    std::int64_t cost_of(std::uint32_t n) const noexcept
    {
        return fits(n) ? static_cast<std::int64_t>(n) * interval_ : latest_tick;
    }

    frame frame_at(std::int64_t now) const noexcept
    {
        if constexpr (Anchor == bucket_anchor::empty_at)
            return {now, subtract_saturated(now, span_), now};
        else
            return {now, now, add_saturated(now, span_)};
    }

    /// The state after taking `cost` ticks' worth of tokens, whether or not that is allowed; no
    /// value when it would pass `latest_tick`.
    static std::optional<std::int64_t> take(std::int64_t state, const frame& bounds,
                                            std::int64_t cost) noexcept
    {
        const std::int64_t base = state < bounds.floor ? bounds.floor : state;
        if (base > latest_tick - cost)
            return std::nullopt;
        return base + cost;
    }

    std::uint32_t burst_;
    std::int64_t interval_;     // ticks, positive
    std::int64_t exact_tokens_; // the most tokens whose intervals add up without overflow
    std::int64_t span_;         // burst * interval, saturated
    Cell cell_;
};

} // namespace discord_ratelimit::detail

#endif
