// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_HEADER_BLOCK_HPP
#define DISCORD_RATELIMIT_DETAIL_HEADER_BLOCK_HPP

/// @file
/// Field lookup in the text of an HTTP/1.1 header block, as a client library hands it over: the
/// final response's headers, after any interim (1xx) responses the block starts with.

#include <discord_ratelimit/detail/ascii.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace discord_ratelimit::detail {

/// Removes the first line from `rest` and returns it without its LF or CRLF ending.
constexpr std::string_view take_header_line(std::string_view& rest) noexcept
{
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

/// Whether `line` is the status line of an interim (1xx) response: "HTTP/" and a version, spaces,
/// then a three-digit status code from 100 to 199 that ends the line or is followed by whitespace
/// ("HTTP/1.1 100 Continue", "HTTP/1.1 103 Early Hints", "HTTP/2 100").
constexpr bool is_interim_status_line(std::string_view line) noexcept
{
    if (!line.starts_with("HTTP/"))
        return false;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos)
        return false;
    std::string_view code = line.substr(space);
    while (!code.empty() && code.front() == ' ')
        code.remove_prefix(1);
    return code.size() >= 3 && code[0] == '1' && is_ascii_digit(code[1]) &&
           is_ascii_digit(code[2]) && (code.size() == 3 || is_http_whitespace(code[3]));
}

/// `block` without the interim (1xx) responses it starts with, each a status line, its own header
/// lines and the empty line after them (and any further empty lines): what is left starts at the
/// final response. `std::nullopt` when nothing but interim responses is there: the block was cut
/// before the final response. A block that does not start with an interim status line (the usual
/// case, with or without a status line) is returned whole.
constexpr std::optional<std::string_view> skip_interim_responses(std::string_view block) noexcept
{
    std::string_view rest = block;
    while (rest.starts_with("HTTP/")) {
        std::string_view after = rest;
        if (!is_interim_status_line(take_header_line(after)))
            return rest;
        while (!after.empty() && !take_header_line(after).empty()) {
            // the interim response's own headers (Early Hints' Link, ...): not the final ones
        }
        while (after.starts_with("\r\n") || after.starts_with('\n'))
            take_header_line(after);
        if (after.empty())
            return std::nullopt;
        rest = after;
    }
    return rest;
}

/// Calls `visit(name, value)` for each "Name: value" line of the final response in `block`, in
/// order, until it returns true; `value` is trimmed of surrounding spaces and tabs. Leading
/// interim (1xx) responses are skipped with their headers (`skip_interim_responses`; a block of
/// interim responses only visits nothing), then the final response's status line ("HTTP/1.1 429
/// ...") when the block has one; the first empty line after it ends the block. Lines that are not
/// "Name: value" are not visited: no colon, or whitespace before it (so the name never equals a
/// header name; this also covers obsolete folded continuation lines).
template <class Visit>
constexpr void for_each_header_line(std::string_view block, Visit&& visit) noexcept
{
    const std::optional<std::string_view> final_response = skip_interim_responses(block);
    if (!final_response)
        return;
    std::string_view rest = *final_response;
    if (rest.starts_with("HTTP/"))
        take_header_line(rest);
    while (!rest.empty()) {
        const std::string_view line = take_header_line(rest);
        if (line.empty())
            break;
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos &&
            visit(line.substr(0, colon), trim_http_whitespace(line.substr(colon + 1))))
            return;
    }
}

/// The value, without surrounding spaces and tabs, of the first "Name: value" line whose name
/// equals `name` in any case (the lines `for_each_header_line` visits).
constexpr std::optional<std::string_view> find_in_header_block(std::string_view block,
                                                               std::string_view name) noexcept
{
    std::optional<std::string_view> found;
    for_each_header_line(block, [&](std::string_view line_name, std::string_view value) {
        if (iequals_ascii(line_name, name))
            found = value;
        return found.has_value();
    });
    return found;
}

} // namespace discord_ratelimit::detail

#endif
