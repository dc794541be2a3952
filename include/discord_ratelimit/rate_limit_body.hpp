// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_RATE_LIMIT_BODY_HPP
#define DISCORD_RATELIMIT_RATE_LIMIT_BODY_HPP

/// @file
/// What the body of a 429 says: Discord's JSON with the precise `retry_after`, Discord's ban
/// message, or something else (a Cloudflare page or text), which means the 429 did not come from
/// Discord's rate limiter and must not be retried at once.

#include <discord_ratelimit/headers.hpp>

#include <discord_ratelimit/detail/ascii.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace discord_ratelimit {

/// What kind of text a 429 body is. Checked in this order: empty, JSON (the first character other
/// than whitespace is '{' or '['), Cloudflare's "error code: 1015" anywhere (any case), HTML (the
/// first such character is '<'), text.
enum class body_kind : std::uint8_t {
    empty,              ///< no body, or only whitespace
    discord_rate_limit, ///< a JSON object with a string "message" and a numeric "retry_after"
    discord_ban,        ///< a JSON object whose "message" starts with "You are being blocked from
                        ///< accessing our API temporarily" (Discord's ban notice, code 0)
    other_json,         ///< valid JSON (an object or an array) that is neither of the above
    malformed_json,     ///< starts like JSON but is invalid, truncated or nested too deeply
    html,               ///< an HTML page, typically Cloudflare's
    cloudflare_1015,    ///< Cloudflare's "error code: 1015": the IP address is banned
    text,               ///< anything else
};

/// A short description for a log line: "Discord rate-limit JSON", "HTML page", ...
/// @par Thread Safety
/// Safe to call concurrently.
constexpr std::string_view describe(body_kind kind) noexcept
{
    switch (kind) {
    case body_kind::empty: return "empty body";
    case body_kind::discord_rate_limit: return "Discord rate-limit JSON";
    case body_kind::discord_ban: return "Discord ban JSON";
    case body_kind::other_json: return "other JSON";
    case body_kind::malformed_json: return "malformed JSON";
    case body_kind::html: return "HTML page";
    case body_kind::cloudflare_1015: return "Cloudflare error 1015";
    case body_kind::text: return "plain text";
    }
    return "unknown body kind";
}

/// What a 429 body says. The members other than `kind` are filled from any valid JSON object,
/// from its top-level members only; with duplicate keys the first one wins. For every other kind,
/// including malformed JSON, they stay empty.
///
/// @par Thread Safety
/// A value type. Distinct objects: safe. Shared objects: safe for concurrent reads. `message`
/// views the parsed body, which must outlive it.
struct rate_limit_body {
    body_kind kind = body_kind::empty;
    /// "retry_after", seconds (milliseconds with
    /// `header_parse_options::retry_after_in_milliseconds`) read exactly from the JSON number
    /// (exponents allowed), 0 to 7 days, rounded up to whole ns.
    std::optional<std::chrono::nanoseconds> retry_after;
    /// Why `retry_after` is empty: `absent`, `malformed` (not a number), `negative`, `not_finite`
    /// (NaN or Infinity, which Python writes), `out_of_range`; `ok` when it is set.
    field_status retry_after_status = field_status::absent;
    /// "global" when it is `true` or `false`.
    std::optional<bool> global;
    /// "code" when it is an integer (no fraction or exponent) that fits.
    std::optional<std::int64_t> code;
    /// "message" when it is a string: the raw contents between the quotes, escapes left as sent.
    std::string_view message;

    /// Whether the body is Discord's own JSON (a rate limit or a ban notice).
    constexpr bool is_discord_json() const noexcept
    {
        return kind == body_kind::discord_rate_limit || kind == body_kind::discord_ban;
    }
};

namespace detail {

/// Reads a body that starts like JSON (defined in detail/rate_limit_body_json.hpp).
constexpr rate_limit_body parse_json_body(std::string_view body,
                                          header_parse_options options) noexcept;

} // namespace detail

/// Classifies a 429 body and reads Discord's JSON fields. Never throws, never allocates, never
/// reads outside `body`, and handles any bytes (NUL, invalid UTF-8, unbounded nesting) without
/// recursion.
///
/// @par Thread Safety
/// Safe to call concurrently.
constexpr rate_limit_body parse_rate_limit_body(std::string_view body,
                                                header_parse_options options = {}) noexcept
{
    rate_limit_body parsed;
    const std::size_t start = body.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos)
        parsed.kind = body_kind::empty;
    else if (body[start] == '{' || body[start] == '[')
        parsed = detail::parse_json_body(body, options);
    else if (detail::icontains_ascii(body, "error code: 1015"))
        parsed.kind = body_kind::cloudflare_1015;
    else if (body[start] == '<')
        parsed.kind = body_kind::html;
    else
        parsed.kind = body_kind::text;
    return parsed;
}

} // namespace discord_ratelimit

#include <discord_ratelimit/detail/rate_limit_body_json.hpp>

#endif
