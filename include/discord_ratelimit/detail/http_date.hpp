// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_HTTP_DATE_HPP
#define DISCORD_RATELIMIT_DETAIL_HTTP_DATE_HPP

/// @file
/// The HTTP date format every server must send (IMF-fixdate, RFC 9110 section 5.6.7):
/// "Sun, 06 Nov 1994 08:49:37 GMT". The obsolete RFC 850 and asctime formats are not read.

#include <discord_ratelimit/detail/ascii.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

namespace discord_ratelimit::detail {

/// The fields of an IMF-fixdate as written, not yet checked against the calendar.
struct imf_fixdate {
    int year = 0;
    unsigned month = 0; ///< 1 to 12 (the lexer only accepts the twelve names)
    unsigned day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;

    /// Whether the date exists (29 Feb only in leap years) and the time is within 00:00:00 and
    /// 23:59:60 (a leap second is allowed). The day name is not checked against the date.
    constexpr bool is_valid() const noexcept
    {
        const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                               std::chrono::day{day}};
        return date.ok() && hour <= 23 && minute <= 59 && second <= 60;
    }

    /// Seconds since the Unix epoch; meaningful only when `is_valid()`.
    constexpr std::chrono::seconds since_epoch() const noexcept
    {
        const std::chrono::sys_days date{std::chrono::year{year} / std::chrono::month{month} /
                                         std::chrono::day{day}};
        return date.time_since_epoch() + std::chrono::hours{hour} + std::chrono::minutes{minute} +
               std::chrono::seconds{second};
    }
};

/// Reads "Www, DD Mmm YYYY HH:MM:SS GMT" exactly (names are case-sensitive, as the RFC says), or
/// returns nullopt.
constexpr std::optional<imf_fixdate> lex_imf_fixdate(std::string_view text) noexcept
{
    // '#' is a digit, 'a' a letter of a name checked below; every other character is literal.
    constexpr std::string_view pattern = "aaa, ## aaa #### ##:##:## GMT";
    constexpr std::array<std::string_view, 7> day_names{"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
    constexpr std::array<std::string_view, 12> month_names{
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (text.size() != pattern.size())
        return std::nullopt;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const bool matches = pattern[i] == '#' ? is_ascii_digit(text[i])
                                               : pattern[i] == 'a' || text[i] == pattern[i];
        if (!matches)
            return std::nullopt;
    }
    const auto number = [text](std::size_t at, std::size_t length) {
        int value = 0;
        for (const char c : text.substr(at, length))
            value = value * 10 + (c - '0');
        return value;
    };
    bool known_day = false;
    for (const std::string_view name : day_names)
        known_day = known_day || text.substr(0, 3) == name;
    imf_fixdate date;
    for (std::size_t i = 0; i < month_names.size(); ++i) {
        if (text.substr(8, 3) == month_names[i])
            date.month = static_cast<unsigned>(i + 1);
    }
    if (!known_day || date.month == 0)
        return std::nullopt;
    date.day = static_cast<unsigned>(number(5, 2));
    date.year = number(12, 4);
    date.hour = number(17, 2);
    date.minute = number(20, 2);
    date.second = number(23, 2);
    return date;
}

} // namespace discord_ratelimit::detail

#endif
