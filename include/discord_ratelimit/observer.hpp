// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_OBSERVER_HPP
#define DISCORD_RATELIMIT_OBSERVER_HPP

/// @file
/// What the engine tells a bot about its traffic: observer events for logs, and a snapshot of
/// counters for metrics. Events name routes by their key template and major parameter id only:
/// never a bot token, a webhook token or an interaction token.

#include <discord_ratelimit/headers.hpp>
#include <discord_ratelimit/response.hpp>
#include <discord_ratelimit/route.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace discord_ratelimit {

/// Why a request had to wait.
enum class wait_reason : std::uint8_t {
    none,
    bucket_exhausted, ///< the bucket's window is used up until its reset
    unknown_bucket,   ///< the bucket is being discovered: one probe is in flight
    in_flight,        ///< the window's remaining requests are all in flight
    global_limit,     ///< the global limit's slots are all taken
    global_429,       ///< a global 429 paused every non-exempt route
    route_blocked,    ///< a shared-scope or sub-limit 429 delays this route and major parameter
    hidden_limit,     ///< the channel name/topic edit limit (2 per 10 minutes)
    retry_backoff,    ///< a retry waits for its backoff or Retry-After
    queued,           ///< earlier requests of the same bucket go first (FIFO)
};

constexpr std::string_view to_string(wait_reason r) noexcept
{
    switch (r) {
    case wait_reason::none: return "none";
    case wait_reason::bucket_exhausted: return "bucket_exhausted";
    case wait_reason::unknown_bucket: return "unknown_bucket";
    case wait_reason::in_flight: return "in_flight";
    case wait_reason::global_limit: return "global_limit";
    case wait_reason::global_429: return "global_429";
    case wait_reason::route_blocked: return "route_blocked";
    case wait_reason::hidden_limit: return "hidden_limit";
    case wait_reason::retry_backoff: return "retry_backoff";
    case wait_reason::queued: return "queued";
    }
    return "unknown";
}

/// Receives the engine's events. Override what you need; every default does nothing.
/// Called synchronously from the engine's member functions, on the caller's thread: keep it short,
/// and do not call back into the engine from it.
class engine_observer {
public:
    virtual ~engine_observer() = default;

    /// A request was granted after waiting `waited`, last because of `why`.
    virtual void on_waited(const route& /*r*/, std::chrono::nanoseconds /*waited*/,
                           wait_reason /*why*/)
    {
    }
    /// A 429 arrived (`scope` is one of the 429 outcomes), asking to wait `retry_after`.
    virtual void on_rate_limited(const route& /*r*/, outcome /*scope*/,
                                 std::chrono::nanoseconds /*retry_after*/)
    {
    }
    /// The route's bucket hash was learned for the first time.
    virtual void on_bucket_discovered(const route& /*r*/, const bucket_hash& /*hash*/) {}
    /// The route's bucket hash changed from `before` to `after`.
    virtual void on_bucket_changed(const route& /*r*/, const bucket_hash& /*before*/,
                                   const bucket_hash& /*after*/)
    {
    }
    /// Invalid requests of the last 10 minutes reached `count`, crossing the warning `threshold`.
    virtual void on_invalid_request_warning(std::uint32_t /*count*/, std::uint32_t /*threshold*/) {}
    /// A Cloudflare ban was detected: every request fails for `cooldown`.
    virtual void on_ban(std::chrono::nanoseconds /*cooldown*/) {}
};

/// Counters a bot exports to its metrics (see `engine::stats`).
///
/// @par Thread Safety
/// A value type (a snapshot): safe for concurrent reads.
struct engine_stats {
    std::uint64_t requests = 0;  ///< acquisitions started
    std::uint64_t granted = 0;   ///< permits granted (retries included)
    std::uint64_t waited = 0;    ///< grants that had to wait
    std::uint64_t succeeded = 0; ///< requests that ended with a success
    std::uint64_t failed = 0;    ///< requests that ended with an error
    std::uint64_t retries = 0;   ///< attempts scheduled again
    std::uint64_t cancelled = 0; ///< tickets or permits cancelled
    /// 429s by class, indexed user, global, shared, sub-limit, cloudflare.
    std::array<std::uint64_t, 5> rate_limited{};
    std::uint32_t invalid_requests_10min =
        0;                        ///< 401, 403 and non-shared 429 in the last 10 minutes
    std::size_t buckets = 0;      ///< live bucket states
    std::size_t routes = 0;       ///< routes with a learned bucket hash
    std::size_t live_tickets = 0; ///< tickets not ended yet: waiting or in flight
    /// Work, not traffic: how many times the engine looked at a waiting ticket while walking a
    /// bucket's queue to grant (each step of a drain). It grows with the work the engine does, not
    /// with time, so that tests can bound the cost of an operation (e.g. cancelling N waiters
    /// costs O(N) steps) without timing it. One increment per step: cheap enough to always count.
    std::uint64_t queue_steps = 0;

    std::uint64_t rate_limited_total() const noexcept
    {
        std::uint64_t total = 0;
        for (auto n : rate_limited)
            total += n;
        return total;
    }

    /// Index into `rate_limited` for a 429 outcome.
    static constexpr std::size_t index_of(outcome o) noexcept
    {
        switch (o) {
        case outcome::global_429: return 1;
        case outcome::shared_429: return 2;
        case outcome::sublimit_429: return 3;
        case outcome::cloudflare_429: return 4;
        default: return 0;
        }
    }
};

} // namespace discord_ratelimit

#endif
