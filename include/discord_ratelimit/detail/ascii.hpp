// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_ASCII_HPP
#define DISCORD_RATELIMIT_DETAIL_ASCII_HPP

/// @file
/// Locale-independent ASCII classification and comparison for protocol text. Bytes outside ASCII
/// are never letters, digits or whitespace here, whatever the signedness of `char`.

#include <cstddef>
#include <string_view>

namespace discord_ratelimit::detail {

constexpr bool is_ascii_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

/// HTTP's optional whitespace (OWS, RFC 9110): space and horizontal tab only.
constexpr bool is_http_whitespace(char c) noexcept
{
    return c == ' ' || c == '\t';
}

/// A visible ASCII character (VCHAR): 0x21 to 0x7E.
constexpr bool is_visible_ascii(char c) noexcept
{
    return c >= '!' && c <= '~';
}

constexpr char to_ascii_lower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

/// Whether `a` and `b` are equal when ASCII letters are compared without case.
constexpr bool iequals_ascii(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_ascii_lower(a[i]) != to_ascii_lower(b[i]))
            return false;
    }
    return true;
}

/// Whether `needle` occurs in `haystack`, comparing ASCII letters without case.
constexpr bool icontains_ascii(std::string_view haystack, std::string_view needle) noexcept
{
    if (needle.size() > haystack.size())
        return false;
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
        if (iequals_ascii(haystack.substr(i, needle.size()), needle))
            return true;
    }
    return false;
}

/// `text` without leading and trailing spaces and tabs.
constexpr std::string_view trim_http_whitespace(std::string_view text) noexcept
{
    while (!text.empty() && is_http_whitespace(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_http_whitespace(text.back()))
        text.remove_suffix(1);
    return text;
}

} // namespace discord_ratelimit::detail

#endif
