// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ROUTE_HPP
#define DISCORD_RATELIMIT_ROUTE_HPP

/// @file
/// Route parsing: an HTTP method and a Discord API path or URL become a `route`, whose `key` names
/// the rate-limit bucket template (`"POST /channels/{channel_id}/messages"`) and whose `major`
/// names the resource the bucket's state belongs to (the channel, guild, webhook or interaction).
///
/// Parsing is one pass over the characters, allocates nothing and throws nothing (`make_route`
/// aside). No key, no reason and no field of a route ever contains a webhook or interaction token:
/// tokens are kept only as a 64-bit hash.

#include <discord_ratelimit/detail/api_path.hpp>
#include <discord_ratelimit/detail/ascii.hpp>
#include <discord_ratelimit/detail/byte_hash.hpp>
#include <discord_ratelimit/detail/json_scanner.hpp>
#include <discord_ratelimit/error.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace discord_ratelimit {

/// The HTTP methods of Discord's API.
enum class http_method : std::uint8_t { get, post, put, patch, delete_ };

/// The method named by `text`, compared case-insensitively ("get", "Get" and "GET" are all
/// `http_method::get`); `std::nullopt` for anything else, `HEAD` and `OPTIONS` included.
///
/// @par Thread Safety
/// Safe to call concurrently: a pure function.
constexpr std::optional<http_method> parse_http_method(std::string_view text) noexcept;

/// The upper-case name of `method` ("GET", "POST", "PUT", "PATCH", "DELETE"); an empty string for
/// a value outside the enumeration. The returned view refers to static storage.
///
/// @par Thread Safety
/// Safe to call concurrently: a pure function.
constexpr std::string_view to_string(http_method method) noexcept;

/// Which kind of resource a route's rate-limit state is kept per.
enum class major_kind : std::uint8_t { none, channel, guild, webhook, interaction };

/// The major parameter of a route: Discord keeps a bucket's state separately per channel, guild,
/// webhook (with its token, when the path has one) or interaction.
///
/// Two routes of the same resource have equal majors whatever their paths. The token of a webhook
/// or interaction is never stored: only a 64-bit hash of it, which is never 0 when a token is
/// present.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe for concurrent reads.
struct major_parameter {
    major_kind kind = major_kind::none;
    std::uint64_t id = 0; ///< the snowflake after /channels, /guilds, /webhooks, /interactions
    std::uint64_t token_hash = 0; ///< a hash of the webhook or interaction token; 0 without a token

    friend bool operator==(const major_parameter&, const major_parameter&) = default;

    /// A hash of all three fields, for hash tables. Equal majors hash equally.
    constexpr std::size_t hash() const noexcept
    {
        const std::uint64_t kind_and_id =
            detail::combine_hash(static_cast<std::uint64_t>(kind), id);
        return static_cast<std::size_t>(detail::combine_hash(kind_and_id, token_hash));
    }
};

/// How old the message of a `DELETE /channels/{channel_id}/messages/{message_id}` is: Discord
/// limits deletes of messages younger than 10 seconds, younger than 14 days and older separately.
enum class message_age : std::uint8_t {
    not_applicable,   ///< the route is not a message delete
    unknown,          ///< a message delete, but no wall-clock time was given to compare with
    under_10_seconds, ///< younger than 10 s, or from the future (clock skew)
    under_14_days,    ///< at least 10 s, younger than 14 days
    older,            ///< 14 days or older
};

/// The age class of the message whose id is `message_id`, at wall-clock time `now`.
///
/// A snowflake's top 42 bits are the milliseconds of its creation since the Discord epoch,
/// 2015-01-01T00:00:00Z. A message created after `now` (the clocks disagree) counts as
/// `message_age::under_10_seconds`. Never returns `not_applicable` or `unknown`.
///
/// @par Thread Safety
/// Safe to call concurrently: a pure function.
constexpr message_age message_age_of(std::uint64_t message_id,
                                     std::chrono::system_clock::time_point now) noexcept;

class route_key;
namespace detail {
class route_key_writer;
} // namespace detail

/// The bucket key template of a route, e.g. `"POST /channels/{channel_id}/messages"`: the method,
/// a space and the path with every id, token and other variable segment replaced by a
/// placeholder. Routes with equal keys share one rate-limit bucket per major parameter.
///
/// The text is stored inline (at most `max_size` characters, no allocation) and hashed once, at
/// construction, so copying, hashing and comparing are cheap. A key never contains a token.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe for concurrent reads.
class route_key {
public:
    /// The longest key, in characters. Longer keys are rejected rather than truncated.
    static constexpr std::size_t max_size = 160;

    /// The empty key; no route parses to it.
    constexpr route_key() noexcept = default;

    /// A key holding `text` as is, for tests and for keys a caller builds itself; `std::nullopt`
    /// when `text` is longer than `max_size`. Nothing is validated or collapsed: `parse_route`
    /// is the way to turn a path into a key.
    static constexpr std::optional<route_key> from_string(std::string_view text) noexcept;

    /// The key's text, valid as long as this object lives and is not assigned to.
    constexpr std::string_view view() const noexcept { return {text_.data(), size_}; }

    /// The length of the key, at most `max_size`.
    constexpr std::size_t size() const noexcept { return size_; }

    /// True for the default-constructed key only.
    constexpr bool empty() const noexcept { return size_ == 0; }

    /// The hash of the text, computed at construction. Equal keys hash equally in every process.
    constexpr std::size_t hash() const noexcept { return hash_; }

    /// Equal when the texts are equal.
    friend constexpr bool operator==(const route_key& a, const route_key& b) noexcept
    {
        return a.hash_ == b.hash_ && a.view() == b.view();
    }

private:
    friend class detail::route_key_writer;

    std::array<char, max_size> text_{};
    std::uint8_t size_ = 0;
    std::size_t hash_ = static_cast<std::size_t>(detail::hash_bytes({}));
};

static_assert(route_key::max_size <= 255, "route_key stores its size in one byte");

/// A request's route, as `parse_route` understands it: the bucket key template, the major
/// parameter and the special cases of Discord's rate limits that apply to it.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe for concurrent reads.
struct route {
    http_method method = http_method::get;
    route_key key;
    major_parameter major;
    /// An interaction endpoint, not bound by the global rate limit (it still has its own bucket):
    /// `POST /interactions/{id}/{token}/callback`, and with an interaction token
    /// `POST /webhooks/{application_id}/{token}` and `GET|PATCH|DELETE` of its
    /// `/messages/@original` and `/messages/{id}`.
    bool global_exempt = false;
    /// `PUT` or `DELETE .../messages/{id}/reactions/{emoji}/@me` or `.../{user_id}`: all of them
    /// share one key, `"PUT|DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/{user}"`.
    bool reaction = false;
    /// The path had no /vN: Discord serves API v6 (`api_version` is 6). Whether Retry-After is in
    /// milliseconds depends on the version, not on this flag: see `retry_after_in_milliseconds`.
    bool unversioned = false;
    /// `PATCH /channels/{id}` that changes the name or topic (from `route_options`): 2 per 10
    /// minutes, a limit the response headers do not show. The key stays the ordinary one.
    bool channel_name_or_topic_edit = false;
    /// The age class of the message of a message delete; `not_applicable` for other routes.
    message_age delete_age = message_age::not_applicable;
    /// From /vN; 6 when unversioned; 10 for paths relative to the versioned root.
    int api_version = detail::default_api_version;

    /// False for POST only: only a POST may be unsafe to resend.
    constexpr bool idempotent() const noexcept { return method != http_method::post; }

    /// Whether Discord answers this route with Retry-After and a 429 body `retry_after` in
    /// milliseconds: true for API v7 and older (`/api/v6/...`, `/api/v7/...` and the unversioned
    /// `/api/...`, which runs v6); false from v8 on, which changed both to seconds. Pass it as
    /// `header_parse_options::retry_after_in_milliseconds`.
    constexpr bool retry_after_in_milliseconds() const noexcept
    {
        return api_version < detail::first_api_version_with_retry_after_in_seconds;
    }

    friend bool operator==(const route&, const route&) = default;
};

/// What the path alone cannot say; all optional.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe for concurrent reads.
struct route_options {
    /// The body of a `PATCH /channels/{id}` changes `name` or `topic`.
    bool edits_channel_name_or_topic = false;
    /// The token of a `/webhooks/{id}/{token}` path is an interaction token, even though it does
    /// not look like one (interaction tokens start with "aW50ZXJhY3Rpb246").
    bool interaction_webhook = false;
    /// The current wall-clock time, to classify the age of the message of a message delete.
    /// Without it the age is `message_age::unknown`.
    std::optional<std::chrono::system_clock::time_point> now;
};

/// The outcome of `parse_route`: a route, or why the input is not a Discord API path. (A
/// default-constructed result is `ok()` with an empty key; only `parse_route` fills one in.)
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe for concurrent reads.
struct route_result {
    route value{};         ///< meaningful only when `ok()`; a default `route` otherwise
    std::error_code error; ///< `error::invalid_route` when not `ok()`
    /// Why the input is not a Discord API path: a static string that never repeats the input,
    /// which may carry a token. Empty when `ok()`.
    std::string_view reason;

    bool ok() const noexcept { return !error; }
    explicit operator bool() const noexcept { return ok(); }
};

/// Parses a request's method and path into its route.
///
/// `path_or_url` may be a full URL (`https://discord.com/api/v10/channels/1/messages`, any scheme,
/// host and port, whose path must start with `/api`), `/api/vN/...`, `/api/...` (unversioned:
/// API v6), or a path relative to the versioned root (`/channels/1/messages` or
/// `channels/1/messages`). The query string, the fragment and one trailing slash are ignored.
///
/// Percent-encoded and literal spellings of a segment give one route: `%40me` is `@me` (the
/// own-reaction route shares the reaction bucket either way), `%31` is the id 1, `m%65ssages` is
/// `messages`, and the key holds the decoded text. Escapes that would change the path's shape
/// stay data, written in the key with upper-case hex: `%2F` never splits a segment, `%3F` and
/// `%23` never start a query or a fragment, and `%00`, other control characters, spaces, `%25`
/// and non-ASCII bytes stay escaped. `%7B` and `%7D` mark an unfilled placeholder like `{` and
/// `}`. Decoding costs only segments that hold a '%'. Tokens are hashed as written, and the
/// first segment must be a literal resource name.
///
/// Rejected with `error::invalid_route` and a static reason: an unknown method, an empty input,
/// whitespace or control characters, empty, `.` or `..` segments, a URL path outside `/api`, a
/// first segment that is not a lowercase resource name, a bad `/vN`, more than 16 segments, a key
/// longer than `route_key::max_size`, an id after `/channels`, `/guilds`, `/webhooks` or
/// `/interactions` that is not a snowflake, a number beyond 64 bits, `{` or `}` (an unfilled
/// template), or a non-ASCII byte anywhere but in a reaction emoji.
///
/// Never reads outside `path_or_url`, never allocates, never throws.
///
/// @par Thread Safety
/// Safe to call concurrently: a pure function of its arguments.
inline route_result parse_route(std::string_view method, std::string_view path_or_url,
                                const route_options& options = {}) noexcept;

/// @copydoc parse_route(std::string_view, std::string_view, const route_options&)
inline route_result parse_route(http_method method, std::string_view path_or_url,
                                const route_options& options = {}) noexcept;

/// Like `parse_route`, for callers that prefer exceptions.
///
/// @throws std::system_error with `error::invalid_route` and the reason (never the input) when
/// the input is not a Discord API path.
///
/// @par Thread Safety
/// Safe to call concurrently: a pure function of its arguments.
inline route make_route(std::string_view method, std::string_view path_or_url,
                        const route_options& options = {});

/// `path` as it may be printed: the segment after `/webhooks/{id}/` and after
/// `/interactions/{id}/` (a webhook or interaction token, which works without the bot token) is
/// replaced by `{webhook_token}` or `{interaction_token}`, as in route keys; everything else is
/// kept. Works on any text shaped like a path or URL (a `/api/vN` prefix, a query), whether or not
/// it is a valid route: for messages about requests that failed. Empty and `.` segments are
/// skipped when counting (`/webhooks/1//TOKEN` is hidden too), and a segment where the id should
/// be that is not a number is hidden as well.
///
/// @par Thread Safety
/// Safe to call concurrently: a pure function.
inline std::string redact_path(std::string_view path);

// ---------------------------------------------------------------------------------------------
// Implementation

namespace detail {

/// Interaction tokens are base64 and start with the encoding of "interaction:".
inline constexpr std::string_view interaction_token_prefix = "aW50ZXJhY3Rpb246";

/// The Discord epoch, 2015-01-01T00:00:00Z, in milliseconds since the Unix epoch.
inline constexpr std::int64_t discord_epoch_ms = 1'420'070'400'000;

/// Why a valid-looking path is still not a Discord API path: static strings, safe to log.
namespace route_reason {
inline constexpr std::string_view unknown_method =
    "unknown HTTP method: expected GET, POST, PUT, PATCH or DELETE";
inline constexpr std::string_view key_too_long =
    "the route key would be longer than route_key::max_size (160) characters";
inline constexpr std::string_view id_too_large = "a numeric id does not fit in 64 bits";
inline constexpr std::string_view channel_id = "the segment after /channels is not a snowflake";
inline constexpr std::string_view guild_id =
    "the segment after /guilds is neither a snowflake nor 'templates'";
inline constexpr std::string_view webhook_id = "the segment after /webhooks is not a snowflake";
inline constexpr std::string_view interaction_id =
    "the segment after /interactions is not a snowflake";
inline constexpr std::string_view placeholder =
    "the path has '{' or '}': an unfilled placeholder such as {channel_id}?";
inline constexpr std::string_view non_ascii =
    "a non-ASCII byte outside a reaction emoji: percent-encode the path";
} // namespace route_reason

/// Copies `count` bytes: short copies as two overlapping word moves, inline, since a key is
/// written from about ten pieces of under 16 characters and a library call per piece shows.
constexpr void copy_short(const char* from, std::size_t count, char* to) noexcept
{
    if (std::is_constant_evaluated() || count > 16) {
        std::copy_n(from, count, to);
    } else if (count >= 8) {
        std::uint64_t head = 0;
        std::uint64_t tail = 0;
        std::memcpy(&head, from, 8);
        std::memcpy(&tail, from + count - 8, 8);
        std::memcpy(to, &head, 8);
        std::memcpy(to + count - 8, &tail, 8);
    } else if (count >= 4) {
        std::uint32_t head = 0;
        std::uint32_t tail = 0;
        std::memcpy(&head, from, 4);
        std::memcpy(&tail, from + count - 4, 4);
        std::memcpy(to, &head, 4);
        std::memcpy(to + count - 4, &tail, 4);
    } else {
        for (std::size_t i = 0; i < count; ++i)
            to[i] = from[i];
    }
}

/// Writes a `route_key` in place, refusing (and remembering) anything beyond `max_size`. The size
/// is kept here until `finish`: in the key it would be reloaded after every character written.
class route_key_writer {
public:
    constexpr explicit route_key_writer(route_key& target) noexcept
        : key_(target)
    {
        key_.size_ = 0;
    }

    constexpr void append(std::string_view text) noexcept
    {
        if (text.size() > route_key::max_size - size_) {
            overflowed_ = true;
            return;
        }
        copy_short(text.data(), text.size(), key_.text_.data() + size_);
        size_ += text.size();
    }

    /// Appends '/' and `text`.
    constexpr void append_segment(std::string_view text) noexcept
    {
        if (text.size() >= route_key::max_size - size_) {
            overflowed_ = true;
            return;
        }
        key_.text_[size_] = '/';
        copy_short(text.data(), text.size(), key_.text_.data() + size_ + 1);
        size_ += 1 + text.size();
    }

    /// Appends '/' and the canonical spelling of `segment` (`for_each_canonical_char`), so that
    /// its percent-encoded and literal spellings give one key.
    constexpr void append_segment(const path_segment& segment) noexcept
    {
        if (!segment.percent_encoded) {
            append_segment(segment.text());
            return;
        }
        if (size_ == route_key::max_size) {
            overflowed_ = true;
            return;
        }
        key_.text_[size_++] = '/';
        for_each_canonical_char(segment.text(), [this](char c) {
            if (size_ == route_key::max_size) {
                overflowed_ = true;
                return false;
            }
            key_.text_[size_++] = c;
            return true;
        });
    }

    constexpr bool overflowed() const noexcept { return overflowed_; }

    /// Stores the size and computes the key's hash; call once, after the last `append`.
    constexpr void finish() noexcept
    {
        key_.size_ = static_cast<std::uint8_t>(size_);
        key_.hash_ = static_cast<std::size_t>(hash_bytes(key_.view()));
    }

private:
    route_key& key_;
    std::size_t size_ = 0;
    bool overflowed_ = false;
};

/// The kind of major parameter whose id follows `resource` as the second segment.
constexpr major_kind major_kind_of(std::string_view resource) noexcept
{
    if (resource == "channels")
        return major_kind::channel;
    if (resource == "guilds")
        return major_kind::guild;
    if (resource == "webhooks")
        return major_kind::webhook;
    if (resource == "interactions")
        return major_kind::interaction;
    return major_kind::none;
}

constexpr std::string_view major_placeholder(major_kind kind) noexcept
{
    switch (kind) {
    case major_kind::channel: return "{channel_id}";
    case major_kind::guild: return "{guild_id}";
    case major_kind::webhook: return "{webhook_id}";
    case major_kind::interaction: return "{interaction_id}";
    case major_kind::none: break;
    }
    return "{id}";
}

constexpr std::string_view major_id_reason(major_kind kind) noexcept
{
    switch (kind) {
    case major_kind::channel: return route_reason::channel_id;
    case major_kind::guild: return route_reason::guild_id;
    case major_kind::webhook: return route_reason::webhook_id;
    case major_kind::interaction: return route_reason::interaction_id;
    case major_kind::none: break;
    }
    return route_reason::id_too_large;
}

/// The key suffix that keeps the three message-delete buckets apart; none for an unknown age.
constexpr std::string_view age_suffix(message_age age) noexcept
{
    switch (age) {
    case message_age::under_10_seconds: return " [age<10s]";
    case message_age::under_14_days: return " [age<14d]";
    case message_age::older: return " [age>=14d]";
    case message_age::not_applicable:
    case message_age::unknown: break;
    }
    return {};
}

/// A token's hash for `major_parameter::token_hash`; never 0, which means "no token".
constexpr std::uint64_t hash_token(std::string_view token) noexcept
{
    const std::uint64_t hash = hash_bytes(token);
    return hash == 0 ? 1 : hash;
}

/// Fills `out` from the segments of a valid path; returns why the route is invalid, or "".
constexpr std::string_view build_route(http_method method, const api_path& path,
                                       const route_options& options, route& out) noexcept
{
    const auto& segments = path.segments;
    const std::size_t count = path.size;
    const std::string_view resource = segments[0].text();
    const major_kind major_resource = major_kind_of(resource);
    const bool is_delete = method == http_method::delete_;
    // /channels/{channel_id}/messages/{message_id}...
    // Literal segments are compared by `matches`: "%40me" is "@me".
    const bool message_path = major_resource == major_kind::channel && count >= 4 &&
                              segments[2].matches("messages") && segments[3].numeric;
    const bool reactions_path = message_path && count >= 5 && segments[4].matches("reactions");
    const bool shared_reaction = reactions_path && count == 7 &&
                                 (method == http_method::put || is_delete) &&
                                 (segments[6].matches("@me") || segments[6].numeric);
    const bool message_delete = message_path && count == 4 && is_delete;

    out.method = method;
    out.api_version = path.api_version;
    out.unversioned = path.unversioned;
    out.reaction = shared_reaction;

    route_key_writer key{out.key};
    key.append(shared_reaction ? std::string_view{"PUT|DELETE"} : to_string(method));
    key.append(" ");
    for (std::size_t i = 0; i < count; ++i) {
        const path_segment& segment = segments[i];
        const std::string_view text = segment.text();
        const auto previous_is = [&](std::string_view literal) {
            return i > 0 && segments[i - 1].matches(literal);
        };
        if (segment.has_brace)
            return route_reason::placeholder;
        std::string_view placeholder;
        bool emoji = false;
        if (i == 0) {
            // the resource name, validated by split_api_path
        } else if (i == 1 && major_resource != major_kind::none) {
            if (segment.numeric) {
                out.major.kind = major_resource;
                out.major.id = segment.number;
                placeholder = major_placeholder(major_resource);
            } else if (segment.too_large) {
                return route_reason::id_too_large;
            } else if (major_resource != major_kind::guild || !segment.matches("templates")) {
                return major_id_reason(major_resource);
            }
        } else if (i == 2 && major_resource == major_kind::webhook) {
            out.major.token_hash = hash_token(text);
            placeholder = "{webhook_token}";
        } else if (i == 2 && major_resource == major_kind::interaction) {
            out.major.token_hash = hash_token(text);
            placeholder = "{interaction_token}";
        } else if (i == 5 && reactions_path) {
            placeholder = "{emoji}";
            emoji = true;
        } else if (i == 6 && shared_reaction) {
            placeholder = "{user}";
        } else if (i == 1 && resource == "invites") {
            placeholder = "{invite_code}";
        } else if (major_resource == major_kind::guild && previous_is("templates")) {
            placeholder = "{template_code}";
        } else if (previous_is("activity-instances")) {
            placeholder = "{instance_id}";
        } else if (segment.numeric) {
            placeholder = "{id}";
        }
        if (segment.non_ascii && !emoji)
            return route_reason::non_ascii;
        if (placeholder.empty() && segment.too_large)
            return route_reason::id_too_large;
        if (placeholder.empty())
            key.append_segment(segment);
        else
            key.append_segment(placeholder);
    }
    if (message_delete) {
        out.delete_age =
            options.now ? message_age_of(segments[3].number, *options.now) : message_age::unknown;
        key.append(age_suffix(out.delete_age));
    }
    if (key.overflowed())
        return route_reason::key_too_long;
    key.finish();

    if (major_resource == major_kind::interaction) {
        out.global_exempt =
            method == http_method::post && count == 4 && segments[3].matches("callback");
    } else if (major_resource == major_kind::webhook && count >= 3) {
        const bool interaction_token =
            options.interaction_webhook || segments[2].text().starts_with(interaction_token_prefix);
        const bool follow_up = method == http_method::post && count == 3;
        const bool response_message =
            (method == http_method::get || method == http_method::patch || is_delete) &&
            count == 5 && segments[3].matches("messages") &&
            (segments[4].matches("@original") || segments[4].numeric);
        out.global_exempt = interaction_token && (follow_up || response_message);
    }
    out.channel_name_or_topic_edit = options.edits_channel_name_or_topic &&
                                     method == http_method::patch &&
                                     major_resource == major_kind::channel && count == 2;
    return {};
}

} // namespace detail

constexpr std::optional<http_method> parse_http_method(std::string_view text) noexcept
{
    // The length picks the candidates, so that at most two names are compared.
    const auto matches = [text](http_method method) {
        return detail::iequals_ascii(text, to_string(method));
    };
    switch (text.size()) {
    case 3:
        if (matches(http_method::get))
            return http_method::get;
        if (matches(http_method::put))
            return http_method::put;
        break;
    case 4:
        if (matches(http_method::post))
            return http_method::post;
        break;
    case 5:
        if (matches(http_method::patch))
            return http_method::patch;
        break;
    case 6:
        if (matches(http_method::delete_))
            return http_method::delete_;
        break;
    default: break;
    }
    return std::nullopt;
}

constexpr std::string_view to_string(http_method method) noexcept
{
    switch (method) {
    case http_method::get: return "GET";
    case http_method::post: return "POST";
    case http_method::put: return "PUT";
    case http_method::patch: return "PATCH";
    case http_method::delete_: return "DELETE";
    }
    return {};
}

constexpr message_age message_age_of(std::uint64_t message_id,
                                     std::chrono::system_clock::time_point now) noexcept
{
    constexpr std::int64_t ten_seconds_ms = 10'000;
    constexpr std::int64_t fourteen_days_ms = 14LL * 24 * 60 * 60 * 1000;
    // 42 bits of milliseconds plus the epoch cannot overflow 64 bits, nor can the difference.
    const auto created_ms = static_cast<std::int64_t>(message_id >> 22) + detail::discord_epoch_ms;
    const std::int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::int64_t age_ms = now_ms - created_ms;
    if (age_ms < ten_seconds_ms)
        return message_age::under_10_seconds;
    if (age_ms < fourteen_days_ms)
        return message_age::under_14_days;
    return message_age::older;
}

constexpr std::optional<route_key> route_key::from_string(std::string_view text) noexcept
{
    if (text.size() > max_size)
        return std::nullopt;
    route_key key;
    detail::route_key_writer writer{key};
    writer.append(text);
    writer.finish();
    return key;
}

inline route_result parse_route(http_method method, std::string_view path_or_url,
                                const route_options& options) noexcept
{
    route_result result;
    const detail::api_path path = detail::split_api_path(path_or_url);
    const std::string_view reason =
        path.ok() ? detail::build_route(method, path, options, result.value) : path.reason;
    if (!reason.empty()) {
        result.value = route{};
        result.error = make_error_code(error::invalid_route);
        result.reason = reason;
    }
    return result;
}

inline route_result parse_route(std::string_view method, std::string_view path_or_url,
                                const route_options& options) noexcept
{
    if (const std::optional<http_method> parsed = parse_http_method(method))
        return parse_route(*parsed, path_or_url, options);
    route_result result;
    result.error = make_error_code(error::invalid_route);
    result.reason = detail::route_reason::unknown_method;
    return result;
}

inline route make_route(std::string_view method, std::string_view path_or_url,
                        const route_options& options)
{
    route_result result = parse_route(method, path_or_url, options);
    if (!result)
        throw std::system_error(result.error, std::string(result.reason));
    return result.value;
}

inline std::string redact_path(std::string_view path)
{
    using detail::iequals_ascii;
    std::string out;
    out.reserve(path.size());
    // Segments end at '/', and the path ends at '?' or '#'; what follows them is kept as is.
    const auto path_end = std::min(path.find_first_of("?#"), path.size());
    std::string_view placeholder; // after `webhooks` or `interactions`: what hides its token
    int after = 0;                // segments since then, not counting empty ones and `.`
    std::size_t begin = 0;
    while (begin <= path_end) {
        const auto slash = path.find('/', begin);
        const auto end = std::min(slash, path_end);
        const std::string_view segment = path.substr(begin, end - begin);
        const bool counts = !segment.empty() && segment != "."; // `//` and `/./` name one place
        if (counts && !placeholder.empty())
            ++after;
        // The token is the second segment after the resource; the first is its id, a number
        // (anything else there might be a token too: hidden as well).
        const bool numeric = segment.find_first_not_of("0123456789") == std::string_view::npos;
        if (counts && (after == 2 || (after == 1 && !numeric)))
            out += placeholder;
        else
            out += segment;
        if (iequals_ascii(segment, "webhooks") || iequals_ascii(segment, "interactions")) {
            placeholder = iequals_ascii(segment, "webhooks") ? "{webhook_token}"
                                                             : "{interaction_token}";
            after = 0;
        } else if (after >= 2) {
            placeholder = {};
            after = 0;
        }
        if (end == path_end)
            break;
        out += '/';
        begin = end + 1;
    }
    out += path.substr(path_end);
    return out;
}

/// Whether a JSON request body changes a channel's name or topic: its top-level object has a
/// `name` or `topic` member. For `route_options::edits_channel_name_or_topic` of a
/// `PATCH /channels/{channel_id}`. A body that is not JSON (or nests too deep) changes nothing
/// Discord would accept: false.
constexpr bool body_edits_channel_name_or_topic(std::string_view json_body) noexcept
{
    bool found = false;
    const bool valid = detail::json_scan(json_body, [&](std::string_view key, const auto&) {
        found = found || key == "name" || key == "topic";
    });
    return valid && found;
}

} // namespace discord_ratelimit

/// Hashes a route key by its precomputed hash.
template <>
struct std::hash<discord_ratelimit::route_key> {
    std::size_t operator()(const discord_ratelimit::route_key& key) const noexcept
    {
        return key.hash();
    }
};

/// Hashes a major parameter by all of its fields.
template <>
struct std::hash<discord_ratelimit::major_parameter> {
    std::size_t operator()(const discord_ratelimit::major_parameter& major) const noexcept
    {
        return major.hash();
    }
};

#endif
