// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_ASCII_HPP
#define DISCORD_RATELIMIT_DETAIL_ASCII_HPP

/// @file
/// Locale-independent ASCII classification and comparison for protocol text. Bytes outside ASCII
/// are never letters, digits or whitespace here, whatever the signedness of `char`.

#include <discord_ratelimit/detail/little_endian.hpp>

#include <cstddef>
#include <cstdint>
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

/// Whether every character of `text` is visible ASCII, eight at a time.
constexpr bool all_visible_ascii(std::string_view text) noexcept
{
    constexpr std::uint64_t ones = 0x0101'0101'0101'0101;
    constexpr std::uint64_t high_bits = ones * 0x80;
    std::size_t at = 0;
    for (; at + 8 <= text.size(); at += 8) {
        const std::uint64_t word = load_little_endian(text, at, 8);
        // High bit of a byte set: below '!' (exact as a whole-word test), 0x7F (a carry across
        // bytes only follows a byte of 0x80 or more, caught by `word` itself) or beyond ASCII.
        const std::uint64_t below_visible = (word - ones * '!') & ~word;
        if (((below_visible | (word + ones) | word) & high_bits) != 0)
            return false;
    }
    for (; at < text.size(); ++at) {
        if (!is_visible_ascii(text[at]))
            return false;
    }
    return true;
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

/// A name of lower-case ASCII (a header name, at most 24 characters) prepared at compile time for
/// comparisons without case eight bytes at a time: a byte matches a letter with bit 0x20 set.
class folded_ascii_name {
public:
    static constexpr std::size_t max_size = 24;

    /// `lowercase` has no upper-case letters and no bytes outside ASCII.
    constexpr explicit folded_ascii_name(std::string_view lowercase) noexcept
        : size_(lowercase.size())
    {
        const auto fold = [&](std::size_t slot, std::size_t at, std::size_t count) {
            words_[slot] = load_little_endian(lowercase, at, count);
            for (std::size_t b = 0; b < count; ++b) {
                if (lowercase[at + b] >= 'a' && lowercase[at + b] <= 'z')
                    letters_[slot] |= std::uint64_t{0x20} << (8 * b);
            }
        };
        if (size_ < 8) {
            fold(0, 0, size_);
            return;
        }
        fold(0, 0, 8);
        if (size_ > 16)
            fold(1, 8, 8);
        fold(2, size_ - 8, 8); // overlaps the word before unless the size is a multiple of 8
    }

    /// `iequals_ascii(text, name)`.
    constexpr bool matches(std::string_view text) const noexcept
    {
        if (text.size() != size_)
            return false;
        const auto differs = [&](std::size_t slot, std::size_t at, std::size_t count) {
            return (load_little_endian(text, at, count) | letters_[slot]) ^ words_[slot];
        };
        if (size_ < 8)
            return differs(0, 0, size_) == 0;
        std::uint64_t differences = differs(0, 0, 8) | differs(2, size_ - 8, 8);
        if (size_ > 16)
            differences |= differs(1, 8, 8);
        return differences == 0;
    }

private:
    // Slots: the word at 0, the word at 8 (for names over 16 bytes), the word ending the name.
    std::size_t size_;
    std::uint64_t words_[3]{};
    std::uint64_t letters_[3]{};
};

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
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && is_http_whitespace(text[begin]))
        ++begin;
    while (end > begin && is_http_whitespace(text[end - 1]))
        --end;
    return text.substr(begin, end - begin);
}

} // namespace discord_ratelimit::detail

#endif
