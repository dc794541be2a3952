// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_RETRY_POLICY_HPP
#define DISCORD_RATELIMIT_RETRY_POLICY_HPP

/// @file
/// When a failed attempt is tried again: exponential backoff with full jitter for 5xx, network
/// errors and timeouts, Discord's own wait for 429s, and never a resend that could duplicate a
/// POST.

#include <discord_ratelimit/response.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace discord_ratelimit {

/// The knobs of the retry decisions. The defaults suit a bot; every field may be changed.
///
/// @par Thread Safety
/// A value type: safe for concurrent reads.
struct retry_policy {
    /// Attempts in all (the first one included) for 5xx, network errors and timeouts.
    std::uint32_t max_attempts = 4;
    /// Attempts in all for 429s (each waits what Discord asked for).
    std::uint32_t max_rate_limited_attempts = 6;
    /// Backoff of the first retry; each later one doubles, up to `max_backoff`. Full jitter: the
    /// wait is drawn uniformly from [0, min(max_backoff, initial_backoff * 2^(attempt-1))].
    std::chrono::nanoseconds initial_backoff = std::chrono::milliseconds{500};
    std::chrono::nanoseconds max_backoff = std::chrono::seconds{30};
    /// A POST that may have reached Discord (timeout, network error after sending, 5xx other than
    /// 503) is resent only when this is set, or the request opted in.
    bool resend_non_idempotent = false;

    /// The upper bound of the backoff before attempt number `attempt` + 1 (`attempt` >= 1).
    std::chrono::nanoseconds backoff_ceiling(std::uint32_t attempt) const noexcept
    {
        auto ceiling = std::max(initial_backoff, std::chrono::nanoseconds{1});
        for (std::uint32_t i = 1; i < attempt && ceiling < max_backoff; ++i)
            ceiling *= 2;
        return std::min(ceiling, max_backoff);
    }

    /// True when a failed attempt of this class may have had its effect on Discord's side.
    static constexpr bool may_have_arrived(const response& r, outcome o) noexcept
    {
        if (o == outcome::network_error)
            return r.transport != transport_error::connect_failed;
        if (o == outcome::server_error)
            return r.status != 503; // 503: Discord did not take the request
        return o == outcome::timeout;
    }
};

/// splitmix64: a small, fast, seedable generator, so that the engine stays deterministic.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
class jitter_source {
public:
    explicit jitter_source(std::uint64_t seed = 0x9E3779B97F4A7C15ULL) noexcept
        : state_{seed}
    {
    }

    std::uint64_t next() noexcept
    {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    /// Uniform in [0, ceiling].
    std::chrono::nanoseconds uniform(std::chrono::nanoseconds ceiling) noexcept
    {
        if (ceiling <= std::chrono::nanoseconds::zero())
            return std::chrono::nanoseconds::zero();
        const auto span = static_cast<std::uint64_t>(ceiling.count()) + 1U;
        return std::chrono::nanoseconds{static_cast<std::int64_t>(next() % span)};
    }

private:
    std::uint64_t state_;
};

} // namespace discord_ratelimit

#endif
