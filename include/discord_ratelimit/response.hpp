// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_RESPONSE_HPP
#define DISCORD_RATELIMIT_RESPONSE_HPP

/// @file
/// What a request's outcome was: the response as the library sees it, and its classification into
/// success, the kinds of 429, client errors, server errors and transport failures.

#include <discord_ratelimit/headers.hpp>
#include <discord_ratelimit/rate_limit_body.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace discord_ratelimit {

/// How the transport ended when no HTTP response arrived.
enum class transport_error : std::uint8_t {
    none,           ///< a response arrived
    /// Nothing was sent (connection refused, DNS failure, a send function's `not_sent`): always
    /// safe to resend, and the attempt gives back every limit's capacity it held.
    connect_failed,
    network,        ///< the connection failed after the request may have been sent
    timeout,        ///< no response in time: the request may have reached Discord
};

/// A response, parsed: status, rate-limit headers and the 429 body.
///
/// @par Thread Safety
/// A value type: distinct objects safe, shared objects safe for concurrent reads. `classify` and
/// `retry_after` are pure functions, safe to call concurrently.
struct response {
    int status = 0;
    rate_limit_headers headers;
    rate_limit_body body;
    transport_error transport = transport_error::none;

    /// Parses `headers` and `body`; `retry_after_in_milliseconds` reads Retry-After and
    /// retry_after as milliseconds: pass `route::retry_after_in_milliseconds()` of the request's
    /// route (true for API v7 and older, unversioned paths included).
    template <header_source Headers>
    static response parse(int status, const Headers& headers, std::string_view body,
                          bool retry_after_in_milliseconds = false) noexcept
    {
        const header_parse_options options{.retry_after_in_milliseconds =
                                               retry_after_in_milliseconds};
        // Initialised from the parsers' results directly: no copy of the headers or the body.
        return response{
            .status = status,
            .headers = parse_rate_limit_headers(headers, options),
            .body = status == 429 ? parse_rate_limit_body(body, options) : rate_limit_body{},
        };
    }

    /// A transport failure: no status, no headers.
    static response failed(transport_error error) noexcept
    {
        response r;
        r.transport = error;
        return r;
    }
};

/// The classes of outcome the policies act on.
enum class outcome : std::uint8_t {
    success,        ///< 1xx, 2xx or 3xx
    user_429,       ///< the route's own bucket was exceeded
    global_429,     ///< the bot's global limit was exceeded
    shared_429,     ///< a shared resource limit: not the bot's fault, not an invalid request
    sublimit_429,   ///< a 429 while Remaining > 0: a hidden limit of the route
    cloudflare_429, ///< no `Via` header, or a body that is not Discord's JSON: a ban
    unauthorized,   ///< 401
    forbidden,      ///< 403
    not_found,      ///< 404
    client_error,   ///< other 4xx
    server_error,   ///< 5xx
    network_error,  ///< transport failure (connect failures included)
    timeout,        ///< no response in time
};

/// True for the 429 classes.
constexpr bool is_rate_limited(outcome o) noexcept
{
    return o == outcome::user_429 || o == outcome::global_429 || o == outcome::shared_429 ||
           o == outcome::sublimit_429 || o == outcome::cloudflare_429;
}

/// True for what Cloudflare counts towards its 10,000 invalid requests per 10 minutes:
/// 401, 403 and 429 except scope `shared` (a ban page is a 429 too).
constexpr bool is_invalid_request(outcome o) noexcept
{
    return o == outcome::unauthorized || o == outcome::forbidden || o == outcome::user_429 ||
           o == outcome::global_429 || o == outcome::sublimit_429 || o == outcome::cloudflare_429;
}

/// A short name for logs and metrics labels.
constexpr std::string_view to_string(outcome o) noexcept
{
    switch (o) {
    case outcome::success: return "success";
    case outcome::user_429: return "user_429";
    case outcome::global_429: return "global_429";
    case outcome::shared_429: return "shared_429";
    case outcome::sublimit_429: return "sublimit_429";
    case outcome::cloudflare_429: return "cloudflare_429";
    case outcome::unauthorized: return "unauthorized";
    case outcome::forbidden: return "forbidden";
    case outcome::not_found: return "not_found";
    case outcome::client_error: return "client_error";
    case outcome::server_error: return "server_error";
    case outcome::network_error: return "network_error";
    case outcome::timeout: return "timeout";
    }
    return "unknown";
}

/// Classifies a response.
///
/// A 429 is Cloudflare's (a ban) when its body is an HTML page, plain text (`error code: 1015`) or
/// Discord's ban notice, or, when `require_via` is set, when it lacks the `Via` header Discord's
/// own answers carry. A body that is empty, truncated or other JSON does not prove a ban when
/// `Via` shows Discord answered: the headers decide. Otherwise the scope decides: global
/// (X-RateLimit-Global, scope `global`, or the body's `global`), `shared`, a sub-limit when
/// Remaining > 0, else the user's bucket.
constexpr outcome classify(const response& r, bool require_via = true) noexcept
{
    switch (r.transport) {
    case transport_error::none: break;
    case transport_error::timeout: return outcome::timeout;
    case transport_error::connect_failed:
    case transport_error::network: return outcome::network_error;
    }
    if (r.status < 100 || r.status > 599)
        return outcome::server_error; // not HTTP: treat like a broken upstream
    if (r.status < 400)
        return outcome::success;
    if (r.status == 429) {
        const bool ban_body = r.body.kind == body_kind::html || r.body.kind == body_kind::text ||
                              r.body.kind == body_kind::cloudflare_1015 ||
                              r.body.kind == body_kind::discord_ban;
        if (ban_body || (require_via && !r.headers.via))
            return outcome::cloudflare_429;
        if (r.headers.global || r.headers.scope == rate_limit_scope::global ||
            r.body.global.value_or(false))
            return outcome::global_429;
        if (r.headers.scope == rate_limit_scope::shared)
            return outcome::shared_429;
        if (r.headers.remaining.value_or(0) > 0)
            return outcome::sublimit_429;
        return outcome::user_429;
    }
    if (r.status == 401)
        return outcome::unauthorized;
    if (r.status == 403)
        return outcome::forbidden;
    if (r.status == 404)
        return outcome::not_found;
    if (r.status < 500)
        return outcome::client_error;
    return outcome::server_error;
}

/// How long a 429 asks to wait: the body's exact float when it is Discord's JSON, else the
/// Retry-After header, else Reset-After; no value when none of them is valid.
inline std::optional<std::chrono::nanoseconds> retry_after(const response& r) noexcept
{
    if (r.body.kind == body_kind::discord_rate_limit && r.body.retry_after)
        return r.body.retry_after;
    if (r.headers.retry_after)
        return r.headers.retry_after;
    return r.headers.reset_after;
}

} // namespace discord_ratelimit

#endif
