// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_HTTP_DATE_HPP
#define DISCORD_RATELIMIT_DETAIL_HTTP_DATE_HPP

/// @file
/// The HTTP date format every server must send (IMF-fixdate, RFC 9110 section 5.6.7):
/// "Sun, 06 Nov 1994 08:49:37 GMT". The obsolete RFC 850 and asctime formats are not read.

#include <discord_ratelimit/detail/ascii.hpp>
#include <discord_ratelimit/detail/little_endian.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
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

/// The form of an IMF-fixdate: '#' is a digit, 'a' a letter of a name checked on its own; every
/// other character is literal.
inline constexpr std::string_view imf_fixdate_pattern = "aaa, ## aaa #### ##:##:## GMT";

/// `imf_fixdate_pattern` as four overlapping 8-byte words, for checking a date a word at a time:
/// in each, the literal bytes and which bytes are literals and which are digits (0xFF each).
struct imf_fixdate_words {
    static constexpr std::array<std::size_t, 4> offsets{0, 8, 16, imf_fixdate_pattern.size() - 8};
    std::array<std::uint64_t, 4> literals{};
    std::array<std::uint64_t, 4> literal_mask{};
    std::array<std::uint64_t, 4> digit_mask{};

    static constexpr imf_fixdate_words make() noexcept
    {
        imf_fixdate_words words;
        for (std::size_t w = 0; w < offsets.size(); ++w) {
            for (std::size_t b = 0; b < 8; ++b) {
                const char p = imf_fixdate_pattern[offsets[w] + b];
                const unsigned shift = static_cast<unsigned>(8 * b);
                if (p == '#') {
                    words.digit_mask[w] |= std::uint64_t{0xFF} << shift;
                } else if (p != 'a') {
                    words.literal_mask[w] |= std::uint64_t{0xFF} << shift;
                    words.literals[w] |= std::uint64_t{static_cast<unsigned char>(p)} << shift;
                }
            }
        }
        return words;
    }
};

inline constexpr imf_fixdate_words imf_fixdate_layout = imf_fixdate_words::make();

/// A day or month name's three bytes in one integer, so that it can be a case label.
constexpr std::uint32_t packed_name(std::string_view name) noexcept
{
    return static_cast<std::uint32_t>(static_cast<unsigned char>(name[0])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(name[1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(name[2]));
}

/// Reads "Www, DD Mmm YYYY HH:MM:SS GMT" exactly (names are case-sensitive, as the RFC says), or
/// returns nullopt.
constexpr std::optional<imf_fixdate> lex_imf_fixdate(std::string_view text) noexcept
{
    if (text.size() != imf_fixdate_pattern.size())
        return std::nullopt;
    constexpr std::uint64_t ones = 0x0101'0101'0101'0101;
    std::uint64_t mismatches = 0;
    for (std::size_t w = 0; w < imf_fixdate_words::offsets.size(); ++w) {
        const std::uint64_t word = load_little_endian(text, imf_fixdate_words::offsets[w], 8);
        const std::uint64_t digits = imf_fixdate_layout.digit_mask[w];
        const std::uint64_t high_nibbles = ones * 0xF0 & digits;
        const std::uint64_t digit_high_nibbles = ones * 0x30 & digits;
        mismatches |= (word ^ imf_fixdate_layout.literals[w]) & imf_fixdate_layout.literal_mask[w];
        // A digit is 0x30 to 0x39: its high nibble is 3, and still 3 after adding 6. A carry out
        // of a byte needs a byte of 0xFA or more, which the first test already rejects.
        mismatches |= (word & high_nibbles) ^ digit_high_nibbles;
        mismatches |=
            (((word & digits) + (ones * 0x06 & digits)) & high_nibbles) ^ digit_high_nibbles;
    }
    if (mismatches != 0)
        return std::nullopt;
    const auto number = [text](std::size_t at, std::size_t length) {
        int value = 0;
        for (const char c : text.substr(at, length))
            value = value * 10 + (c - '0');
        return value;
    };
    switch (packed_name(text.substr(0, 3))) {
    case packed_name("Mon"):
    case packed_name("Tue"):
    case packed_name("Wed"):
    case packed_name("Thu"):
    case packed_name("Fri"):
    case packed_name("Sat"):
    case packed_name("Sun"): break;
    default: return std::nullopt;
    }
    imf_fixdate date;
    switch (packed_name(text.substr(8, 3))) {
    case packed_name("Jan"): date.month = 1; break;
    case packed_name("Feb"): date.month = 2; break;
    case packed_name("Mar"): date.month = 3; break;
    case packed_name("Apr"): date.month = 4; break;
    case packed_name("May"): date.month = 5; break;
    case packed_name("Jun"): date.month = 6; break;
    case packed_name("Jul"): date.month = 7; break;
    case packed_name("Aug"): date.month = 8; break;
    case packed_name("Sep"): date.month = 9; break;
    case packed_name("Oct"): date.month = 10; break;
    case packed_name("Nov"): date.month = 11; break;
    case packed_name("Dec"): date.month = 12; break;
    default: return std::nullopt;
    }
    date.day = static_cast<unsigned>(number(5, 2));
    date.year = number(12, 4);
    date.hour = number(17, 2);
    date.minute = number(20, 2);
    date.second = number(23, 2);
    return date;
}

} // namespace discord_ratelimit::detail

#endif
