// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_HEADER_BLOCK_HPP
#define DISCORD_RATELIMIT_DETAIL_HEADER_BLOCK_HPP

/// @file
/// Field lookup in the text of an HTTP/1.1 header block, as a client library hands it over.

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

/// Calls `visit(name, value)` for each "Name: value" line of `block` in order until it returns
/// true; `value` is trimmed of surrounding spaces and tabs. A status line ("HTTP/1.1 429 ...") as
/// the first line is skipped, the first empty line ends the block, and lines that are not
/// "Name: value" are not visited: no colon, or whitespace before it (so the name never equals a
/// header name; this also covers obsolete folded continuation lines).
template <class Visit>
constexpr void for_each_header_line(std::string_view block, Visit&& visit) noexcept
{
    std::string_view rest = block;
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
