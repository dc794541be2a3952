// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_HEADERS_HPP
#define DISCORD_RATELIMIT_HEADERS_HPP

/// @file
/// What a Discord response says about rate limits in its headers, read from whatever holds the
/// headers: a map, a vector of pairs, the raw header text, or (with beast_headers.hpp) a Beast
/// message. Parsing never throws, never allocates and never uses floating point: "64.57" seconds
/// is exactly 64'570'000'000 ns. Each field records whether it was absent, valid, or why it was
/// rejected, so a caller can log a bad header instead of silently acting on it.

#include <discord_ratelimit/detail/ascii.hpp>
#include <discord_ratelimit/detail/header_block.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace discord_ratelimit {

/// The headers the parser reads, in the order of `rate_limit_headers::status`.
enum class header_field : std::uint8_t {
    limit,       ///< X-RateLimit-Limit
    remaining,   ///< X-RateLimit-Remaining
    reset,       ///< X-RateLimit-Reset
    reset_after, ///< X-RateLimit-Reset-After
    bucket,      ///< X-RateLimit-Bucket
    global,      ///< X-RateLimit-Global
    scope,       ///< X-RateLimit-Scope
    retry_after, ///< Retry-After
    date,        ///< Date
    via,         ///< Via
};

/// The number of `header_field` values.
inline constexpr std::size_t header_field_count = 10;
static_assert(static_cast<std::size_t>(header_field::via) + 1 == header_field_count);

/// The header's name in lower case, as Discord sends it ("x-ratelimit-reset-after").
/// @par Thread Safety
/// Safe to call concurrently.
constexpr std::string_view header_name(header_field field) noexcept
{
    switch (field) {
    case header_field::limit: return "x-ratelimit-limit";
    case header_field::remaining: return "x-ratelimit-remaining";
    case header_field::reset: return "x-ratelimit-reset";
    case header_field::reset_after: return "x-ratelimit-reset-after";
    case header_field::bucket: return "x-ratelimit-bucket";
    case header_field::global: return "x-ratelimit-global";
    case header_field::scope: return "x-ratelimit-scope";
    case header_field::retry_after: return "retry-after";
    case header_field::date: return "date";
    case header_field::via: return "via";
    }
    return {};
}

namespace detail {

/// `header_name(field)` for each field, prepared for `header_field_named`.
inline constexpr auto folded_header_names = [] {
    std::array<folded_ascii_name, header_field_count> names{
        folded_ascii_name{""}, folded_ascii_name{""}, folded_ascii_name{""}, folded_ascii_name{""},
        folded_ascii_name{""}, folded_ascii_name{""}, folded_ascii_name{""}, folded_ascii_name{""},
        folded_ascii_name{""}, folded_ascii_name{""}};
    for (std::size_t i = 0; i < header_field_count; ++i)
        names[i] = folded_ascii_name{header_name(static_cast<header_field>(i))};
    return names;
}();

/// The field whose `header_name` is `name` in any case, or nullopt. The length and one letter pick
/// the only candidate, so a name is compared once at most.
constexpr std::optional<header_field> header_field_named(std::string_view name) noexcept
{
    constexpr std::size_t prefix_size = std::string_view{"x-ratelimit-"}.size();
    header_field candidate{};
    switch (name.size()) {
    case 3: candidate = header_field::via; break;
    case 4: candidate = header_field::date; break;
    case 11: candidate = header_field::retry_after; break;
    case 17: // x-ratelimit-limit, x-ratelimit-reset, x-ratelimit-scope
        switch (to_ascii_lower(name[prefix_size])) {
        case 'l': candidate = header_field::limit; break;
        case 'r': candidate = header_field::reset; break;
        case 's': candidate = header_field::scope; break;
        default: return std::nullopt;
        }
        break;
    case 18: // x-ratelimit-bucket, x-ratelimit-global
        switch (to_ascii_lower(name[prefix_size])) {
        case 'b': candidate = header_field::bucket; break;
        case 'g': candidate = header_field::global; break;
        default: return std::nullopt;
        }
        break;
    case 21: candidate = header_field::remaining; break;
    case 23: candidate = header_field::reset_after; break;
    default: return std::nullopt;
    }
    if (!folded_header_names[static_cast<std::size_t>(candidate)].matches(name))
        return std::nullopt;
    return candidate;
}

} // namespace detail

/// What became of one header: not sent, accepted, or why its value was rejected.
enum class field_status : std::uint8_t {
    absent,        ///< not in the response
    ok,            ///< present and valid: the value is in `rate_limit_headers`
    empty,         ///< present with an empty (or all-whitespace) value
    malformed,     ///< not in the field's syntax ("5x", "0x10", "1e3", ".5", a non-IMF date)
    negative,      ///< a number with a minus sign ("-1", "-0.5")
    not_finite,    ///< nan, inf or infinity, in any case and with any sign
    out_of_range,  ///< a number or date outside what the field can mean
    too_long,      ///< a bucket hash longer than `bucket_hash::max_size`
    invalid_value, ///< well-formed text that is not one of the field's values ("maybe", "guild")
};

/// A short reason for a log line: "negative value", "out of range", ...
/// @par Thread Safety
/// Safe to call concurrently.
constexpr std::string_view describe(field_status status) noexcept
{
    switch (status) {
    case field_status::absent: return "absent";
    case field_status::ok: return "ok";
    case field_status::empty: return "empty value";
    case field_status::malformed: return "malformed value";
    case field_status::negative: return "negative value";
    case field_status::not_finite: return "not a finite number";
    case field_status::out_of_range: return "value out of range";
    case field_status::too_long: return "value too long";
    case field_status::invalid_value: return "invalid value";
    }
    return "unknown field status";
}

/// X-RateLimit-Scope, sent on 429 responses only: whose limit was exceeded.
enum class rate_limit_scope : std::uint8_t {
    none,   ///< no (valid) scope header
    user,   ///< this bot's own per-route bucket
    global, ///< this bot's global limit: every non-exempt route must wait
    shared, ///< a per-resource limit shared with others; not an invalid request
};

/// An X-RateLimit-Bucket value: an opaque identifier of 1 to 64 visible ASCII characters, stored
/// inline. Always valid: the only way to get one is `from`.
///
/// @par Thread Safety
/// A value type. Distinct objects: safe. Shared objects: safe for concurrent reads.
class bucket_hash {
public:
    static constexpr std::size_t max_size = 64;

    /// The hash whose text is exactly `text`, or nullopt unless it has 1 to 64 characters, all of
    /// them visible ASCII (0x21 to 0x7E). No trimming: surrounding spaces make it invalid.
    static constexpr std::optional<bucket_hash> from(std::string_view text) noexcept
    {
        if (text.empty() || text.size() > max_size || !detail::all_visible_ascii(text))
            return std::nullopt;
        bucket_hash hash;
        std::copy(text.begin(), text.end(), hash.chars_.begin());
        hash.size_ = static_cast<std::uint8_t>(text.size());
        return hash;
    }

    /// The text, valid as long as this object.
    constexpr std::string_view view() const noexcept { return {chars_.data(), size_}; }

    friend constexpr bool operator==(const bucket_hash& a, const bucket_hash& b) noexcept
    {
        return a.view() == b.view();
    }

    /// Byte-wise ordering of the texts, for ordered containers.
    friend constexpr std::strong_ordering operator<=>(const bucket_hash& a,
                                                      const bucket_hash& b) noexcept
    {
        return a.view() <=> b.view();
    }

    /// The standard library's hash of `view()`; `std::hash<bucket_hash>` returns the same.
    std::size_t hash() const noexcept { return std::hash<std::string_view>{}(view()); }

private:
    constexpr bucket_hash() noexcept = default;

    std::array<char, max_size> chars_{};
    std::uint8_t size_ = 0;
};

/// How to read the values whose unit depends on the API version.
struct header_parse_options {
    /// Retry-After and the body's retry_after are milliseconds instead of seconds, as in API v7
    /// and older (`/api/v6/...`, `/api/v7/...`, and unversioned `/api/...`, which runs v6): set it
    /// from `route::retry_after_in_milliseconds()`.
    bool retry_after_in_milliseconds = false;
};

/// The rate-limit information of one response. Each optional is set exactly when its header was
/// present and valid (its status is `ok`); a rejected value never leaks into a field.
///
/// @par Thread Safety
/// A value type. Distinct objects: safe. Shared objects: safe for concurrent reads.
struct rate_limit_headers {
    /// X-RateLimit-Limit, 0 to 1'000'000.
    std::optional<std::uint32_t> limit;
    /// X-RateLimit-Remaining, 0 to 1'000'000.
    std::optional<std::uint32_t> remaining;
    /// X-RateLimit-Reset: when the window resets, since the Unix epoch on Discord's clock. Accepted
    /// from 1'400'000'000 s (2014) to 10'000'000'000 s, and only as far as std::chrono::nanoseconds
    /// counts (April 2262), which is the tighter bound.
    std::optional<std::chrono::nanoseconds> reset;
    /// X-RateLimit-Reset-After: time until the window resets, 0 to 7 days.
    std::optional<std::chrono::nanoseconds> reset_after;
    /// X-RateLimit-Bucket.
    std::optional<bucket_hash> bucket;
    /// X-RateLimit-Global is "true" (any case).
    bool global = false;
    /// X-RateLimit-Scope (any case), `none` when absent or rejected.
    rate_limit_scope scope = rate_limit_scope::none;
    /// Retry-After, 0 to 7 days: seconds (a decimal is accepted), or milliseconds when
    /// `header_parse_options::retry_after_in_milliseconds`. The HTTP-date form is malformed here.
    std::optional<std::chrono::nanoseconds> retry_after;
    /// Date, an IMF-fixdate, since the Unix epoch: Discord's clock when it answered.
    std::optional<std::chrono::seconds> date;
    /// A Via header with a non-empty value is present: Discord's own answers carry
    /// `via: 1.1 google`; a 429 without it comes from Cloudflare (a ban).
    bool via = false;
    /// What became of each header, indexed by `header_field`.
    std::array<field_status, header_field_count> status{};

    constexpr field_status status_of(header_field field) const noexcept
    {
        return status[static_cast<std::size_t>(field)];
    }

    /// Whether any header was present but rejected.
    constexpr bool has_errors() const noexcept
    {
        return std::any_of(status.begin(), status.end(), [](field_status s) {
            return s != field_status::absent && s != field_status::ok;
        });
    }

    /// Whether a valid Limit, Remaining or Reset-After describes the route's bucket.
    constexpr bool has_bucket_info() const noexcept
    {
        return limit.has_value() || remaining.has_value() || reset_after.has_value();
    }
};

/// How to look a header up in an `S`. A specialization provides
/// `static std::optional<std::string_view> find(const S&, std::string_view lowercase_name)`,
/// which matches names without regard to case and returns the first occurrence's value (the
/// parser trims spaces and tabs around it). Specialize it for your own header container.
template <class S>
struct header_traits;

/// A type `header_traits` knows how to search.
template <class S>
concept header_source = requires(const S& source, std::string_view name)
{
    {
        header_traits<S>::find(source, name)
        } -> std::same_as<std::optional<std::string_view>>;
};

/// A view of the raw text of a header block: "Name: value" lines ending in CRLF or a bare LF.
/// A status line ("HTTP/1.1 429 TOO MANY REQUESTS") at the start is skipped, the first empty line
/// ends the block (so a whole response may be passed; its body is never read as headers), values
/// are trimmed of spaces and tabs, and malformed lines are ignored.
///
/// Interim responses before the final one are skipped with their own headers: libcurl's header
/// callback hands over `HTTP/1.1 100 Continue`, an empty line, then the final response's status
/// line and headers; `103 Early Hints` comes with headers of its own. Only the final response's
/// headers are read. A block that holds interim responses only (cut before the final response)
/// has no headers at all: `has_final_response()` is false and every field reads as absent.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe for concurrent reads. The text must outlive the
/// block and every value found in it.
class raw_header_block {
public:
    constexpr explicit raw_header_block(std::string_view text) noexcept
        : text_(text)
    {
    }

    constexpr std::string_view text() const noexcept { return text_; }

    /// False when the text holds nothing but interim (1xx) responses, so that the final
    /// response's headers are missing (a truncated block); true otherwise, also for an empty text
    /// or header lines without a status line.
    constexpr bool has_final_response() const noexcept
    {
        return detail::skip_interim_responses(text_).has_value();
    }

    /// The trimmed value of the first line named `name` (any case), a view into the text.
    constexpr std::optional<std::string_view> find(std::string_view name) const noexcept
    {
        return detail::find_in_header_block(text_, name);
    }

private:
    std::string_view text_;
};

template <>
struct header_traits<raw_header_block> {
    static constexpr std::optional<std::string_view> find(const raw_header_block& block,
                                                          std::string_view name) noexcept
    {
        return block.find(name);
    }

    /// Calls `visit(name, value)` for each "Name: value" line in order until it returns true.
    template <class Visit>
    static constexpr void for_each(const raw_header_block& block, Visit&& visit) noexcept
    {
        detail::for_each_header_line(block.text(), visit);
    }
};

namespace detail {

template <class K, class V>
concept header_text_pair = std::convertible_to<const K&, std::string_view> &&
    std::convertible_to<const V&, std::string_view>;

/// header_traits for containers of (name, value) pairs: a linear scan, in iteration order, that
/// compares names without case whatever the container's own ordering or hashing.
struct header_pairs_traits {
    /// Calls `visit(name, value)` for each pair in iteration order until it returns true. The value
    /// is passed as stored, so that only the values used are converted to std::string_view.
    template <class Pairs, class Visit>
    static constexpr void for_each(const Pairs& headers, Visit&& visit) noexcept
    {
        for (const auto& [key, value] : headers) {
            if (visit(std::string_view(key), value))
                return;
        }
    }

    template <class Pairs>
    static constexpr std::optional<std::string_view> find(const Pairs& headers,
                                                          std::string_view name) noexcept
    {
        std::optional<std::string_view> found;
        for_each(headers, [&](std::string_view key, const auto& value) {
            if (iequals_ascii(key, name))
                found = std::string_view(value);
            return found.has_value();
        });
        return found;
    }
};

} // namespace detail

/// Header lookup in standard containers whose keys and values convert to std::string_view
/// (std::string, std::string_view, const char*). Names match in any case; with several matches
/// the first in iteration order wins (unspecified order for the unordered containers).
template <class K, class V, class Compare, class Allocator>
requires detail::header_text_pair<K, V>
struct header_traits<std::map<K, V, Compare, Allocator>> : detail::header_pairs_traits {
};

template <class K, class V, class Compare, class Allocator>
requires detail::header_text_pair<K, V>
struct header_traits<std::multimap<K, V, Compare, Allocator>> : detail::header_pairs_traits {
};

template <class K, class V, class Hash, class Equal, class Allocator>
requires detail::header_text_pair<K, V>
struct header_traits<std::unordered_map<K, V, Hash, Equal, Allocator>>
    : detail::header_pairs_traits {
};

template <class K, class V, class Hash, class Equal, class Allocator>
requires detail::header_text_pair<K, V>
struct header_traits<std::unordered_multimap<K, V, Hash, Equal, Allocator>>
    : detail::header_pairs_traits {
};

template <class K, class V, class Allocator>
requires detail::header_text_pair<K, V>
struct header_traits<std::vector<std::pair<K, V>, Allocator>> : detail::header_pairs_traits {
};

namespace detail {

/// A source whose headers can be visited in order, all in one pass (`header_traits<S>::for_each`).
template <class S>
concept header_sequence =
    std::derived_from<header_traits<S>, header_pairs_traits> || std::same_as<S, raw_header_block>;

/// Parses one header's value into its field of `headers`, recording the status (defined in
/// detail/header_field_parsers.hpp).
constexpr void record_header(rate_limit_headers& headers, header_field field,
                             std::string_view value, header_parse_options options) noexcept;

} // namespace detail

/// Reads every rate-limit header of a response from `source`. Absent headers leave their field
/// empty with status `absent`; rejected ones leave it empty with the reason in `status`.
///
/// Never throws and never allocates (provided `header_traits<S>::find` does neither).
/// @par Thread Safety
/// Safe to call concurrently, also on one source if its lookup is safe for concurrent reads.
template <header_source S>
constexpr rate_limit_headers parse_rate_limit_headers(const S& source,
                                                      header_parse_options options = {}) noexcept
{
    rate_limit_headers headers;
    if constexpr (detail::header_sequence<S>) {
        // One pass over the headers rather than one search per field; as with `find`, the first
        // occurrence of each name is the one read.
        constexpr std::uint32_t all_fields = (std::uint32_t{1} << header_field_count) - 1;
        std::uint32_t seen = 0;
        header_traits<S>::for_each(source, [&](std::string_view name, const auto& value) {
            const auto field = detail::header_field_named(name);
            if (!field)
                return false;
            const std::uint32_t bit = std::uint32_t{1} << static_cast<unsigned>(*field);
            if ((seen & bit) == 0) {
                seen |= bit;
                detail::record_header(headers, *field, std::string_view(value), options);
            }
            return seen == all_fields;
        });
    } else {
        for (std::size_t i = 0; i < header_field_count; ++i) {
            const auto field = static_cast<header_field>(i);
            if (const auto value = header_traits<S>::find(source, header_name(field)))
                detail::record_header(headers, field, *value, options);
        }
    }
    return headers;
}

} // namespace discord_ratelimit

/// Hashes as `bucket_hash::hash()`.
template <>
struct std::hash<discord_ratelimit::bucket_hash> {
    std::size_t operator()(const discord_ratelimit::bucket_hash& bucket) const noexcept
    {
        return bucket.hash();
    }
};

#include <discord_ratelimit/detail/header_field_parsers.hpp>

#endif
