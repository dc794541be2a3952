// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_DECIMAL_HPP
#define DISCORD_RATELIMIT_DETAIL_DECIMAL_HPP

/// @file
/// Decimal numbers read exactly, without floating point: "64.57" seconds becomes exactly
/// 64'570'000'000 nanoseconds. Lexing (is this a number?) is separate from scaling (how many
/// units?), so that callers decide what an empty, negative or non-finite value means for them.

#include <discord_ratelimit/detail/ascii.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace discord_ratelimit::detail {

/// The grammars `lex_decimal` knows. Both require digits on both sides of a decimal point, as
/// JSON does: ".5" and "5." are not numbers. Neither allows a leading '+' or hexadecimal forms.
enum class decimal_grammar : std::uint8_t {
    plain,        ///< `-? DIGIT+ ("." DIGIT+)?`; leading zeros allowed (HTTP header values)
    with_exponent ///< plain, then `([eE] [+-]? DIGIT+)?` (JSON numbers, already validated)
};

/// 10^0 to 10^19, every power of ten below 2^64.
inline constexpr auto powers_of_ten = [] {
    std::array<std::uint64_t, 20> powers{};
    std::uint64_t power = 1;
    for (std::uint64_t& p : powers) {
        p = power;
        power *= 10;
    }
    return powers;
}();

/// A lexed decimal number: sign, digits and exponent, not yet converted to anything.
struct decimal_literal {
    bool negative = false;            ///< a leading '-' (also on zero: "-0" is negative)
    bool not_finite = false;          ///< nan, inf or infinity in any case; no digits then
    std::string_view integer_digits;  ///< the digits before the point
    std::string_view fraction_digits; ///< the digits after the point; empty without a point
    std::int64_t exponent = 0;        ///< saturates far beyond any length a string can have
    /// The integer and fraction digits read as one integer, as `lex_decimal` reads them (exact
    /// when there are at most 19 digits; `scaled` uses it only then).
    std::uint64_t mantissa = 0;

    /// The magnitude times 10^`scale`, as an integer. Exact when it is one; otherwise rounded up,
    /// so that a wait is never shortened. `UINT64_MAX` when the result does not fit.
    constexpr std::uint64_t scaled(std::int64_t scale) const noexcept
    {
        constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();
        const std::size_t count = integer_digits.size() + fraction_digits.size();
        if (count <= max_exact_digits)
            return scaled_short(scale);
        const auto digit = [this](std::size_t i) {
            const char c = i < integer_digits.size() ? integer_digits[i]
                                                     : fraction_digits[i - integer_digits.size()];
            return static_cast<std::uint64_t>(c - '0');
        };
        std::size_t first = 0; // the first significant digit
        while (first < count && digit(first) == 0)
            ++first;
        if (first == count)
            return 0;
        // How many significant digits end up before the point once scaled. Every operand is far
        // below 2^62 in magnitude, so the sum cannot overflow.
        const std::int64_t whole_digits = static_cast<std::int64_t>(integer_digits.size()) -
                                          static_cast<std::int64_t>(first) + exponent + scale;
        if (whole_digits > std::numeric_limits<std::uint64_t>::digits10 + 1)
            return saturated; // at least 10^20
        const std::size_t whole = whole_digits > 0 ? static_cast<std::size_t>(whole_digits) : 0;
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < whole; ++i) {
            const std::uint64_t d = first + i < count ? digit(first + i) : 0;
            if (value > (saturated - d) / 10)
                return saturated;
            value = value * 10 + d;
        }
        for (std::size_t i = first + whole; i < count; ++i) {
            if (digit(i) != 0)
                return value == saturated ? saturated : value + 1;
        }
        return value;
    }

private:
    /// Up to 19 digits read as one integer always fit in 64 bits.
    static constexpr std::size_t max_exact_digits = powers_of_ten.size() - 1;

    /// `scaled` when all digits together fit in one integer, the mantissa: the result is then one
    /// multiplication or division by a power of ten.
    constexpr std::uint64_t scaled_short(std::int64_t scale) const noexcept
    {
        constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();
        if (mantissa == 0)
            return 0;
        // The value is mantissa * 10^shift; |exponent| is far below 2^62, so this cannot overflow.
        const std::int64_t shift =
            exponent + scale - static_cast<std::int64_t>(fraction_digits.size());
        if (shift >= 0) {
            if (shift > static_cast<std::int64_t>(max_exact_digits))
                return saturated; // at least 10^20
            const std::uint64_t power = powers_of_ten[static_cast<std::size_t>(shift)];
            return mantissa > saturated / power ? saturated : mantissa * power;
        }
        if (shift < -static_cast<std::int64_t>(max_exact_digits))
            return 1; // below 10^19 / 10^20: more than zero, less than one, rounded up
        const std::uint64_t power = powers_of_ten[static_cast<std::size_t>(-shift)];
        return mantissa / power + (mantissa % power != 0 ? 1 : 0); // rounded up
    }
};

/// Reads all of `text` as a decimal number of `grammar`, or returns nullopt. Whitespace is not
/// skipped. "nan", "inf" and "infinity" (any case, optionally signed) lex as not finite.
constexpr std::optional<decimal_literal> lex_decimal(std::string_view text,
                                                     decimal_grammar grammar) noexcept
{
    constexpr std::int64_t exponent_limit = 1'000'000'000'000'000; // 10^15: no string is that long
    decimal_literal literal;
    std::size_t pos = 0;
    const bool has_sign = !text.empty() && (text[0] == '-' || text[0] == '+');
    if (has_sign) {
        literal.negative = text[0] == '-';
        ++pos;
    }
    const std::string_view unsigned_text = text.substr(pos);
    const bool starts_with_digit = !unsigned_text.empty() && is_ascii_digit(unsigned_text[0]);
    if (!starts_with_digit &&
        (iequals_ascii(unsigned_text, "nan") || iequals_ascii(unsigned_text, "inf") ||
         iequals_ascii(unsigned_text, "infinity"))) {
        literal.not_finite = true;
        return literal;
    }
    if (has_sign && !literal.negative)
        return std::nullopt; // "+5"
    // The mantissa is read in the same pass (unsigned arithmetic wraps harmlessly past 19 digits).
    const auto take_mantissa_digits = [&] {
        const std::size_t start = pos;
        for (; pos < text.size() && is_ascii_digit(text[pos]); ++pos)
            literal.mantissa = literal.mantissa * 10 + static_cast<std::uint64_t>(text[pos] - '0');
        return text.substr(start, pos - start);
    };
    literal.integer_digits = take_mantissa_digits();
    if (literal.integer_digits.empty())
        return std::nullopt;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        literal.fraction_digits = take_mantissa_digits();
        if (literal.fraction_digits.empty())
            return std::nullopt;
    }
    if (grammar == decimal_grammar::with_exponent && pos < text.size() &&
        (text[pos] == 'e' || text[pos] == 'E')) {
        ++pos;
        const bool negative_exponent = pos < text.size() && text[pos] == '-';
        if (pos < text.size() && (text[pos] == '-' || text[pos] == '+'))
            ++pos;
        const std::size_t exponent_start = pos;
        for (; pos < text.size() && is_ascii_digit(text[pos]); ++pos) {
            if (literal.exponent < exponent_limit)
                literal.exponent = literal.exponent * 10 + (text[pos] - '0');
        }
        if (pos == exponent_start)
            return std::nullopt;
        if (negative_exponent)
            literal.exponent = -literal.exponent;
    }
    if (pos != text.size())
        return std::nullopt;
    return literal;
}

} // namespace discord_ratelimit::detail

#endif
