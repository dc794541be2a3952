// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_GLOBAL_LIMITER_HPP
#define DISCORD_RATELIMIT_GLOBAL_LIMITER_HPP

/// @file
/// The bot-wide global limit (50 requests per second by default), paced so that no rolling second,
/// as Discord sees arrivals, holds more than the limit, whatever the latency.

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/detail/saturating_ticks.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

namespace discord_ratelimit {

/// Pre-emptive pacing of the global limit, plus the pause a global 429 imposes.
///
/// Discord counts arrivals in a one-second window and does not say whether it is fixed or rolling.
/// A request arrives somewhere between its send and its response, so the limiter lets a request
/// occupy one slot from its send until one `window` after its response arrived. Every second of
/// arrivals the server can see then lies inside an instant at which all those requests held a slot
/// at once, so no more than `limit` can arrive in any second. With zero latency this allows the
/// full burst of `limit` per second; it neither smooths to one request per `window / limit` nor
/// anchors a fixed window at the first send (whose edges overlap on the server under jitter).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
template <clock Clock>
class global_limiter {
public:
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;

    /// @throws std::invalid_argument when `limit` is 0 or `window` is not positive.
    explicit global_limiter(
        std::uint32_t limit = 50,
        duration window = std::chrono::duration_cast<duration>(std::chrono::seconds{1}))
        : limit_{limit}
        , window_{window}
    {
        if (limit == 0)
            throw std::invalid_argument{"global_limiter: the limit must be at least 1"};
        if (window <= duration::zero())
            throw std::invalid_argument{"global_limiter: the window must be positive"};
        // A bot's limit (50, or a few thousand for large bots) costs nothing to keep ready; a huge
        // limit, meant as "no global limit", must not allocate a slot per unit up front.
        releases_.reserve(std::min<std::uint32_t>(limit, 4096));
    }

    /// True when a request may be sent at `now`.
    bool may_send(time_point now) noexcept
    {
        return now >= paused_until_ && occupied(now) < limit_;
    }

    /// When time alone frees a slot or ends a pause; no value when every slot waits for a response.
    std::optional<time_point> next_free(time_point now) noexcept
    {
        if (now < paused_until_)
            return occupied(paused_until_) < limit_ ? std::optional{paused_until_} : next_release();
        if (occupied(now) < limit_)
            return now;
        return next_release();
    }

    /// A request was sent (or is about to be) at `now`.
    void on_send() noexcept { ++in_flight_; }

    /// A sent request's response (or its failure) arrived at `now`: it holds its slot one more
    /// window.
    void on_response(time_point now)
    {
        if (in_flight_ > 0)
            --in_flight_;
        expire(now);
        if (releases_.size() >= limit_) // defensive: never more pending releases than slots
            releases_.erase(releases_.begin());
        releases_.push_back(detail::later_by(now, window_));
    }

    /// A granted request was never sent: its slot is free at once.
    void on_cancel() noexcept
    {
        if (in_flight_ > 0)
            --in_flight_;
    }

    /// A global 429 arrived: no request may go before `until`.
    void pause_until(time_point until) noexcept { paused_until_ = std::max(paused_until_, until); }

    time_point paused_until() const noexcept { return paused_until_; }
    std::uint32_t limit() const noexcept { return limit_; }
    std::uint32_t in_flight() const noexcept { return in_flight_; }

    /// Slots held at `now`: requests in flight plus responses younger than one window.
    std::uint32_t occupied(time_point now) noexcept
    {
        expire(now);
        return in_flight_ + static_cast<std::uint32_t>(releases_.size());
    }

    /// Slots that will still be held at `at` (not before `now`) as far as is known now: every
    /// request in flight (its response comes at `now` at the earliest, so it holds its slot
    /// until at least `now + window`) and every response whose window ends after `at`. Exact for
    /// `at < now + window`; a later `at` may find slots of requests in flight free again.
    std::uint32_t occupied_at(time_point now, time_point at) noexcept
    {
        expire(now);
        const auto later = std::count_if(releases_.begin(), releases_.end(),
                                         [at](time_point release) { return release > at; });
        return in_flight_ + static_cast<std::uint32_t>(later);
    }

    duration window() const noexcept { return window_; }

private:
    void expire(time_point now)
    {
        // Release times are pushed in time order (callers pass non-decreasing `now`).
        const auto first_live = std::find_if(releases_.begin(), releases_.end(),
                                             [now](time_point release) { return release > now; });
        releases_.erase(releases_.begin(), first_live);
    }

    std::optional<time_point> next_release() const noexcept
    {
        if (releases_.empty())
            return std::nullopt;
        return releases_.front();
    }

    std::uint32_t limit_;
    duration window_;
    std::uint32_t in_flight_ = 0;
    std::vector<time_point> releases_;
    time_point paused_until_{};
};

} // namespace discord_ratelimit

#endif
