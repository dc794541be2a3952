// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DISCORD_BUCKET_HPP
#define DISCORD_RATELIMIT_DISCORD_BUCKET_HPP

/// @file
/// The state of one Discord rate-limit bucket, for one (bucket hash, major parameter) pair, and the
/// rules that update it: how many requests may go now, and what a response teaches.

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/detail/saturating_ticks.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

namespace discord_ratelimit {

/// What a response says about its bucket, already validated (see `rate_limit_headers`).
struct bucket_update {
    std::optional<std::uint32_t> limit;
    std::optional<std::uint32_t> remaining;
    /// X-RateLimit-Reset-After, or Reset minus Date when Reset-After is absent.
    std::optional<std::chrono::nanoseconds> reset_after;
    /// X-RateLimit-Reset (on Discord's clock): only compared with other responses' Reset, to tell
    /// which window counted a request.
    std::optional<std::chrono::nanoseconds> reset_epoch;
};

/// One Discord bucket's window, on the caller's monotonic clock.
///
/// The accounting is conservative by construction, so that the server never counts more requests in
/// a window than its limit:
/// - `granted` counts the permits charged to the current window (in-flight permits granted in an
///   earlier window are charged again when a window rolls over: the server may count them in
///   either);
/// - `server_used` is the largest `limit - remaining` any response of the window reported, so a
/// late,
///   out-of-order response never restores a stale, higher remaining;
/// - requests still in flight may not have been counted by the server yet, so they are subtracted
///   from what the server reported.
/// The number that may go now is `min(limit - granted, limit - server_used - in_flight)`.
///
/// A bucket whose limit is not known yet admits exactly one probe at a time until a response with
/// headers arrives. A bucket that answered a success without any rate-limit header is treated as
/// unlimited (only the global limit applies) until a response says otherwise.
///
/// The reset deadline is counted from the moment a response was received (`now + reset_after`); the
/// latest deadline any response of the window gave is kept, since some routes slide their window.
///
/// The state is 72 bytes on a 64-bit clock (see `bucket_registry` on memory per bucket): optional
/// values are kept as flags and sentinels, and the probe pause shares the reset deadline's field.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
template <clock Clock>
class discord_bucket {
public:
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;

    /// The window a permit was charged to; give it back to `on_response`, `on_cancel` or `on_lost`.
    /// Wraps after 2^29 windows; a permit is never in flight that long.
    using window_id = std::uint32_t;

    /// How many requests may be granted at `now` (rolls the window over first when its deadline
    /// passed).
    std::uint32_t available(time_point now) noexcept
    {
        roll(now);
        if (unlimited())
            return unlimited_capacity;
        if (!limit_known())
            return in_flight_ == 0 && now >= probe_held_until() ? 1U : 0U;
        const std::int64_t limit = limit_;
        const std::int64_t by_grants = limit - granted_;
        const std::int64_t by_server =
            limit - static_cast<std::int64_t>(server_used_) - static_cast<std::int64_t>(in_flight_);
        return static_cast<std::uint32_t>(
            std::max<std::int64_t>(0, std::min(by_grants, by_server)));
    }

    /// When time alone could make more requests available, if ever (an unknown bucket waits for its
    /// probe's response instead: no time point, unless a lost probe holds the next one back).
    std::optional<time_point> next_reset() const noexcept
    {
        if (!limit_known() && in_flight_ == 0 && probe_held_until() != time_point{})
            return probe_held_until();
        if (!limit_known() || unlimited())
            return std::nullopt;
        if (!deadline_confirmed() && in_flight_ > 0)
            return std::nullopt; // wait for the in-flight responses to say when the window ends
        return reset_at_;
    }

    /// Charges one permit to the current window. Call only when `available(now) > 0`.
    window_id on_grant(time_point now) noexcept
    {
        roll(now);
        if (limit_known() && !unlimited() && now >= reset_at_ && granted_ == 0 && in_flight_ == 0) {
            // The first request after an idle spell opens a window: estimate its end until told.
            reset_at_ = detail::later_by(now, window_length_);
            set(deadline_confirmed_bit, false);
        }
        ++granted_;
        ++in_flight_;
        last_used_ = now;
        return window();
    }

    /// A granted permit was never sent (or Discord did not count it): its capacity comes back.
    /// Whatever window it was granted in, it is charged to the current one: granted in it, or
    /// carried into it by a roll-over while in flight.
    void on_cancel() noexcept
    {
        leave_flight();
        if (granted_ > 0)
            --granted_;
    }

    /// A permit ended without a usable response (network error, timeout): it may have been counted.
    /// While the limit is still unknown, the next probe waits `probe_pause`: the lost one may have
    /// used the only request of a window nothing is known of yet.
    void on_lost(time_point now, duration probe_pause = {}) noexcept
    {
        leave_flight();
        if (!limit_known())
            reset_at_ = detail::later_by(now, probe_pause); // the probe pause: `probe_held_until`
        // It reached the server before its failure came back, but perhaps after the server's reset:
        // the next window must still count it.
        ++lost_;
        last_used_ = now;
    }

    /// A response to a permit of `window` arrived at `now` with what its headers said.
    /// Returns true when the bucket learned its limit for the first time.
    bool on_response(window_id window, const bucket_update& update, time_point now) noexcept
    {
        leave_flight();
        last_used_ = now;
        const bool has_info = update.limit || update.remaining || update.reset_after;
        if (!has_info)
            return false;
        const bool discovered = !limit_known();
        set(unlimited_bit, false);
        if (update.limit) {
            limit_ = *update.limit;
            set(limit_known_bit, true);
        }
        if (discovered && limit_known())
            reset_at_ = {}; // it held the probe pause, not a deadline
        // Only meaningful with a Reset-After; kept as a plain value (g++ 12 misreads an optional
        // here).
        const time_point deadline =
            update.reset_after ? detail::later_by(now, to_duration(*update.reset_after)) : time_point{};
        if (window != this->window() && !discovered &&
            counted_in_previous_window(update, deadline)) {
            // Sent before the last roll-over and counted by the server in the previous window: the
            // current window charged it for nothing.
            if (granted_ > 0)
                --granted_;
            return false;
        }
        if (update.reset_epoch)
            reset_epoch_ = *update.reset_epoch;
        if (update.remaining && limit_known()) {
            const std::uint32_t used = limit_ > *update.remaining ? limit_ - *update.remaining : 0;
            server_used_ = std::max(server_used_, used);
        }
        if (update.reset_after) {
            window_length_ = std::max(window_length_, to_duration(*update.reset_after));
            reset_at_ = deadline_confirmed() ? std::max(reset_at_, deadline) : deadline;
            set(deadline_confirmed_bit, true);
        }
        return discovered;
    }

    /// A 429 that says this request was not counted in the bucket (a shared-scope 429, a hidden
    /// sub-limit's, or the global limit's): the permit's charge comes back, as for `on_cancel`,
    /// and the headers it carries (Discord's shared 429 shows the bucket, uncharged) teach what
    /// any response's do. Returns true when the bucket learned its limit for the first time.
    bool on_refused(window_id window, const bucket_update& update, time_point now) noexcept
    {
        // The permit is charged to the current window: granted in it, or carried into it by a
        // roll-over while in flight. Give it back unless `on_response` already did.
        const std::uint32_t before = granted_;
        const bool discovered = on_response(window, update, now);
        if (granted_ == before && granted_ > 0)
            --granted_;
        return discovered;
    }

    /// A success without any rate-limit header: the route is not limited per bucket.
    void on_headerless_success(time_point now) noexcept
    {
        leave_flight();
        last_used_ = now;
        if (!limit_known())
            set(unlimited_bit, true);
    }

    /// A user-scope 429: the bucket is spent until at least `until`.
    void exhaust_until(time_point until) noexcept
    {
        if (limit_known()) {
            server_used_ = limit_;
        } else {
            limit_ = 1; // a 429 without headers: assume the smallest bucket until told otherwise
            set(limit_known_bit, true);
            reset_at_ = {}; // it held the probe pause, not a deadline
        }
        set(unlimited_bit, false);
        reset_at_ = deadline_confirmed() ? std::max(reset_at_, until) : until;
        set(deadline_confirmed_bit, true);
    }

    std::optional<std::uint32_t> limit() const noexcept
    {
        return limit_known() ? std::optional<std::uint32_t>{limit_} : std::nullopt;
    }
    /// While the limit is unknown: no probe goes before this (see `on_lost`).
    time_point probe_held_until() const noexcept
    {
        return limit_known() ? time_point{} : reset_at_;
    }
    bool unlimited() const noexcept { return (bits_ & unlimited_bit) != 0; }
    std::uint32_t in_flight() const noexcept { return in_flight_; }
    std::uint32_t granted() const noexcept { return granted_; }
    time_point reset_at() const noexcept { return reset_at_; }
    /// The window's length as far as responses told: the longest Reset-After seen (zero before).
    duration window_length() const noexcept { return window_length_; }
    time_point last_used() const noexcept { return last_used_; }
    window_id window() const noexcept { return bits_ >> flag_count; }

    /// Nothing in flight and nothing charged to a window that is still open: forgetting it is safe.
    bool idle(time_point now) noexcept
    {
        roll(now);
        return in_flight_ == 0 && (granted_ == 0 || !limit_known() || unlimited());
    }

    /// Adds another bucket's charges to this one (two routes turned out to share one bucket). The
    /// permits charged to `other` now belong to this bucket's current window, `window()`.
    void absorb(const discord_bucket& other) noexcept
    {
        in_flight_ += other.in_flight_;
        granted_ += other.granted_;
        last_used_ = std::max(last_used_, other.last_used_);
    }

    static constexpr std::uint32_t unlimited_capacity = 0xFFFF'FFFFU;

private:
    static duration to_duration(std::chrono::nanoseconds d) noexcept
    {
        return std::chrono::ceil<duration>(d);
    }

    /// Whether an answer to a permit of an earlier window describes that earlier window: its Reset
    /// matches the previous window's (both on Discord's clock), or, without Reset, its deadline
    /// lies closer to the previous window's end than to the current one's.
    bool counted_in_previous_window(const bucket_update& update, time_point deadline) const noexcept
    {
        if (update.reset_epoch && previous_reset_epoch_ != no_epoch)
            return *update.reset_epoch <= previous_reset_epoch_ + std::chrono::milliseconds{1};
        if (!update.reset_after)
            return true;
        return deadline <= detail::later_by(previous_reset_at_, window_length_ / 2);
    }

    void leave_flight() noexcept
    {
        if (in_flight_ > 0)
            --in_flight_;
    }

    void roll(time_point now) noexcept
    {
        if (!limit_known() || unlimited() || now < reset_at_)
            return;
        if (!deadline_confirmed() && in_flight_ > 0)
            return; // the deadline was only estimated: wait for the responses instead of guessing
        if (granted_ == 0 && server_used_ == 0 && in_flight_ == 0 && lost_ == 0)
            return; // nothing charged: the window is already fresh
        previous_reset_at_ = reset_at_;
        previous_reset_epoch_ = reset_epoch_;
        reset_epoch_ = no_epoch;
        bits_ += window_step; // the window id wraps; the flags below it stay as they are
        // A lost permit may count in the window that opens now, unless that window has no length
        // (no Reset-After seen yet): it ends as it opens, and carrying the charge over would hold
        // a window that already ended, with nothing left to wake its waiters.
        granted_ = in_flight_ + (window_length_ > duration::zero() ? lost_ : 0);
        lost_ = 0;
        server_used_ = 0;
        // Estimated until a response of the new window says when it ends.
        reset_at_ = detail::later_by(now, window_length_);
        set(deadline_confirmed_bit, false);
    }

    static constexpr std::uint32_t unlimited_bit = 1U;
    static constexpr std::uint32_t deadline_confirmed_bit = 2U;
    static constexpr std::uint32_t limit_known_bit = 4U;
    static constexpr unsigned flag_count = 3;
    static constexpr std::uint32_t window_step = 1U << flag_count;
    static constexpr std::chrono::nanoseconds no_epoch = std::chrono::nanoseconds::min();

    bool limit_known() const noexcept { return (bits_ & limit_known_bit) != 0; }
    bool deadline_confirmed() const noexcept { return (bits_ & deadline_confirmed_bit) != 0; }
    void set(std::uint32_t bit, bool on) noexcept { bits_ = on ? (bits_ | bit) : (bits_ & ~bit); }

    /// `reset_at_` holds the window's deadline once the limit is known, and the probe pause of
    /// `on_lost` before.
    time_point reset_at_{};
    time_point previous_reset_at_{};
    time_point last_used_{};
    duration window_length_{};
    /// X-RateLimit-Reset on Discord's clock, `no_epoch` when not told.
    std::chrono::nanoseconds reset_epoch_ = no_epoch;
    std::chrono::nanoseconds previous_reset_epoch_ = no_epoch;
    std::uint32_t limit_ = 0; ///< meaningful when `limit_known()`
    std::uint32_t granted_ = 0;
    std::uint32_t server_used_ = 0;
    std::uint32_t in_flight_ = 0;
    std::uint32_t lost_ = 0; ///< permits of this window that ended without an answer
    /// The window id (`window()`) above three flags: unlimited, deadline confirmed, limit known.
    std::uint32_t bits_ = 0;
};

} // namespace discord_ratelimit

#endif
