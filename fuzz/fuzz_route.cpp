// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Fuzzes `parse_route` (route.hpp, detail/api_path.hpp). Input: one byte of method and options,
// eight more bytes of wall-clock time when its bit 5 is set, then the path or URL. Checks what
// route.hpp documents: a pure function (same input, same route), a static reason on failure and a
// default route, a bounded key of the expected form without tokens, and that the same path read
// relative, as /api/v10/..., as a full URL, with a query string or a trailing slash, or with the
// method in another case gives the same route (and /api/..., /api/v6/... and /api/v7/... the same
// key, with Retry-After in milliseconds), and that "%40" in place of '@' gives the same route.
#include <discord_ratelimit/route.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace drl = discord_ratelimit;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "fuzz_route: invariant violated: %s\n", what);
    std::abort();
}

void check(bool condition, const char* what)
{
    if (!condition)
        fail(what);
}

bool same_result(const drl::route_result& a, const drl::route_result& b)
{
    return a.value == b.value && a.error == b.error && a.reason == b.reason &&
           a.value.key.hash() == b.value.key.hash();
}

/// Same bucket: key, major and special cases; `api_version` and `unversioned` may differ.
bool same_bucket(const drl::route& a, const drl::route& b)
{
    return a.method == b.method && a.key == b.key && a.major == b.major &&
           a.global_exempt == b.global_exempt && a.reaction == b.reaction &&
           a.channel_name_or_topic_edit == b.channel_name_or_topic_edit &&
           a.delete_age == b.delete_age;
}

void check_result(const drl::route_result& r, std::string_view method, std::string_view input)
{
    if (!r.ok()) {
        check(r.error == drl::make_error_code(drl::error::invalid_route), "error is invalid_route");
        check(!r.reason.empty(), "a failure says why");
        check(r.value == drl::route{}, "a failed parse leaves a default route");
        const char* reason = r.reason.data();
        check(!(reason >= input.data() && reason < input.data() + input.size()) &&
                  !(reason >= method.data() && reason < method.data() + method.size()),
              "the reason is static text, never a view of the input");
        return;
    }
    check(r.reason.empty(), "no reason on success");
    const drl::route& v = r.value;
    const std::string_view key = v.key.view();
    check(!key.empty() && key.size() <= drl::route_key::max_size, "the key is bounded");
    const std::string prefix =
        std::string(v.reaction ? std::string_view{"PUT|DELETE"} : drl::to_string(v.method)) + " /";
    check(key.starts_with(prefix), "the key starts with its method and a path");
    check(drl::parse_http_method(method) == v.method, "the route keeps the method");
    std::size_t spaces = 0;
    for (const char c : key) {
        check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F, "no control character in a key");
        spaces += c == ' ' ? 1 : 0;
    }
    const bool age_class = v.delete_age != drl::message_age::not_applicable &&
                           v.delete_age != drl::message_age::unknown;
    check(spaces == (age_class ? 2u : 1u), "one space after the method, one before an age class");
    const auto again = drl::route_key::from_string(key);
    check(again && *again == v.key && again->hash() == v.key.hash(), "a key is its text");
    const bool has_token = v.major.token_hash != 0;
    check(has_token == (key.find("{webhook_token}") != std::string_view::npos ||
                        key.find("{interaction_token}") != std::string_view::npos),
          "a token hash exactly when the key hides a token");
    check(!has_token || v.major.kind == drl::major_kind::webhook ||
              v.major.kind == drl::major_kind::interaction,
          "tokens belong to webhooks and interactions");
    check(!v.global_exempt || v.major.kind == drl::major_kind::webhook ||
              v.major.kind == drl::major_kind::interaction,
          "only interaction endpoints are exempt");
    check(!v.unversioned || v.api_version == 6, "unversioned means API v6");
    check(v.retry_after_in_milliseconds() == (v.api_version < 8),
          "API v7 and older count Retry-After in milliseconds");
    check(v.api_version > 0, "a positive API version");
    check(!v.channel_name_or_topic_edit ||
              (v.method == drl::http_method::patch && v.major.kind == drl::major_kind::channel),
          "name/topic edits are PATCH /channels/{id}");
    check(!v.reaction || v.method == drl::http_method::put || v.method == drl::http_method::delete_,
          "shared reaction keys are PUT or DELETE");
    if (v.delete_age != drl::message_age::not_applicable)
        check(v.method == drl::http_method::delete_ && v.major.kind == drl::major_kind::channel,
              "an age class only on a message delete");
    switch (v.major.kind) {
    case drl::major_kind::channel:
        check(key.find("/channels/{channel_id}") == prefix.size() - 1, "channel major in key");
        break;
    case drl::major_kind::guild:
        check(key.find("/guilds/{guild_id}") == prefix.size() - 1, "guild major in key");
        break;
    case drl::major_kind::webhook:
        check(key.find("/webhooks/{webhook_id}") == prefix.size() - 1, "webhook major in key");
        break;
    case drl::major_kind::interaction:
        check(key.find("/interactions/{interaction_id}") == prefix.size() - 1,
              "interaction major in key");
        break;
    case drl::major_kind::none: check(v.major == drl::major_parameter{}, "no major, no id"); break;
    }
}

drl::route_result parse(std::string_view method, std::string_view path,
                        const drl::route_options& options)
{
    const drl::route_result r = drl::parse_route(method, path, options);
    check_result(r, method, path);
    check(same_result(r, drl::parse_route(method, path, options)), "parsing is deterministic");
    return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    static constexpr std::string_view methods[] = {"GET",    "POST",   "PUT", "PATCH",
                                                   "DELETE", "delete", "Put", "HEAD"};
    const std::uint8_t control = data[0];
    const std::string_view method = methods[control & 7];
    drl::route_options options;
    options.edits_channel_name_or_topic = (control & 0x08) != 0;
    options.interaction_webhook = (control & 0x10) != 0;
    std::size_t at = 1;
    if ((control & 0x20) != 0 && size >= 9) {
        std::uint64_t ms = 0;
        std::memcpy(&ms, data + 1, 8);
        // Any time from 1970 to 2255 (system_clock counts ns in 64 bits), in milliseconds.
        options.now = std::chrono::system_clock::time_point{
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::milliseconds{static_cast<std::int64_t>(ms % 9'000'000'000'000ULL)})};
        at = 9;
    }
    const std::string_view path{reinterpret_cast<const char*>(data) + at, size - at};
    const drl::route_result r = parse(method, path, options);

    // The method's case does not matter.
    std::string upper{method};
    for (char& c : upper)
        c = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    const drl::route_result upper_result = parse(upper, path, options);
    check(r.ok() == upper_result.ok() && (!r.ok() || r.value == upper_result.value),
          "methods compare without case");
    if (!r.ok())
        return 0;

    const bool plain = path.find_first_of("?#") == std::string_view::npos;
    if (plain && !path.ends_with('/')) {
        const auto with_query = parse(method, std::string(path) + "?limit=50&after=1#top", options);
        check(with_query.ok() && with_query.value == r.value, "a query string is ignored");
        const auto with_slash = parse(method, std::string(path) + "/", options);
        check(with_slash.ok() && with_slash.value == r.value, "one trailing slash is ignored");
    }
    // A path relative to the versioned root: the same route under /api/v10 and in a full URL.
    std::string_view relative = path;
    if (relative.starts_with('/'))
        relative.remove_prefix(1);
    const bool is_relative = path.find("://") == std::string_view::npos &&
                             !relative.starts_with("api") && r.value.api_version == 10 &&
                             !r.value.unversioned;
    if (is_relative) {
        const std::string rel{relative};
        for (const std::string& versioned :
             {"/api/v10/" + rel, "api/v10/" + rel, "https://discord.com/api/v10/" + rel,
              "http://localhost:8080/api/v10/" + rel}) {
            const auto v = parse(method, versioned, options);
            check(v.ok() && v.value == r.value, "relative and /api/v10 paths give the same route");
        }
        const auto unversioned = parse(method, "/api/" + rel, options);
        check(unversioned.ok() && same_bucket(unversioned.value, r.value) &&
                  unversioned.value.unversioned && unversioned.value.api_version == 6,
              "an unversioned path has the same key, API v6");
        for (const char* old_version : {"/api/v6/", "/api/v7/"}) {
            const auto old = parse(method, old_version + rel, options);
            check(old.ok() && same_bucket(old.value, r.value) &&
                      old.value.retry_after_in_milliseconds(),
                  "a v6 or v7 path has the same key and counts in milliseconds");
        }
    }
    // Percent-encoding an '@' changes nothing ("%40me" is "@me"). Tokens are hashed as written,
    // and a URL's '@' may be in its authority: both are left out.
    if (r.value.major.token_hash == 0 && path.find("://") == std::string_view::npos &&
        path.find('@') != std::string_view::npos) {
        std::string escaped;
        for (const char c : path)
            escaped += c == '@' ? std::string_view{"%40"} : std::string_view{&c, 1};
        const auto encoded = parse(method, escaped, options);
        check(encoded.ok() && encoded.value == r.value, "%40 and @ give the same route");
    }
    return 0;
}
