// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_INVALID_REQUEST_TRACKER_HPP
#define DISCORD_RATELIMIT_INVALID_REQUEST_TRACKER_HPP

/// @file
/// Counts invalid requests (HTTP 401, 403, and 429 other than scope `shared`) over a sliding
/// 10 minutes: Cloudflare bans an IP address at 10,000 of them.

#include <discord_ratelimit/clock.hpp>

#include <array>
#include <chrono>
#include <cstdint>

namespace discord_ratelimit {

/// A sliding 10-minute count with one-second resolution (600 bins, no allocation).
///
/// A request counted at second s leaves the count at second s + 600: the count never under-reports
/// the last 10 minutes by more than the fraction of one second.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
template <clock Clock>
class invalid_request_tracker {
public:
    using time_point = typename Clock::time_point;

    static constexpr std::size_t window_seconds = 600;

    /// Counts one invalid request at `now` and returns the count of the last 10 minutes.
    std::uint32_t record(time_point now) noexcept
    {
        advance(now);
        ++bins_[static_cast<std::size_t>(current_second_) % window_seconds];
        ++total_;
        return total_;
    }

    /// Invalid requests in the 10 minutes up to `now`.
    std::uint32_t count(time_point now) noexcept
    {
        advance(now);
        return total_;
    }

private:
    void advance(time_point now) noexcept
    {
        const auto second =
            std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
        if (!started_) {
            started_ = true;
            current_second_ = second;
            return;
        }
        if (second <= current_second_)
            return; // a non-monotonic caller: keep counting in the current second
        const auto steps = second - current_second_;
        if (steps >= static_cast<decltype(steps)>(window_seconds)) {
            bins_.fill(0);
            total_ = 0;
        } else {
            for (auto s = current_second_ + 1; s <= second; ++s) {
                auto& bin = bins_[static_cast<std::size_t>(s) % window_seconds];
                total_ -= bin;
                bin = 0;
            }
        }
        current_second_ = second;
    }

    std::array<std::uint32_t, window_seconds> bins_{};
    std::uint32_t total_ = 0;
    std::int64_t current_second_ = 0;
    bool started_ = false;
};

} // namespace discord_ratelimit

#endif
