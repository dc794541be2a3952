// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_JSON_SCANNER_HPP
#define DISCORD_RATELIMIT_DETAIL_JSON_SCANNER_HPP

/// @file
/// A validating JSON scanner that reports the members of the top-level object and skips everything
/// nested. It builds nothing and allocates nothing, its only stack is one 64-bit word (so nesting
/// is limited to `json_max_depth`), and it never reads past the end of its input.
///
/// Beyond RFC 8259 it accepts the tokens `NaN`, `Infinity` and `-Infinity` as numbers, because
/// Python's json module writes them for non-finite floats. It checks the form of escapes, not their
/// meaning (a lone surrogate passes), and does not validate UTF-8.

#include <discord_ratelimit/detail/little_endian.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace discord_ratelimit::detail {

/// The deepest nesting of arrays and objects accepted; the outermost container is at depth 1.
inline constexpr std::size_t json_max_depth = 64;

enum class json_kind : std::uint8_t {
    string,
    number,
    true_literal,
    false_literal,
    null,
    object,
    array
};

/// One value as seen by the scanner. `text` is a string's contents between the quotes, escapes
/// left as sent, or a number's token; it is empty for the other kinds.
struct json_value {
    json_kind kind = json_kind::null;
    std::string_view text;
};

constexpr bool is_json_whitespace(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// A read position in a JSON text and the lexical rules of the tokens found there.
class json_cursor {
public:
    constexpr explicit json_cursor(std::string_view text) noexcept
        : text_(text)
    {
    }

    constexpr bool at_end() const noexcept { return pos_ == text_.size(); }
    constexpr bool next_is(char c) const noexcept { return !at_end() && text_[pos_] == c; }

    constexpr void skip_whitespace() noexcept
    {
        while (!at_end() && is_json_whitespace(text_[pos_]))
            ++pos_;
    }

    /// Consumes `token` if the text continues with it.
    constexpr bool consume(std::string_view token) noexcept
    {
        if (text_.substr(pos_, token.size()) != token)
            return false;
        pos_ += token.size();
        return true;
    }

    /// Consumes `c` if the text continues with it.
    constexpr bool consume(char c) noexcept
    {
        if (!next_is(c))
            return false;
        ++pos_;
        return true;
    }

    /// A string's contents, the cursor then past its closing quote.
    constexpr std::optional<std::string_view> string() noexcept
    {
        if (!consume('"'))
            return std::nullopt;
        const std::size_t start = pos_;
        for (;;) {
            skip_plain_string_bytes();
            if (at_end())
                return std::nullopt;
            const char c = text_[pos_++];
            if (c == '"')
                return text_.substr(start, pos_ - 1 - start);
            if (c == '\\' && !escape_tail())
                return std::nullopt;
            if (static_cast<unsigned char>(c) < 0x20)
                return std::nullopt; // control characters must be escaped
        }
    }

    /// Whitespace, a string and a colon: the start of an object member.
    constexpr std::optional<std::string_view> member_key() noexcept
    {
        skip_whitespace();
        const auto key = string();
        skip_whitespace();
        if (!key || !consume(':'))
            return std::nullopt;
        return key;
    }

    /// A string, number or literal (not an array or object).
    constexpr std::optional<json_value> scalar() noexcept
    {
        // The first character tells which token can follow; each branch fails as the others would.
        const char first = at_end() ? '\0' : text_[pos_];
        const auto literal = [this](std::string_view token,
                                    json_kind kind) -> std::optional<json_value> {
            if (!consume(token))
                return std::nullopt;
            return json_value{kind, {}};
        };
        switch (first) {
        case '"': {
            const auto contents = string();
            if (!contents)
                return std::nullopt;
            return json_value{json_kind::string, *contents};
        }
        case 't': return literal("true", json_kind::true_literal);
        case 'f': return literal("false", json_kind::false_literal);
        case 'n': return literal("null", json_kind::null);
        default: break;
        }
        const std::size_t start = pos_;
        if (!number())
            return std::nullopt;
        return json_value{json_kind::number, text_.substr(start, pos_ - start)};
    }

private:
    /// Advances over whole 8-byte words of string contents that need no attention: no quote, no
    /// backslash and no control character; the cursor then stops at the first byte that does.
    constexpr void skip_plain_string_bytes() noexcept
    {
        constexpr std::uint64_t ones = 0x0101'0101'0101'0101;
        constexpr std::uint64_t low_bits = ones * 0x7F;
        // 0x80 in exactly the bytes of `x` that are zero (no borrows, unlike the shorter form).
        const auto zero_bytes = [](std::uint64_t x) {
            return ~(((x & low_bits) + low_bits) | x | low_bits);
        };
        while (text_.size() - pos_ >= 8) {
            const std::uint64_t word = load_little_endian(text_, pos_, 8);
            // 0x80 in exactly the bytes below 0x20: adding 0x60 to the low seven bits stays
            // below 0x80 only for them.
            const std::uint64_t control = ~(((word & low_bits) + ones * 0x60) | word) & ones * 0x80;
            const std::uint64_t special =
                control | zero_bytes(word ^ ones * '"') | zero_bytes(word ^ ones * '\\');
            if (special != 0) {
                pos_ += static_cast<std::size_t>(std::countr_zero(special)) / 8;
                return;
            }
            pos_ += 8;
        }
    }

    constexpr bool next_is_digit() const noexcept
    {
        return !at_end() && text_[pos_] >= '0' && text_[pos_] <= '9';
    }

    /// One or more digits.
    constexpr bool digits() noexcept
    {
        if (!next_is_digit())
            return false;
        while (next_is_digit())
            ++pos_;
        return true;
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, or NaN, Infinity, -Infinity.
    constexpr bool number() noexcept
    {
        if (next_is('N'))
            return consume("NaN");
        consume('-');
        if (next_is('I'))
            return consume("Infinity");
        if (!consume('0') && !digits())
            return false;
        if (consume('.') && !digits())
            return false;
        if (consume('e') || consume('E')) {
            if (!consume('+'))
                consume('-');
            return digits();
        }
        return true;
    }

    /// The rest of an escape sequence, after its backslash.
    constexpr bool escape_tail() noexcept
    {
        if (at_end())
            return false;
        const char c = text_[pos_++];
        if (c != 'u')
            return std::string_view{"\"\\/bfnrt"}.find(c) != std::string_view::npos;
        for (int i = 0; i < 4; ++i, ++pos_) {
            if (at_end())
                return false;
            const char h = text_[pos_];
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                return false;
        }
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

/// Validates `text` as one JSON value and calls `on_member(key, value)` for each member of the
/// top-level object, in order (containers are reported with kind `object` or `array`, then
/// skipped). Returns false, possibly after some calls, when the text is not JSON or nests deeper
/// than `json_max_depth`. Iterative: the stack is a bit per open container.
template <class OnMember>
constexpr bool json_scan(std::string_view text, OnMember&& on_member) noexcept
{
    static_assert(json_max_depth <= 64, "one bit per open container in a 64-bit word");
    json_cursor in{text};
    std::uint64_t open_objects = 0; // bit d: the container at depth d + 1 is an object
    std::size_t depth = 0;
    std::string_view top_level_key;
    bool expecting_value = true;
    const auto inside_object = [&] {
        return depth > 0 && ((open_objects >> (depth - 1)) & 1) != 0;
    };
    const auto report = [&](const json_value& value) {
        if (depth == 1 && inside_object())
            on_member(top_level_key, value);
    };
    const auto read_key = [&] {
        const auto key = in.member_key();
        if (key && depth == 1)
            top_level_key = *key;
        return key.has_value();
    };

    for (;;) {
        in.skip_whitespace();
        if (expecting_value) {
            const bool opens_object = in.next_is('{');
            if (opens_object || in.next_is('[')) {
                if (depth == json_max_depth)
                    return false;
                report({opens_object ? json_kind::object : json_kind::array, {}});
                in.consume(opens_object ? '{' : '[');
                const std::uint64_t bit = std::uint64_t{1} << depth;
                open_objects = opens_object ? (open_objects | bit) : (open_objects & ~bit);
                ++depth;
                in.skip_whitespace();
                if (in.consume(opens_object ? '}' : ']')) {
                    --depth;
                    expecting_value = false;
                } else if (opens_object && !read_key()) {
                    return false;
                }
                continue;
            }
            const auto value = in.scalar();
            if (!value)
                return false;
            report(*value);
            expecting_value = false;
            continue;
        }
        if (depth == 0)
            return in.at_end();
        if (in.consume(',')) {
            if (inside_object() && !read_key())
                return false;
            expecting_value = true;
        } else if (in.consume(inside_object() ? '}' : ']')) {
            --depth;
        } else {
            return false;
        }
    }
}

} // namespace discord_ratelimit::detail

#endif
