// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ERROR_HPP
#define DISCORD_RATELIMIT_ERROR_HPP

/// @file
/// Why the library failed a request, as `std::error_code`s of the `discord_ratelimit` category.
/// No message ever contains a bot token, a webhook token or an interaction token.

#include <string>
#include <system_error>

namespace discord_ratelimit {

/// The reasons a request handed to the library ends without a successful response.
enum class error {
    rate_limited = 1,  ///< the known wait exceeds the request's maximum wait or deadline
    deadline_exceeded, ///< the request's deadline passed while it waited
    banned, ///< a Cloudflare ban (a 429 without `Via`, or an HTML, text or ban-notice body)
    invalid_request_limit, ///< the hard stop on invalid requests per 10 minutes is reached
    retries_exhausted, ///< 5xx, network errors or timeouts outlasted the maximum number of attempts
    not_resent, ///< a non-idempotent request may have reached Discord; resending could duplicate it
    unauthorized,   ///< HTTP 401
    forbidden,      ///< HTTP 403
    not_found,      ///< HTTP 404
    client_error,   ///< any other 4xx but 429
    server_error,   ///< a 5xx that the retry policy does not retry
    network_error,  ///< the transport failed and the retry policy does not retry
    timeout,        ///< the transport timed out and the retry policy does not retry
    invalid_route,  ///< the string is not a Discord API path
    unknown_permit, ///< a permit or ticket that this engine does not hold (already ended?)
    shut_down,      ///< the limiter was shut down or destroyed before the request could go
    /// the server's TLS certificate failed verification: nothing was sent, and no retry can pass
    certificate_rejected,
    /// a second acquisition for a permit that one acquisition already waits for (or was granted)
    already_waiting,
};

namespace detail {

class error_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "discord_ratelimit"; }

    std::string message(int value) const override
    {
        switch (static_cast<error>(value)) {
        case error::rate_limited:
            return "rate limited: the wait exceeds the request's maximum wait or deadline";
        case error::deadline_exceeded: return "the request's deadline passed while it waited";
        case error::banned: return "temporarily banned by Cloudflare; all traffic is paused";
        case error::invalid_request_limit:
            return "too many invalid requests in the last 10 minutes; stopped to avoid a ban";
        case error::retries_exhausted: return "gave up after the maximum number of attempts";
        case error::not_resent:
            return "not resent: the non-idempotent request may already have reached Discord";
        case error::unauthorized: return "HTTP 401 Unauthorized";
        case error::forbidden: return "HTTP 403 Forbidden";
        case error::not_found: return "HTTP 404 Not Found";
        case error::client_error: return "HTTP 4xx client error";
        case error::server_error: return "HTTP 5xx server error";
        case error::network_error: return "network error";
        case error::timeout: return "timed out";
        case error::invalid_route: return "not a Discord API path";
        case error::unknown_permit: return "unknown permit or ticket";
        case error::shut_down: return "the rate limiter was shut down";
        case error::certificate_rejected:
            return "the server's TLS certificate failed verification; nothing was sent and it is "
                   "not "
                   "retried (check the host name and the trusted certificate authorities)";
        case error::already_waiting:
            return "this permit already has an acquisition waiting for it or granted: acquire a "
                   "permit again once per retry";
        }
        return "unknown discord_ratelimit error";
    }
};

} // namespace detail

/// The category of every `discord_ratelimit::error`.
///
/// @par Thread Safety
/// Safe to call concurrently; the category is a constant singleton.
inline const std::error_category& error_category() noexcept
{
    static const detail::error_category_impl instance;
    return instance;
}

inline std::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

} // namespace discord_ratelimit

template <>
struct std::is_error_code_enum<discord_ratelimit::error> : std::true_type {
};

#endif
