// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_API_PATH_HPP
#define DISCORD_RATELIMIT_DETAIL_API_PATH_HPP

/// @file
/// Splits what a caller hands over as a Discord API address (a full URL, an `/api/...` path or a
/// path relative to the versioned root) into classified path segments: one pass over the
/// characters, no allocation, and every reason for a rejection a static string that never
/// repeats the input (paths carry webhook and interaction tokens).

#include <discord_ratelimit/detail/ascii.hpp>
#include <discord_ratelimit/detail/little_endian.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace discord_ratelimit::detail {

/// The most segments a path may have below the API root (`/api/vN`). Discord's deepest route has 7.
inline constexpr std::size_t max_path_segments = 16;

/// The version Discord serves when a path is under `/api` without `/vN`.
inline constexpr int unversioned_api_version = 6;

/// The version assumed for paths given relative to the versioned root (`/channels/...`).
inline constexpr int default_api_version = 10;

/// The first version whose Retry-After and 429 body `retry_after` are seconds; older versions
/// (the unversioned v6 included) send milliseconds.
inline constexpr int first_api_version_with_retry_after_in_seconds = 8;

/// Why a string is not a Discord API path: static strings, safe to log.
namespace api_path_reason {
inline constexpr std::string_view empty = "the path is empty";
inline constexpr std::string_view whitespace_or_control =
    "the path contains whitespace or a control character";
inline constexpr std::string_view url_without_host = "the URL has no host";
inline constexpr std::string_view url_outside_api = "a URL's path must start with /api";
inline constexpr std::string_view empty_segment = "the path has an empty segment (//)";
inline constexpr std::string_view dot_segment = "the path has a '.' or '..' segment";
inline constexpr std::string_view bad_version = "the version segment after /api is not /v1 to /v99";
inline constexpr std::string_view version_outside_api = "a /vN version segment must follow /api";
inline constexpr std::string_view no_resource = "the path names no resource";
inline constexpr std::string_view bad_resource =
    "the first segment is not a lowercase resource name ([a-z][a-z0-9_-]*)";
inline constexpr std::string_view too_many_segments = "the path has more than 16 segments";
} // namespace api_path_reason

constexpr bool is_control_or_space(char c) noexcept
{
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
}

constexpr bool is_lower_alpha(char c) noexcept
{
    return c >= 'a' && c <= 'z';
}

constexpr bool is_letter(char c) noexcept
{
    return is_lower_alpha(c) || (c >= 'A' && c <= 'Z');
}

constexpr bool is_url_scheme_char(char c) noexcept
{
    return is_letter(c) || is_ascii_digit(c) || c == '+' || c == '-' || c == '.';
}

constexpr bool ends_path(char c) noexcept
{
    return c == '/' || c == '?' || c == '#';
}

/// What the scanner needs to know of a byte, as bits, so that the per-character loop is one
/// table look-up and one test.
namespace char_class {
inline constexpr std::uint8_t ends_segment = 1;  ///< '/', '?' or '#'
inline constexpr std::uint8_t forbidden = 2;     ///< whitespace or a control character
inline constexpr std::uint8_t non_digit = 4;     ///< not '0' to '9'
inline constexpr std::uint8_t non_ascii = 8;     ///< 0x80 and above
inline constexpr std::uint8_t brace = 16;        ///< '{' or '}'
inline constexpr std::uint8_t not_resource = 32; ///< not in [a-z0-9_-]
inline constexpr std::uint8_t dot_or_percent = 64;
inline constexpr std::uint8_t percent = 128; ///< '%', which starts an escape
} // namespace char_class

inline constexpr std::array<std::uint8_t, 256> char_classes = [] {
    std::array<std::uint8_t, 256> classes{};
    for (std::size_t byte = 0; byte < classes.size(); ++byte) {
        const char c = static_cast<char>(byte);
        std::uint8_t bits = 0;
        if (ends_path(c))
            bits |= char_class::ends_segment;
        if (is_control_or_space(c))
            bits |= char_class::forbidden;
        if (!is_ascii_digit(c))
            bits |= char_class::non_digit;
        if (byte >= 0x80)
            bits |= char_class::non_ascii;
        if (c == '{' || c == '}')
            bits |= char_class::brace;
        if (!is_lower_alpha(c) && !is_ascii_digit(c) && c != '-' && c != '_')
            bits |= char_class::not_resource;
        if (c == '.' || c == '%')
            bits |= char_class::dot_or_percent;
        if (c == '%')
            bits |= char_class::percent;
        classes[byte] = bits;
    }
    return classes;
}();

constexpr std::uint8_t class_of(char c) noexcept
{
    return char_classes[static_cast<unsigned char>(c)];
}

/// The value of a hexadecimal digit in either case, or -1.
constexpr int hex_digit_value(char c) noexcept
{
    if (is_ascii_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/// Whether a byte decoded from an escape may stand for itself in a segment: not '/', '?' or '#'
/// (which would split the path or end it), '%' (which would start another escape), '{' or '}'
/// (the marks of an unfilled placeholder), whitespace, a control character or a non-ASCII byte.
constexpr bool decodes_to_itself(char byte) noexcept
{
    constexpr std::uint8_t kept_escaped = char_class::ends_segment | char_class::forbidden |
                                          char_class::non_ascii | char_class::brace |
                                          char_class::percent;
    return (class_of(byte) & kept_escaped) == 0;
}

/// Calls `emit(c)` for each character of the canonical spelling of a segment, until it returns
/// false (then returns false). Percent-encoded and literal spellings of one segment have one
/// canonical spelling: an escape of a byte that `decodes_to_itself` becomes that byte ("%40" is
/// "@", "%61" is "a"), every other escape keeps its form with upper-case hex digits ("%2f" is
/// "%2F": an encoded '/' is data, never a separator), and a '%' without two hex digits after it
/// stays as written, as does every other character. Never longer than `text`.
template <class Emit>
constexpr bool for_each_canonical_char(std::string_view text, Emit&& emit) noexcept
{
    constexpr std::string_view upper_hex = "0123456789ABCDEF";
    for (std::size_t at = 0; at < text.size();) {
        const int high =
            text[at] == '%' && text.size() - at >= 3 ? hex_digit_value(text[at + 1]) : -1;
        const int low = high >= 0 ? hex_digit_value(text[at + 2]) : -1;
        if (low < 0) {
            if (!emit(text[at]))
                return false;
            ++at;
            continue;
        }
        const auto byte = static_cast<char>(static_cast<unsigned char>(high * 16 + low));
        if (decodes_to_itself(byte)) {
            if (!emit(byte))
                return false;
        } else if (!emit('%') || !emit(upper_hex[static_cast<std::size_t>(high)]) ||
                   !emit(upper_hex[static_cast<std::size_t>(low)])) {
            return false;
        }
        at += 3;
    }
    return true;
}

/// Whether the canonical spelling of `text` (`for_each_canonical_char`) is `literal`.
constexpr bool canonical_equals(std::string_view text, std::string_view literal) noexcept
{
    std::size_t matched = 0;
    const bool all = for_each_canonical_char(text, [&](char c) {
        if (matched == literal.size() || literal[matched] != c)
            return false;
        ++matched;
        return true;
    });
    return all && matched == literal.size();
}

/// One segment of a path, classified while it was scanned so that no later step reads it twice.
/// A segment with a '%' is classified by its canonical spelling (`for_each_canonical_char`), so
/// that "%40me" is "@me" and "%31" is the id 1.
struct path_segment {
    const char* data;     ///< the first character, inside the caller's input
    std::size_t size;     ///< at least 1
    std::uint64_t number; ///< the value when `numeric`, else 0
    bool numeric;         ///< only digits, and the value fits in 64 bits (a snowflake)
    bool too_large;       ///< only digits, but more than 64 bits
    bool non_ascii;       ///< a byte >= 0x80, as in a raw UTF-8 emoji (escaped ones are ASCII)
    bool has_brace;       ///< '{' or '}' (or "%7B", "%7D"), as in an unfilled {channel_id}
    /// Holds a '%': `text()` is not its canonical spelling. Compare it with `matches`; write it
    /// into a key through `for_each_canonical_char`.
    bool percent_encoded;

    constexpr std::string_view text() const noexcept { return {data, size}; }

    /// Whether the segment, percent-decoded where that is safe, is `literal`. Only a segment with
    /// a '%' pays for the decoding.
    constexpr bool matches(std::string_view literal) const noexcept
    {
        return percent_encoded ? canonical_equals(text(), literal) : text() == literal;
    }
};

/// Classifies a segment that holds a '%' by its canonical spelling: an escaped brace marks a
/// placeholder, and escaped digits make an id, as their literal spellings would.
constexpr void classify_escaped_segment(path_segment& segment) noexcept
{
    constexpr std::uint64_t max = ~std::uint64_t{0};
    bool digits_only = true;
    bool overflow = false;
    std::uint64_t value = 0;
    for_each_canonical_char(segment.text(), [&](char c) {
        if (!is_ascii_digit(c)) {
            digits_only = false;
            return false;
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (max - digit) / 10)
            overflow = true;
        else
            value = value * 10 + digit;
        return true;
    });
    segment.numeric = digits_only && !overflow;
    segment.too_large = digits_only && overflow;
    segment.number = segment.numeric ? value : 0;
    const std::string_view text = segment.text();
    for (std::size_t at = text.find('%'); at != std::string_view::npos && text.size() - at >= 3;
         at = text.find('%', at + 1)) {
        const bool brace_escape =
            text[at + 1] == '7' && (text[at + 2] == 'B' || text[at + 2] == 'b' ||
                                    text[at + 2] == 'D' || text[at + 2] == 'd');
        segment.has_brace = segment.has_brace || brace_escape;
    }
}

/// The position of the first character at or after `at` whose class has a bit of `stop`, or the
/// end of `input`; the classes of the characters passed over are or-ed into `seen`.
constexpr std::size_t scan_run(std::string_view input, std::size_t at, std::uint8_t stop,
                               std::uint8_t& seen) noexcept
{
    // Four characters per test while no stop is among them: this loop is most of a parse's time.
    for (; input.size() - at >= 4; at += 4) {
        const std::uint8_t bits = class_of(input[at]) | class_of(input[at + 1]) |
                                  class_of(input[at + 2]) | class_of(input[at + 3]);
        if ((bits & stop) != 0)
            break;
        seen |= bits;
    }
    for (; at < input.size(); ++at) {
        const std::uint8_t bits = class_of(input[at]);
        if ((bits & stop) != 0)
            break;
        seen |= bits;
    }
    return at;
}

/// The value of eight ASCII digits read by `load_little_endian` (the first digit, the most
/// significant, in the lowest byte): three multiply-and-add steps on 2-, 4- and 8-digit lanes.
constexpr std::uint64_t parse_eight_digits(std::uint64_t word) noexcept
{
    word -= 0x3030303030303030ULL;                                  // bytes 0..9
    word = ((word * 10) + (word >> 8)) & 0x00ff00ff00ff00ffULL;     // 16-bit lanes 0..99
    word = ((word * 100) + (word >> 16)) & 0x0000ffff0000ffffULL;   // 32-bit lanes 0..9999
    return ((word * 10000) + (word >> 32)) & 0x00000000ffffffffULL; // 0..99999999
}

/// The value of a string of digits, or `std::nullopt` when it does not fit in 64 bits.
constexpr std::optional<std::uint64_t> parse_snowflake(std::string_view digits) noexcept
{
    constexpr std::string_view largest = "18446744073709551615";
    while (digits.size() > 1 && digits.front() == '0') // rare: Discord never sends leading zeros
        digits.remove_prefix(1);
    // Same length: the lexicographic order is the numeric one.
    if (digits.size() > largest.size() || (digits.size() == largest.size() && digits > largest))
        return std::nullopt;
    std::uint64_t value = 0;
    std::size_t at = 0;
    for (; digits.size() - at >= 8; at += 8)
        value = value * 100'000'000 + parse_eight_digits(load_little_endian(digits, at, 8));
    for (; at < digits.size(); ++at)
        value = value * 10 + static_cast<std::uint64_t>(digits[at] - '0');
    return value;
}

/// True for ".", "..", and their percent-encoded spellings ("%2e", "%2E%2e", ...), which servers
/// decode and then resolve against the parent segment.
constexpr bool is_dot_segment(std::string_view text) noexcept
{
    std::size_t dots = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '.') {
            ++i;
        } else if (text[i] == '%' && text.size() - i >= 3 && text[i + 1] == '2' &&
                   (text[i + 2] == 'e' || text[i + 2] == 'E')) {
            i += 3;
        } else {
            return false;
        }
        ++dots;
    }
    return dots == 1 || dots == 2;
}

/// "v" alone or followed by anything but a letter ("v10", "v", "v-1"): the caller meant a version,
/// right or wrong. Resources that start with a v ("voice") are words.
constexpr bool looks_like_version(std::string_view text) noexcept
{
    return !text.empty() && text.front() == 'v' && (text.size() == 1 || !is_letter(text[1]));
}

/// The N of a valid "vN" (1 to 99, no leading zero), or 0.
constexpr int parse_version(std::string_view text) noexcept
{
    if (text.size() < 2 || text.size() > 3 || text[1] == '0')
        return 0;
    int version = 0;
    for (std::size_t i = 1; i < text.size(); ++i) {
        if (!is_ascii_digit(text[i]))
            return 0;
        version = version * 10 + (text[i] - '0');
    }
    return version;
}

/// The segments of a Discord API path below the API root, or why the input is not one.
struct api_path {
    /// Only the first `size` are set: a trivial array, so that constructing one costs nothing.
    std::array<path_segment, max_path_segments> segments;
    std::size_t size = 0;
    int api_version = default_api_version; ///< from /vN; 6 for /api without /vN
    bool unversioned = false;              ///< under /api without /vN
    std::string_view reason;               ///< why the input is not an API path; empty when it is

    constexpr bool ok() const noexcept { return reason.empty(); }
};

/// Scans `input` into `out` and returns why it is not an API path, or an empty string.
constexpr std::string_view scan_api_path(std::string_view input, api_path& out) noexcept
{
    namespace reason = api_path_reason;
    if (input.empty())
        return reason::empty;
    const std::size_t length = input.size();
    constexpr std::uint8_t segment_end = char_class::ends_segment | char_class::forbidden;
    std::size_t at = 0;
    enum class expecting { api_or_resource, version_or_resource, resource };
    auto stage = expecting::api_or_resource;

    std::size_t scheme_end = 0;
    while (scheme_end < length && is_url_scheme_char(input[scheme_end]))
        ++scheme_end;
    const bool is_url = scheme_end > 0 && is_letter(input[0]) && length - scheme_end >= 3 &&
                        input[scheme_end] == ':' && input[scheme_end + 1] == '/' &&
                        input[scheme_end + 2] == '/';
    if (is_url) {
        const std::size_t host_begin = scheme_end + 3;
        std::uint8_t host_classes = 0;
        at = scan_run(input, host_begin, segment_end, host_classes);
        if (at < length && (class_of(input[at]) & char_class::forbidden) != 0)
            return reason::whitespace_or_control;
        if (at == host_begin)
            return reason::url_without_host;
        const std::string_view path = input.substr(at);
        if (path.size() < 4 || path.substr(0, 4) != "/api" ||
            (path.size() > 4 && !ends_path(path[4])))
            return reason::url_outside_api;
        at += 4;
        stage = expecting::version_or_resource;
    }
    if (at < length && input[at] == '/')
        ++at;
    // Most paths start so: one comparison instead of two segments through the loop below.
    if (stage == expecting::api_or_resource && length - at >= 8 &&
        load_little_endian(input, at, 8) == load_little_endian("api/v10/", 0, 8)) {
        at += 8;
        out.api_version = 10;
        stage = expecting::resource;
    }

    // One segment per iteration; `at` is at the segment's first character.
    for (bool more = true; more;) {
        const std::size_t begin = at;
        std::uint8_t seen = 0;
        at = scan_run(input, at, segment_end, seen);
        if (at < length && (class_of(input[at]) & char_class::forbidden) != 0)
            return reason::whitespace_or_control;
        const std::string_view text = input.substr(begin, at - begin);
        more = at < length && input[at] == '/';
        if (more)
            ++at;

        if (text.empty()) {
            if (more)
                return reason::empty_segment;
            break; // right after a trailing slash, or an empty path
        }
        if ((seen & char_class::dot_or_percent) != 0 && is_dot_segment(text))
            return reason::dot_segment;

        if (stage == expecting::api_or_resource && text == "api") {
            stage = expecting::version_or_resource;
            continue;
        }
        if (stage == expecting::version_or_resource && looks_like_version(text)) {
            out.api_version = parse_version(text);
            if (out.api_version == 0)
                return reason::bad_version;
            stage = expecting::resource;
            continue;
        }
        if (out.size == 0) {
            if (looks_like_version(text))
                return reason::version_outside_api;
            if (!is_lower_alpha(text.front()) || (seen & char_class::not_resource) != 0)
                return reason::bad_resource;
            if (stage == expecting::version_or_resource) {
                out.unversioned = true;
                out.api_version = unversioned_api_version;
            }
            stage = expecting::resource;
        }
        if (out.size == max_path_segments)
            return reason::too_many_segments;
        const bool digits_only = (seen & char_class::non_digit) == 0;
        const std::optional<std::uint64_t> number =
            digits_only ? parse_snowflake(text) : std::nullopt;
        path_segment& segment = out.segments[out.size++];
        segment.data = text.data();
        segment.size = text.size();
        segment.number = number.value_or(0);
        segment.numeric = number.has_value();
        segment.too_large = digits_only && !number.has_value();
        segment.non_ascii = (seen & char_class::non_ascii) != 0;
        segment.has_brace = (seen & char_class::brace) != 0;
        segment.percent_encoded = (seen & char_class::percent) != 0;
        if (segment.percent_encoded) // rare: decode only when a '%' is there
            classify_escaped_segment(segment);
    }
    // The query string and fragment never reach the key, but they must still be one token.
    std::uint8_t query_classes = 0;
    if (scan_run(input, at, char_class::forbidden, query_classes) != length)
        return reason::whitespace_or_control;
    if (out.size == 0)
        return reason::no_resource;
    return {};
}

/// Splits `input` into the segments below the API root.
///
/// Accepted forms: `scheme://host[:port]/api[/vN]/...` (any scheme and host), `/api[/vN]/...`,
/// `api[/vN]/...`, and paths relative to the versioned root with or without the leading slash.
/// The query string and fragment are skipped (but must not hold whitespace or control
/// characters); one trailing slash is dropped. On failure `size` is 0 and `reason` says why.
constexpr api_path split_api_path(std::string_view input) noexcept
{
    api_path out;
    out.reason = scan_api_path(input, out);
    if (!out.ok())
        out.size = 0;
    return out;
}

} // namespace discord_ratelimit::detail

#endif
