// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_HEADER_FIELD_PARSERS_HPP
#define DISCORD_RATELIMIT_DETAIL_HEADER_FIELD_PARSERS_HPP

/// @file
/// The grammar and the bounds of each rate-limit header's value, and the status each rejection
/// gets. Included at the bottom of headers.hpp, whose types it fills in.

#include <discord_ratelimit/headers.hpp>

#include <discord_ratelimit/detail/ascii.hpp>
#include <discord_ratelimit/detail/decimal.hpp>
#include <discord_ratelimit/detail/http_date.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace discord_ratelimit::detail {

/// One parsed value: `value` is set exactly when `status` is ok.
template <class T>
struct field_result {
    field_status status = field_status::absent;
    std::optional<T> value;
};

inline constexpr std::uint32_t max_request_count = 1'000'000;
inline constexpr std::uint64_t max_wait_ns = 604'800'000'000'000; // 7 days
inline constexpr std::uint64_t min_reset_epoch_ns = 1'400'000'000'000'000'000;
inline constexpr std::uint64_t max_reset_epoch_ns =
    std::min<std::uint64_t>(9'999'999'999'999'999'999u,
                            static_cast<std::uint64_t>(std::chrono::nanoseconds::max().count()));

/// A non-negative decimal count of 10^-`unit_exponent` seconds (0: seconds, 3: milliseconds), as
/// nanoseconds within [min, max].
constexpr field_result<std::chrono::nanoseconds>
parse_nanoseconds(std::string_view text, decimal_grammar grammar, std::int64_t unit_exponent,
                  std::uint64_t min, std::uint64_t max) noexcept
{
    if (text.empty())
        return {field_status::empty, {}};
    const auto literal = lex_decimal(text, grammar);
    if (!literal)
        return {field_status::malformed, {}};
    if (literal->not_finite)
        return {field_status::not_finite, {}};
    if (literal->negative)
        return {field_status::negative, {}};
    const std::uint64_t nanoseconds = literal->scaled(9 - unit_exponent);
    if (nanoseconds < min || nanoseconds > max)
        return {field_status::out_of_range, {}};
    return {field_status::ok, std::chrono::nanoseconds{static_cast<std::int64_t>(nanoseconds)}};
}

/// A wait (Reset-After, Retry-After, the body's retry_after): seconds or milliseconds, 0 to 7 days.
constexpr field_result<std::chrono::nanoseconds>
parse_wait(std::string_view text, decimal_grammar grammar, bool in_milliseconds) noexcept
{
    return parse_nanoseconds(text, grammar, in_milliseconds ? 3 : 0, 0, max_wait_ns);
}

constexpr field_result<std::uint32_t> parse_request_count(std::string_view text) noexcept
{
    if (text.empty())
        return {field_status::empty, {}};
    const auto literal = lex_decimal(text, decimal_grammar::plain);
    if (!literal || literal->not_finite || !literal->fraction_digits.empty())
        return {field_status::malformed, {}};
    if (literal->negative)
        return {field_status::negative, {}};
    const std::uint64_t count = literal->scaled(0);
    if (count > max_request_count)
        return {field_status::out_of_range, {}};
    return {field_status::ok, static_cast<std::uint32_t>(count)};
}

constexpr field_result<bucket_hash> parse_bucket(std::string_view text) noexcept
{
    if (text.empty())
        return {field_status::empty, {}};
    if (text.size() > bucket_hash::max_size)
        return {field_status::too_long, {}};
    const auto hash = bucket_hash::from(text);
    return {hash ? field_status::ok : field_status::invalid_value, hash};
}

constexpr field_result<bool> parse_boolean(std::string_view text) noexcept
{
    if (text.empty())
        return {field_status::empty, {}};
    if (iequals_ascii(text, "true"))
        return {field_status::ok, true};
    if (iequals_ascii(text, "false"))
        return {field_status::ok, false};
    return {field_status::invalid_value, {}};
}

constexpr field_result<rate_limit_scope> parse_scope(std::string_view text) noexcept
{
    if (text.empty())
        return {field_status::empty, {}};
    if (iequals_ascii(text, "user"))
        return {field_status::ok, rate_limit_scope::user};
    if (iequals_ascii(text, "global"))
        return {field_status::ok, rate_limit_scope::global};
    if (iequals_ascii(text, "shared"))
        return {field_status::ok, rate_limit_scope::shared};
    return {field_status::invalid_value, {}};
}

constexpr field_result<std::chrono::seconds> parse_http_date(std::string_view text) noexcept
{
    if (text.empty())
        return {field_status::empty, {}};
    const auto date = lex_imf_fixdate(text);
    if (!date)
        return {field_status::malformed, {}};
    if (!date->is_valid())
        return {field_status::out_of_range, {}};
    return {field_status::ok, date->since_epoch()};
}

constexpr void record_header(rate_limit_headers& headers, header_field field,
                             std::string_view value, header_parse_options options) noexcept
{
    const std::string_view text = trim_http_whitespace(value);
    field_status& status = headers.status[static_cast<std::size_t>(field)];
    const auto keep = [&status](const auto& result, auto& member) {
        status = result.status;
        if (result.value)
            member = *result.value;
    };
    switch (field) {
    case header_field::limit: keep(parse_request_count(text), headers.limit); break;
    case header_field::remaining: keep(parse_request_count(text), headers.remaining); break;
    case header_field::reset:
        keep(parse_nanoseconds(text, decimal_grammar::plain, 0, min_reset_epoch_ns,
                               max_reset_epoch_ns),
             headers.reset);
        break;
    case header_field::reset_after:
        keep(parse_wait(text, decimal_grammar::plain, false), headers.reset_after);
        break;
    case header_field::bucket: keep(parse_bucket(text), headers.bucket); break;
    case header_field::global: keep(parse_boolean(text), headers.global); break;
    case header_field::scope: keep(parse_scope(text), headers.scope); break;
    case header_field::retry_after:
        keep(parse_wait(text, decimal_grammar::plain, options.retry_after_in_milliseconds),
             headers.retry_after);
        break;
    case header_field::date: keep(parse_http_date(text), headers.date); break;
    case header_field::via:
        status = text.empty() ? field_status::empty : field_status::ok;
        headers.via = !text.empty();
        break;
    }
}

} // namespace discord_ratelimit::detail

#endif
