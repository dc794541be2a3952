// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_RATE_LIMIT_BODY_JSON_HPP
#define DISCORD_RATELIMIT_DETAIL_RATE_LIMIT_BODY_JSON_HPP

/// @file
/// Reads Discord's JSON 429 body into `rate_limit_body`. Included at the bottom of
/// rate_limit_body.hpp.

#include <discord_ratelimit/rate_limit_body.hpp>

#include <discord_ratelimit/detail/decimal.hpp>
#include <discord_ratelimit/detail/header_field_parsers.hpp>
#include <discord_ratelimit/detail/json_scanner.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace discord_ratelimit::detail {

inline constexpr std::string_view discord_ban_prefix =
    "You are being blocked from accessing our API temporarily";

/// "code" as an integer: a JSON number without fraction or exponent, within std::int64_t (down to
/// -INT64_MAX).
constexpr std::optional<std::int64_t> json_integer(std::string_view token) noexcept
{
    const auto literal = lex_decimal(token, decimal_grammar::plain);
    if (!literal || literal->not_finite || !literal->fraction_digits.empty())
        return std::nullopt;
    const std::uint64_t magnitude = literal->scaled(0);
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
    const auto value = static_cast<std::int64_t>(magnitude);
    return literal->negative ? -value : value;
}

constexpr rate_limit_body parse_json_body(std::string_view body,
                                          header_parse_options options) noexcept
{
    rate_limit_body parsed;
    bool seen_message = false;
    bool seen_retry_after = false;
    bool seen_global = false;
    bool seen_code = false;
    bool has_message = false;
    bool has_numeric_retry_after = false;
    // A member counts only the first time its key appears (std::exchange marks it seen).
    const bool valid = json_scan(body, [&](std::string_view key, const json_value& value) {
        if (key == "message" && !std::exchange(seen_message, true)) {
            has_message = value.kind == json_kind::string;
            if (has_message)
                parsed.message = value.text;
        } else if (key == "retry_after" && !std::exchange(seen_retry_after, true)) {
            has_numeric_retry_after = value.kind == json_kind::number;
            if (!has_numeric_retry_after) {
                parsed.retry_after_status = field_status::malformed;
                return;
            }
            const auto wait = parse_wait(value.text, decimal_grammar::with_exponent,
                                         options.retry_after_in_milliseconds);
            parsed.retry_after_status = wait.status;
            parsed.retry_after = wait.value;
        } else if (key == "global" && !std::exchange(seen_global, true)) {
            if (value.kind == json_kind::true_literal || value.kind == json_kind::false_literal)
                parsed.global = value.kind == json_kind::true_literal;
        } else if (key == "code" && !std::exchange(seen_code, true)) {
            if (value.kind == json_kind::number)
                parsed.code = json_integer(value.text);
        }
    });
    if (!valid) {
        rate_limit_body malformed;
        malformed.kind = body_kind::malformed_json;
        return malformed;
    }
    if (has_message && parsed.message.starts_with(discord_ban_prefix))
        parsed.kind = body_kind::discord_ban;
    else if (has_message && has_numeric_retry_after)
        parsed.kind = body_kind::discord_rate_limit;
    else
        parsed.kind = body_kind::other_json;
    return parsed;
}

} // namespace discord_ratelimit::detail

#endif
