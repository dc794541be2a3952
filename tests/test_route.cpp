// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/route.hpp>

#include "catch.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_set>
#include <vector>

namespace dr = discord_ratelimit;
using namespace std::string_view_literals;

namespace {

// A webhook token in Discord's format. Every 4-character window of it has an upper-case letter,
// which no key has outside its method, so a leak of any part of it would be seen.
constexpr std::string_view webhook_token =
    "Xq7RzK2pW9vLmN4tY8wB3jH6cF1dG5sA-eUoPiQ_yTnMbVcZxJ0rLk8hGf3dSa2WqE9TyU1iOp";
// An interaction token: base64 of "interaction:<id>:<secret>".
constexpr std::string_view interaction_token =
    "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnNlY3JldFNFQ1JFVHNlY3JldA";

dr::route parsed(std::string_view method, std::string_view path,
                 const dr::route_options& options = {})
{
    const dr::route_result result = dr::parse_route(method, path, options);
    INFO(method << ' ' << path << " -> " << result.reason);
    REQUIRE(result.ok());
    return result.value;
}

std::string key_of(std::string_view method, std::string_view path,
                   const dr::route_options& options = {})
{
    return std::string(parsed(method, path, options).key.view());
}

std::string_view reason_of(std::string_view method, std::string_view path,
                           const dr::route_options& options = {})
{
    const dr::route_result result = dr::parse_route(method, path, options);
    INFO(method << ' ' << path);
    REQUIRE_FALSE(result.ok());
    CHECK_FALSE(static_cast<bool>(result));
    CHECK(result.error == dr::error::invalid_route);
    CHECK(result.value == dr::route{});
    CHECK_FALSE(result.reason.empty());
    return result.reason;
}

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

// True when any 4 consecutive characters of `secret` appear in `text`.
bool leaks(std::string_view text, std::string_view secret)
{
    for (std::size_t i = 0; i + 4 <= secret.size(); ++i) {
        if (contains(text, secret.substr(i, 4)))
            return true;
    }
    return false;
}

// 2015-01-01T00:00:00Z plus `ms`, as a wall-clock time.
std::chrono::system_clock::time_point discord_time(std::int64_t ms)
{
    return std::chrono::system_clock::time_point{
        std::chrono::milliseconds{1'420'070'400'000LL + ms}};
}

// A snowflake created `ms` after the Discord epoch (worker, process and increment bits set too).
std::uint64_t snowflake_at(std::int64_t ms)
{
    return (static_cast<std::uint64_t>(ms) << 22) | 0x3fffffULL;
}

dr::route_options at_time(std::chrono::system_clock::time_point now)
{
    dr::route_options options;
    options.now = now;
    return options;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// HTTP methods

TEST_CASE("HTTP methods parse case-insensitively and print in upper case")
{
    CHECK(dr::parse_http_method("GET") == dr::http_method::get);
    CHECK(dr::parse_http_method("get") == dr::http_method::get);
    CHECK(dr::parse_http_method("Post") == dr::http_method::post);
    CHECK(dr::parse_http_method("pUt") == dr::http_method::put);
    CHECK(dr::parse_http_method("patch") == dr::http_method::patch);
    CHECK(dr::parse_http_method("DeLeTe") == dr::http_method::delete_);
    CHECK(dr::to_string(dr::http_method::get) == "GET");
    CHECK(dr::to_string(dr::http_method::post) == "POST");
    CHECK(dr::to_string(dr::http_method::put) == "PUT");
    CHECK(dr::to_string(dr::http_method::patch) == "PATCH");
    CHECK(dr::to_string(dr::http_method::delete_) == "DELETE");
    static_assert(dr::parse_http_method("delete") == dr::http_method::delete_);
    static_assert(dr::to_string(dr::http_method::patch) == "PATCH");
}

TEST_CASE("HEAD, OPTIONS and anything else are not methods of Discord's API")
{
    for (const std::string_view text :
         {"HEAD"sv, "OPTIONS"sv, "TRACE"sv, "CONNECT"sv, ""sv, "GET "sv, " GET"sv, "GETS"sv, "GE"sv,
          "DELETE_"sv, "G\0T"sv, "\xc7\x45T"sv}) {
        INFO(text);
        CHECK_FALSE(dr::parse_http_method(text).has_value());
    }
    CHECK(dr::to_string(static_cast<dr::http_method>(200)).empty());
}

TEST_CASE("only POST is not idempotent")
{
    CHECK(parsed("GET", "/channels/1/messages").idempotent());
    CHECK_FALSE(parsed("POST", "/channels/1/messages").idempotent());
    CHECK(parsed("PUT", "/channels/1/pins/2").idempotent());
    CHECK(parsed("PATCH", "/channels/1").idempotent());
    CHECK(parsed("DELETE", "/channels/1/messages/2").idempotent());
}

TEST_CASE("an unknown method is rejected with a static reason")
{
    const dr::route_result result = dr::parse_route("HEAD", "/channels/1/messages");
    CHECK_FALSE(result.ok());
    CHECK(result.error == dr::error::invalid_route);
    CHECK(contains(result.reason, "method"));
}

TEST_CASE("parse_route by http_method and by method string agree")
{
    const auto by_enum = dr::parse_route(dr::http_method::patch, "/channels/1/messages/2");
    const auto by_text = dr::parse_route("patch", "/channels/1/messages/2");
    REQUIRE(by_enum.ok());
    CHECK(by_enum.value == by_text.value);
    CHECK(by_enum.value.key.view() == "PATCH /channels/{channel_id}/messages/{id}");
}

// ---------------------------------------------------------------------------------------------
// Accepted forms

TEST_CASE("a full URL with any scheme, host and port is accepted")
{
    const dr::route expected = parsed("POST", "/api/v10/channels/1/messages");
    for (const std::string_view url : {
             "https://discord.com/api/v10/channels/1/messages"sv,
             "http://127.0.0.1:8080/api/v10/channels/1/messages"sv,
             "HTTPS://canary.discord.com/api/v10/channels/1/messages"sv,
             "https://[::1]:443/api/v10/channels/1/messages"sv,
             "git+ssh://proxy.example/api/v10/channels/1/messages"sv,
         }) {
        INFO(url);
        const dr::route route = parsed("POST", url);
        CHECK(route == expected);
        CHECK(route.key.view() == "POST /channels/{channel_id}/messages");
    }
}

TEST_CASE("a full URL's path must start with /api")
{
    for (const std::string_view url : {
             "https://discord.com/channels/1/messages"sv,
             "https://discord.com/apis/v10/channels/1"sv,
             "https://discord.com/API/v10/channels/1"sv,
             "https://discord.com"sv,
             "https://discord.com?x=/api/v10/channels/1"sv,
             "https://discord.com#/api/channels/1"sv,
         }) {
        CHECK(reason_of("GET", url) == dr::detail::api_path_reason::url_outside_api);
    }
    CHECK(reason_of("GET", "https:///api/v10/channels/1") ==
          dr::detail::api_path_reason::url_without_host);
    CHECK(reason_of("GET", "https://discord.com/api") == dr::detail::api_path_reason::no_resource);
    CHECK(reason_of("GET", "https://discord.com/api/v10/") ==
          dr::detail::api_path_reason::no_resource);
}

TEST_CASE("/api/vN paths carry their API version")
{
    const dr::route v10 = parsed("GET", "/api/v10/channels/1");
    CHECK(v10.api_version == 10);
    CHECK_FALSE(v10.unversioned);
    const dr::route v9 = parsed("GET", "/api/v9/channels/1");
    CHECK(v9.api_version == 9);
    CHECK_FALSE(v9.unversioned);
    CHECK(v9.key == v10.key);
    CHECK(parsed("GET", "https://discord.com/api/v8/gateway/bot").api_version == 8);
    CHECK(parsed("GET", "api/v99/gateway").api_version == 99);
    CHECK(parsed("GET", "/api/v1/gateway").api_version == 1);
}

TEST_CASE("unversioned /api paths run API v6")
{
    for (const std::string_view path :
         {"/api/channels/1/messages"sv, "https://discord.com/api/channels/1/messages"sv,
          "api/channels/1/messages"sv}) {
        INFO(path);
        const dr::route route = parsed("GET", path);
        CHECK(route.unversioned);
        CHECK(route.api_version == 6);
        CHECK(route.key.view() == "GET /channels/{channel_id}/messages");
    }
    // "voice" starts with a v but is a resource, not a version.
    const dr::route voice = parsed("GET", "/api/voice/regions");
    CHECK(voice.unversioned);
    CHECK(voice.key.view() == "GET /voice/regions");
}

TEST_CASE("rule: old API versions count in milliseconds: v7 and older, unversioned paths included",
          "[route]")
{
    for (const std::string_view path :
         {"/api/v6/channels/1"sv, "/api/v7/channels/1"sv, "/api/channels/1"sv,
          "https://discord.com/api/v7/channels/1"sv, "/api/v1/gateway"sv}) {
        INFO(path);
        CHECK(parsed("GET", path).retry_after_in_milliseconds());
    }
    for (const std::string_view path :
         {"/api/v8/channels/1"sv, "/api/v9/channels/1"sv, "/api/v10/channels/1"sv, "/channels/1"sv,
          "https://discord.com/api/v10/channels/1"sv}) {
        INFO(path);
        CHECK_FALSE(parsed("GET", path).retry_after_in_milliseconds());
    }
}

TEST_CASE("paths relative to the versioned root default to API v10, with or without a slash")
{
    const dr::route with_slash = parsed("GET", "/channels/1/messages");
    const dr::route without_slash = parsed("GET", "channels/1/messages");
    CHECK(with_slash == without_slash);
    CHECK(with_slash.api_version == 10);
    CHECK_FALSE(with_slash.unversioned);
    CHECK(with_slash.key.view() == "GET /channels/{channel_id}/messages");
    CHECK(parsed("GET", "/api/v10/channels/1/messages") == with_slash);
}

TEST_CASE("query strings, fragments and a trailing slash never reach the key")
{
    const std::string expected = "GET /channels/{channel_id}/messages";
    for (const std::string_view path : {
             "/channels/1/messages?limit=100&before=12345"sv,
             "/channels/1/messages#latest"sv,
             "/channels/1/messages/"sv,
             "/channels/1/messages/?limit=5"sv,
             "https://discord.com/api/v10/channels/1/messages?around=7#x/y//z"sv,
             "/channels/1/messages?"sv,
             "/channels/1/messages?a=/b//c/../d"sv,
         }) {
        INFO(path);
        CHECK(key_of("GET", path) == expected);
    }
    CHECK(key_of("GET", "/api/v10/gateway/") == "GET /gateway");
}

// ---------------------------------------------------------------------------------------------
// Rejected inputs

TEST_CASE("empty input, whitespace and control characters are rejected")
{
    namespace reason = dr::detail::api_path_reason;
    CHECK(reason_of("GET", "") == reason::empty);
    for (const std::string_view path : {
             " /channels/1"sv,
             "/channels/1 "sv,
             "/channels /1"sv,
             "/channels/1\t"sv,
             "/channels/1\r\n"sv,
             "/channels/\x7f"sv,
             "/channels/1?q=a b"sv,
             "/channels/1#\x01"sv,
             "https://disc ord.com/api/v10/channels/1"sv,
             "/chan\0nels/1"sv,
             "/channels/1\0"sv,
         }) {
        INFO(path);
        CHECK(reason_of("GET", path) == reason::whitespace_or_control);
    }
}

TEST_CASE("empty, '.' and '..' segments are rejected")
{
    namespace reason = dr::detail::api_path_reason;
    for (const std::string_view path : {"/channels//1"sv, "//channels/1"sv, "/channels/1//"sv,
                                        "/api//v10/channels/1"sv, "channels//1"sv}) {
        INFO(path);
        CHECK(reason_of("GET", path) == reason::empty_segment);
    }
    for (const std::string_view path :
         {"/channels/1/./messages"sv, "/channels/1/../2"sv, "/channels/1/%2e%2E"sv,
          "/channels/1/.%2e/2"sv, "/api/v10/../channels/1"sv, "./channels/1"sv,
          "https://h/api/./channels"sv}) {
        INFO(path);
        CHECK(reason_of("GET", path) == reason::dot_segment);
    }
    // Three dots are an ordinary (if odd) literal, and a dot inside a name is fine.
    CHECK(key_of("GET", "/users/...") == "GET /users/...");
    CHECK(key_of("GET", "/guilds/1/widget.png") == "GET /guilds/{guild_id}/widget.png");
}

TEST_CASE("the first segment must be a lowercase resource name")
{
    namespace reason = dr::detail::api_path_reason;
    for (const std::string_view path :
         {"/Channels/1"sv, "/CHANNELS"sv, "/@me"sv, "/123/messages"sv, "/-channels"sv,
          "/chan.nels/1"sv, "/%63hannels/1"sv, "/{channel_id}/messages"sv, "/api/v10/Users/@me"sv,
          "mailto:someone"sv}) {
        INFO(path);
        CHECK(reason_of("GET", path) == reason::bad_resource);
    }
    CHECK(key_of("GET", "/sticker-packs") == "GET /sticker-packs");
    CHECK(key_of("GET", "/oauth2/applications/@me") == "GET /oauth2/applications/@me");
    CHECK(key_of("GET", "/some_resource") == "GET /some_resource");
}

TEST_CASE("a bad /vN is rejected")
{
    namespace reason = dr::detail::api_path_reason;
    for (const std::string_view path :
         {"/api/v/channels/1"sv, "/api/v0/channels/1"sv, "/api/v010/channels/1"sv,
          "/api/v100/channels/1"sv, "/api/v1x/channels/1"sv, "/api/v99999999999999999999999"sv,
          "https://discord.com/api/v-1/channels"sv}) {
        INFO(path);
        CHECK(reason_of("GET", path) == reason::bad_version);
    }
    for (const std::string_view path :
         {"/v10/channels/1"sv, "v9/channels"sv, "/v/x"sv, "/api/v10/v10/channels/1"sv}) {
        INFO(path);
        CHECK(reason_of("GET", path) == reason::version_outside_api);
    }
    CHECK(reason_of("GET", "/api") == reason::no_resource);
    CHECK(reason_of("GET", "/") == reason::no_resource);
    CHECK(reason_of("GET", "?limit=1") == reason::no_resource);
    CHECK(reason_of("GET", "/api/v10?x") == reason::no_resource);
}

TEST_CASE("more than 16 segments or a key longer than route_key::max_size is rejected")
{
    std::string sixteen = "/api/v10/users";
    for (int i = 1; i < 16; ++i)
        sixteen += "/s";
    CHECK(parsed("GET", sixteen).key.view().size() == 4 + 16 * 2 + 4);
    CHECK(reason_of("GET", sixteen + "/s") == dr::detail::api_path_reason::too_many_segments);

    // "DELETE /users/" and 146 characters make exactly 160.
    const std::string fits = "/users/" + std::string(146, 'x');
    CHECK(parsed("DELETE", fits).key.size() == dr::route_key::max_size);
    CHECK(reason_of("DELETE", fits + "y") == dr::detail::route_reason::key_too_long);
    CHECK(reason_of("GET", "/users/" + std::string(10'000, 'x')) ==
          dr::detail::route_reason::key_too_long);
}

TEST_CASE("a number beyond 64 bits is not an id")
{
    const std::string_view max = "18446744073709551615"; // 2^64 - 1
    const std::string_view beyond = "18446744073709551616";
    CHECK(parsed("GET", std::string("/channels/") + std::string(max)).major.id == UINT64_MAX);
    CHECK(reason_of("GET", std::string("/channels/") + std::string(beyond)) ==
          dr::detail::route_reason::id_too_large);
    CHECK(reason_of("GET", std::string("/users/") + std::string(beyond)) ==
          dr::detail::route_reason::id_too_large);
    CHECK(reason_of("GET", "/channels/1/messages/99999999999999999999999999") ==
          dr::detail::route_reason::id_too_large);
    CHECK(key_of("GET", std::string("/users/") + std::string(max)) == "GET /users/{id}");
}

TEST_CASE("the segment after /channels, /guilds, /webhooks or /interactions must be a snowflake")
{
    namespace reason = dr::detail::route_reason;
    CHECK(reason_of("GET", "/channels/undefined/messages") == reason::channel_id);
    CHECK(reason_of("GET", "/channels/@me") == reason::channel_id);
    CHECK(reason_of("GET", "/guilds/null") == reason::guild_id);
    CHECK(reason_of("POST", "/webhooks/abc/token") == reason::webhook_id);
    CHECK(reason_of("POST", "/interactions/x1/token/callback") == reason::interaction_id);
    CHECK(reason_of("GET", "/channels/-1") == reason::channel_id);
    CHECK(key_of("POST", "/guilds") == "POST /guilds");
    CHECK(key_of("POST", "/channels") == "POST /channels");
}

TEST_CASE("an unfilled placeholder in the path is rejected")
{
    CHECK(reason_of("GET", "/channels/1/messages/{message_id}") ==
          dr::detail::route_reason::placeholder);
    CHECK(reason_of("GET", "/channels/{channel_id}/messages") ==
          dr::detail::route_reason::placeholder);
    CHECK(reason_of("GET", "/users/{id}") == dr::detail::route_reason::placeholder);
    CHECK(reason_of("POST", "/webhooks/1/{webhook_token}") ==
          dr::detail::route_reason::placeholder);
    CHECK(reason_of("PUT", "/channels/1/messages/2/reactions/{emoji}/@me") ==
          dr::detail::route_reason::placeholder);
}

TEST_CASE("a non-ASCII byte is accepted only in a reaction emoji")
{
    const std::string_view thumbs_up = "\xf0\x9f\x91\x8d";
    const std::string path = "/channels/1/messages/2/reactions/" + std::string(thumbs_up) + "/@me";
    CHECK(key_of("PUT", path) ==
          "PUT|DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/{user}");
    CHECK(reason_of("GET", "/users/\xc3\xa9t\xc3\xa9") == dr::detail::route_reason::non_ascii);
    CHECK(reason_of("GET", "/channels/1/m\xe9ssages") == dr::detail::route_reason::non_ascii);
    CHECK(reason_of("POST", "/webhooks/1/t\xc3\xb6ken") == dr::detail::route_reason::non_ascii);
    CHECK(reason_of("GET", "/invites/c\xc3\xb6z") == dr::detail::route_reason::non_ascii);
}

TEST_CASE("make_route throws std::system_error with error::invalid_route")
{
    CHECK(dr::make_route("get", "/channels/1").key.view() == "GET /channels/{channel_id}");
    CHECK_THROWS_AS(dr::make_route("GET", "/channels//1"), std::system_error);
    CHECK_THROWS_AS(dr::make_route("HEAD", "/channels/1"), std::system_error);
    try {
        (void)dr::make_route("POST", std::string("/webhooks/1/") + std::string(webhook_token) +
                                         "/messages/@original\n");
        FAIL("make_route accepted a path with a newline");
    } catch (const std::system_error& e) {
        CHECK(e.code() == dr::error::invalid_route);
        CHECK(contains(e.what(), dr::detail::api_path_reason::whitespace_or_control));
        CHECK_FALSE(leaks(e.what(), webhook_token));
    }
}

// ---------------------------------------------------------------------------------------------
// Key templates

TEST_CASE("the major id becomes {channel_id}, {guild_id} or {webhook_id}")
{
    const dr::route channel = parsed("POST", "/channels/111/messages");
    CHECK(channel.key.view() == "POST /channels/{channel_id}/messages");
    CHECK(channel.major == dr::major_parameter{dr::major_kind::channel, 111, 0});

    const dr::route guild = parsed("GET", "/guilds/222/members/333");
    CHECK(guild.key.view() == "GET /guilds/{guild_id}/members/{id}");
    CHECK(guild.major == dr::major_parameter{dr::major_kind::guild, 222, 0});

    const dr::route webhook = parsed("GET", "/webhooks/444");
    CHECK(webhook.key.view() == "GET /webhooks/{webhook_id}");
    CHECK(webhook.major == dr::major_parameter{dr::major_kind::webhook, 444, 0});

    const dr::route none = parsed("GET", "/users/@me/guilds");
    CHECK(none.key.view() == "GET /users/@me/guilds");
    CHECK(none.major == dr::major_parameter{});
}

TEST_CASE("only the top-level channel, guild or webhook id is the major parameter")
{
    const dr::route commands = parsed("GET", "/applications/1/guilds/2/commands/3/permissions");
    CHECK(commands.key.view() == "GET /applications/{id}/guilds/{id}/commands/{id}/permissions");
    CHECK(commands.major == dr::major_parameter{});
    CHECK(key_of("DELETE", "/users/@me/guilds/5") == "DELETE /users/@me/guilds/{id}");
    CHECK(key_of("GET", "/stage-instances/6") == "GET /stage-instances/{id}");
}

TEST_CASE("every other snowflake becomes {id}")
{
    CHECK(key_of("PUT", "/guilds/1/members/2/roles/3") ==
          "PUT /guilds/{guild_id}/members/{id}/roles/{id}");
    CHECK(key_of("GET", "/channels/1/messages/2") == "GET /channels/{channel_id}/messages/{id}");
    CHECK(key_of("PUT", "/channels/1/permissions/2") ==
          "PUT /channels/{channel_id}/permissions/{id}");
    CHECK(key_of("GET", "/channels/1/polls/2/answers/3") ==
          "GET /channels/{channel_id}/polls/{id}/answers/{id}");
    CHECK(key_of("GET", "/users/80351110224678912") == "GET /users/{id}");
    CHECK(key_of("GET", "/guilds/1/scheduled-events/2/users?limit=3") ==
          "GET /guilds/{guild_id}/scheduled-events/{id}/users");
}

TEST_CASE("webhook tokens become {webhook_token}")
{
    const std::string base = "/webhooks/123/" + std::string(webhook_token);
    CHECK(key_of("POST", base) == "POST /webhooks/{webhook_id}/{webhook_token}");
    CHECK(key_of("POST", base + "?wait=true") == "POST /webhooks/{webhook_id}/{webhook_token}");
    CHECK(key_of("POST", base + "/slack") == "POST /webhooks/{webhook_id}/{webhook_token}/slack");
    CHECK(key_of("PATCH", base + "/messages/456") ==
          "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{id}");
    CHECK(key_of("GET", base + "/messages/@original") ==
          "GET /webhooks/{webhook_id}/{webhook_token}/messages/@original");
    const dr::route route = parsed("POST", base);
    CHECK(route.major.kind == dr::major_kind::webhook);
    CHECK(route.major.id == 123);
    CHECK(route.major.token_hash != 0);
}

TEST_CASE(
    "interaction callbacks become /interactions/{interaction_id}/{interaction_token}/callback")
{
    const std::string path = "/interactions/987/" + std::string(interaction_token) + "/callback";
    const dr::route route = parsed("POST", path + "?with_response=true");
    CHECK(route.key.view() == "POST /interactions/{interaction_id}/{interaction_token}/callback");
    CHECK(route.major.kind == dr::major_kind::interaction);
    CHECK(route.major.id == 987);
    CHECK(route.major.token_hash != 0);
    CHECK(route.major == parsed("POST", path).major);
}

TEST_CASE("invite codes and guild template codes are collapsed")
{
    CHECK(key_of("GET", "/invites/discord-developers?with_counts=true") ==
          "GET /invites/{invite_code}");
    CHECK(key_of("DELETE", "/invites/abc123") == "DELETE /invites/{invite_code}");
    CHECK(key_of("GET", "/invites/abc123/target-users") ==
          "GET /invites/{invite_code}/target-users");
    CHECK(key_of("GET", "/guilds/templates/hgM48av5Q69A") ==
          "GET /guilds/templates/{template_code}");
    CHECK(key_of("POST", "/guilds/templates/hgM48av5Q69A") ==
          "POST /guilds/templates/{template_code}");
    CHECK(parsed("GET", "/guilds/templates/abc").major == dr::major_parameter{});
    CHECK(key_of("PUT", "/guilds/1/templates/hgM48av5Q69A") ==
          "PUT /guilds/{guild_id}/templates/{template_code}");
    CHECK(key_of("GET", "/guilds/1/templates") == "GET /guilds/{guild_id}/templates");
    CHECK(key_of("GET", "/guilds/1/invites") == "GET /guilds/{guild_id}/invites");
    CHECK(key_of("GET", "/guilds/templates") == "GET /guilds/templates");
}

TEST_CASE("activity instance ids are collapsed")
{
    CHECK(key_of("GET", "/applications/1/activity-instances/i-1234-gc-5678-9012") ==
          "GET /applications/{id}/activity-instances/{instance_id}");
}

TEST_CASE("@me and @original are kept literally")
{
    CHECK(key_of("GET", "/users/@me") == "GET /users/@me");
    CHECK(key_of("PATCH", "/guilds/1/members/@me") == "PATCH /guilds/{guild_id}/members/@me");
    CHECK(key_of("PUT", "/channels/1/thread-members/@me") ==
          "PUT /channels/{channel_id}/thread-members/@me");
    CHECK(key_of("GET", "/applications/@me") == "GET /applications/@me");
    CHECK(key_of("PATCH", "/webhooks/1/tok/messages/@original") ==
          "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original");
}

// ---------------------------------------------------------------------------------------------
// Reactions

TEST_CASE("reactions by PUT and DELETE share one key")
{
    const std::string_view shared =
        "PUT|DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/{user}";
    const dr::route put_me = parsed("PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me");
    const dr::route delete_me = parsed("DELETE", "/channels/1/messages/3/reactions/blob:4/@me");
    const dr::route delete_user =
        parsed("DELETE", "/channels/1/messages/2/reactions/%F0%9F%91%8D/80351110224678912");
    const dr::route put_user = parsed("put", "/api/v10/channels/1/messages/2/reactions/x:5/6");
    for (const dr::route* route : {&put_me, &delete_me, &delete_user, &put_user}) {
        CHECK(route->key.view() == shared);
        CHECK(route->reaction);
        CHECK(route->major == dr::major_parameter{dr::major_kind::channel, 1, 0});
        CHECK(route->delete_age == dr::message_age::not_applicable);
    }
    CHECK(put_me.method == dr::http_method::put);
    CHECK(delete_me.method == dr::http_method::delete_);
    CHECK(put_me.key == delete_user.key);
    CHECK(put_me.key.hash() == delete_user.key.hash());
}

TEST_CASE("reaction lists and bulk reaction deletes keep their own keys")
{
    const dr::route list = parsed("GET", "/channels/1/messages/2/reactions/%F0%9F%91%8D?limit=100");
    CHECK(list.key.view() == "GET /channels/{channel_id}/messages/{id}/reactions/{emoji}");
    CHECK_FALSE(list.reaction);

    const dr::route delete_all = parsed("DELETE", "/channels/1/messages/2/reactions");
    CHECK(delete_all.key.view() == "DELETE /channels/{channel_id}/messages/{id}/reactions");
    CHECK_FALSE(delete_all.reaction);

    const dr::route delete_emoji = parsed("DELETE", "/channels/1/messages/2/reactions/blob:3");
    CHECK(delete_emoji.key.view() ==
          "DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}");
    CHECK_FALSE(delete_emoji.reaction);

    CHECK(list.key != delete_emoji.key);
    CHECK(delete_all.key != delete_emoji.key);
    CHECK(key_of("GET", "/channels/1/messages/2/reactions/x/@me") ==
          "GET /channels/{channel_id}/messages/{id}/reactions/{emoji}/@me");
    CHECK_FALSE(parsed("PATCH", "/channels/1/messages/2/reactions/x/@me").reaction);
}

TEST_CASE("rule: one key per route: a percent-encoded segment keys as its literal form", "[route]")
{
    // %40me is @me: the own-reaction route, which shares the reaction bucket.
    const dr::route literal =
        parsed("PUT", "/channels/1/messages/2/reactions/\xf0\x9f\x91\x8d/@me");
    for (const std::string_view path : {"/channels/1/messages/2/reactions/%F0%9F%91%8D/%40me"sv,
                                        "/channels/1/messages/2/reactions/%f0%9f%91%8d/%40me"sv,
                                        "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me"sv,
                                        "/api/v10/channels/1/messages/2/reactions/x:5/%40me"sv}) {
        INFO(path);
        const dr::route encoded = parsed("PUT", path);
        CHECK(encoded.key == literal.key);
        CHECK(encoded.reaction);
        CHECK(encoded.major == literal.major);
    }
    CHECK(parsed("DELETE", "/channels/1/messages/2/reactions/x/%40me").key == literal.key);
    CHECK(key_of("GET", "/users/%40me") == "GET /users/@me");
    CHECK(key_of("GET", "/users/%40me/guilds") == key_of("GET", "/users/@me/guilds"));
    CHECK(key_of("PATCH", "/guilds/1/members/%40me") == "PATCH /guilds/{guild_id}/members/@me");
    // Literal comparisons see the decoded text: "messages", "reactions", "@original", "templates".
    CHECK(parsed("PUT", "/channels/1/m%65ssages/2/r%65actions/x/%40me").key == literal.key);
    CHECK(key_of("GET", "/guilds/templates/%61bc") == key_of("GET", "/guilds/templates/abc"));
    const std::string exempt_path =
        "/webhooks/1/" + std::string(interaction_token) + "/messages/%40original";
    CHECK(parsed("PATCH", exempt_path).global_exempt);
    // A percent-encoded id is still an id, never a key of its own.
    CHECK(parsed("GET", "/channels/%31/messages/%32") == parsed("GET", "/channels/1/messages/2"));
    // Hex digits in either case spell the same byte.
    CHECK(key_of("GET", "/users/%4a") == key_of("GET", "/users/%4A"));
    CHECK(key_of("GET", "/users/%4a") == "GET /users/J");
}

TEST_CASE("rule: one key per route: an escape that would change the path stays data", "[route]")
{
    // %2F never splits a segment, %3F and %23 never start a query or a fragment: they stay
    // escaped in the key, with upper-case hex whatever the spelling.
    CHECK(key_of("GET", "/users/a%2Fb") == "GET /users/a%2Fb");
    CHECK(key_of("GET", "/users/a%2fb") == "GET /users/a%2Fb");
    CHECK(key_of("GET", "/users/a%3Fb%23c") == "GET /users/a%3Fb%23c");
    // No NUL, control character, space or raw non-ASCII byte reaches a key.
    CHECK(key_of("GET", "/users/a%00b%0a%20") == "GET /users/a%00b%0A%20");
    CHECK(key_of("GET", "/users/%c3%a9") == "GET /users/%C3%A9");
    // %25 is a '%', kept escaped; a '%' without two hex digits after it is kept as written.
    CHECK(key_of("GET", "/users/%2540me") == "GET /users/%2540me");
    CHECK(key_of("GET", "/users/%4") == "GET /users/%4");
    CHECK(key_of("GET", "/users/%zz%") == "GET /users/%zz%");
    // An escaped unfilled placeholder is an unfilled placeholder.
    CHECK(reason_of("GET", "/channels/1/messages/%7Bmessage_id%7D") ==
          dr::detail::route_reason::placeholder);
    // An escaped id too long for 64 bits is no more an id than the literal one.
    CHECK(reason_of("GET",
                    "/channels/%31%38%34%34%36%37%34%34%30%37%33%37%30%39%35%35%31%36%31%36") ==
          dr::detail::route_reason::id_too_large);
}

// ---------------------------------------------------------------------------------------------
// Message delete

TEST_CASE("a message delete's age class comes from its snowflake and options.now")
{
    const std::int64_t created = 300'000'000'000; // about 9.5 years after the Discord epoch
    const std::string path = "/channels/1/messages/" + std::to_string(snowflake_at(created));
    const std::int64_t day = 24LL * 60 * 60 * 1000;
    const auto age_at = [&](std::int64_t age_ms) {
        return parsed("DELETE", path, at_time(discord_time(created + age_ms))).delete_age;
    };
    CHECK(age_at(0) == dr::message_age::under_10_seconds);
    CHECK(age_at(9'999) == dr::message_age::under_10_seconds);
    CHECK(age_at(10'000) == dr::message_age::under_14_days);
    CHECK(age_at(13 * day) == dr::message_age::under_14_days);
    CHECK(age_at(14 * day - 1) == dr::message_age::under_14_days);
    CHECK(age_at(14 * day) == dr::message_age::older);
    CHECK(age_at(3000 * day) == dr::message_age::older);

    // Discord's own example snowflake: 175928847299117063 was created 2016-04-30T11:18:25.796Z.
    const auto created_example =
        std::chrono::system_clock::time_point{std::chrono::milliseconds{1'462'015'105'796LL}};
    CHECK(dr::message_age_of(175928847299117063ULL, created_example) ==
          dr::message_age::under_10_seconds);
    CHECK(dr::message_age_of(175928847299117063ULL, created_example + std::chrono::seconds{10}) ==
          dr::message_age::under_14_days);
    static_assert(dr::message_age_of(0, std::chrono::system_clock::time_point{}) ==
                  dr::message_age::under_10_seconds);
}

TEST_CASE("a message from the future counts as under 10 seconds")
{
    const std::int64_t created = 300'000'000'000;
    const std::string path = "/channels/1/messages/" + std::to_string(snowflake_at(created));
    CHECK(parsed("DELETE", path, at_time(discord_time(created - 60'000))).delete_age ==
          dr::message_age::under_10_seconds);
    CHECK(parsed("DELETE", "/channels/1/messages/18446744073709551615", at_time(discord_time(0)))
              .delete_age == dr::message_age::under_10_seconds);
    CHECK(
        parsed("DELETE", path, at_time(std::chrono::system_clock::time_point::min())).delete_age ==
        dr::message_age::under_10_seconds);
    CHECK(
        parsed("DELETE", path, at_time(std::chrono::system_clock::time_point::max())).delete_age ==
        dr::message_age::older);
}

TEST_CASE("each message-delete age class has its own key")
{
    const std::int64_t created = 300'000'000'000;
    const std::string path = "/channels/1/messages/" + std::to_string(snowflake_at(created));
    const std::string_view base = "DELETE /channels/{channel_id}/messages/{id}";
    CHECK(key_of("DELETE", path, at_time(discord_time(created + 1'000))) ==
          std::string(base) + " [age<10s]");
    CHECK(key_of("DELETE", path, at_time(discord_time(created + 60'000))) ==
          std::string(base) + " [age<14d]");
    CHECK(key_of("DELETE", path, at_time(discord_time(created + 15LL * 24 * 60 * 60 * 1000))) ==
          std::string(base) + " [age>=14d]");
    CHECK(parsed("DELETE", path, at_time(discord_time(created + 1'000))).major ==
          parsed("DELETE", path, at_time(discord_time(created + 60'000))).major);
}

TEST_CASE("without options.now a message delete has unknown age and no suffix")
{
    const dr::route route = parsed("DELETE", "/channels/1/messages/175928847299117063");
    CHECK(route.delete_age == dr::message_age::unknown);
    CHECK(route.key.view() == "DELETE /channels/{channel_id}/messages/{id}");
}

TEST_CASE("only DELETE of a channel message has a message age")
{
    const auto options = at_time(discord_time(0));
    CHECK(parsed("GET", "/channels/1/messages/2", options).delete_age ==
          dr::message_age::not_applicable);
    CHECK(parsed("PATCH", "/channels/1/messages/2", options).delete_age ==
          dr::message_age::not_applicable);
    CHECK(parsed("DELETE", "/channels/1/pins/2", options).delete_age ==
          dr::message_age::not_applicable);
    CHECK(parsed("DELETE", "/channels/1/messages/2/reactions", options).delete_age ==
          dr::message_age::not_applicable);
    CHECK(parsed("DELETE", "/webhooks/1/t/messages/2", options).delete_age ==
          dr::message_age::not_applicable);
    CHECK(parsed("DELETE", "/channels/1/messages/pins", options).delete_age ==
          dr::message_age::not_applicable);
}

// ---------------------------------------------------------------------------------------------
// Global limit exemption

TEST_CASE("interaction callbacks are exempt from the global limit")
{
    const std::string path = "/interactions/1/" + std::string(interaction_token) + "/callback";
    CHECK(parsed("POST", path).global_exempt);
    CHECK(parsed("POST", "https://discord.com/api/v10" + path).global_exempt);
    CHECK(parsed("POST", "/interactions/1/any-token/callback").global_exempt);
    CHECK_FALSE(parsed("GET", path).global_exempt);
    CHECK_FALSE(parsed("POST", "/interactions/1/token").global_exempt);
}

TEST_CASE("interaction webhooks are exempt from the global limit")
{
    const std::string base = "/webhooks/1/" + std::string(interaction_token);
    CHECK(parsed("POST", base).global_exempt);
    CHECK(parsed("POST", base + "?wait=true").global_exempt);
    for (const std::string_view method : {"GET"sv, "PATCH"sv, "DELETE"sv}) {
        INFO(method);
        CHECK(parsed(method, base + "/messages/@original").global_exempt);
        CHECK(parsed(method, base + "/messages/2").global_exempt);
    }
    CHECK_FALSE(parsed("POST", base + "/messages/@original").global_exempt);
    CHECK_FALSE(parsed("GET", base).global_exempt);
    CHECK_FALSE(parsed("PATCH", base).global_exempt);
    CHECK_FALSE(parsed("POST", base + "/slack").global_exempt);

    dr::route_options hint;
    hint.interaction_webhook = true;
    CHECK(parsed("POST", "/webhooks/1/opaque-token", hint).global_exempt);
    CHECK(parsed("PATCH", "/webhooks/1/opaque-token/messages/@original", hint).global_exempt);
    CHECK_FALSE(parsed("POST", "/channels/1/messages", hint).global_exempt);
}

TEST_CASE("ordinary webhook tokens are not exempt from the global limit")
{
    const std::string base = "/webhooks/1/" + std::string(webhook_token);
    CHECK_FALSE(parsed("POST", base).global_exempt);
    CHECK_FALSE(parsed("PATCH", base + "/messages/@original").global_exempt);
    CHECK_FALSE(parsed("DELETE", base + "/messages/2").global_exempt);
    CHECK_FALSE(parsed("POST", "/webhooks/1").global_exempt);
    CHECK_FALSE(parsed("POST", "/channels/1/messages").global_exempt);
    // The prefix must start the token, not merely appear in it.
    CHECK_FALSE(parsed("POST", "/webhooks/1/xaW50ZXJhY3Rpb246").global_exempt);
}

// ---------------------------------------------------------------------------------------------
// Major parameters

TEST_CASE("two paths of the same channel have equal majors")
{
    const dr::route messages = parsed("POST", "/channels/42/messages");
    const dr::route pins = parsed("PUT", "https://discord.com/api/v9/channels/42/pins/7");
    CHECK(messages.major == pins.major);
    CHECK(messages.major.hash() == pins.major.hash());
    CHECK(messages.major != parsed("POST", "/channels/43/messages").major);
    CHECK(messages.major != parsed("GET", "/guilds/42").major);
}

TEST_CASE("different tokens of one webhook give different majors, the same token the same major")
{
    const dr::route first = parsed("POST", "/webhooks/1/" + std::string(webhook_token));
    const dr::route again =
        parsed("PATCH", "/webhooks/1/" + std::string(webhook_token) + "/messages/5");
    const dr::route other = parsed("POST", "/webhooks/1/another-token");
    const dr::route no_token = parsed("GET", "/webhooks/1");
    CHECK(first.major == again.major);
    CHECK(first.major.hash() == again.major.hash());
    CHECK(first.major != other.major);
    CHECK(first.major.id == other.major.id);
    CHECK(first.major != no_token.major);
    CHECK(no_token.major.token_hash == 0);
    CHECK(first.key == other.key);
}

TEST_CASE("major_parameter hashes equal majors equally and spreads different ones")
{
    std::unordered_set<std::size_t> hashes;
    for (std::uint64_t id = 1; id <= 1000; ++id) {
        hashes.insert(dr::major_parameter{dr::major_kind::channel, id, 0}.hash());
        hashes.insert(dr::major_parameter{dr::major_kind::guild, id, 0}.hash());
    }
    CHECK(hashes.size() == 2000);
    const dr::major_parameter major{dr::major_kind::webhook, 7, 99};
    CHECK(std::hash<dr::major_parameter>{}(major) == major.hash());
    CHECK(dr::major_parameter{dr::major_kind::webhook, 7, 99}.hash() == major.hash());
}

// ---------------------------------------------------------------------------------------------
// Channel name and topic edits

TEST_CASE("channel name or topic edits are flagged only for PATCH /channels/{id} with the hint")
{
    dr::route_options hint;
    hint.edits_channel_name_or_topic = true;
    const dr::route edit = parsed("PATCH", "/channels/1", hint);
    CHECK(edit.channel_name_or_topic_edit);
    CHECK(edit.key == parsed("PATCH", "/channels/1").key);
    CHECK_FALSE(parsed("PATCH", "/channels/1").channel_name_or_topic_edit);
    CHECK_FALSE(parsed("PUT", "/channels/1", hint).channel_name_or_topic_edit);
    CHECK_FALSE(parsed("GET", "/channels/1", hint).channel_name_or_topic_edit);
    CHECK_FALSE(parsed("PATCH", "/channels/1/messages/2", hint).channel_name_or_topic_edit);
    CHECK_FALSE(parsed("PATCH", "/guilds/1", hint).channel_name_or_topic_edit);
}

// ---------------------------------------------------------------------------------------------
// Security

TEST_CASE("no key and no reason contains a webhook or interaction token")
{
    const std::string webhook = "/webhooks/1/" + std::string(webhook_token);
    const std::string interaction =
        "/interactions/1/" + std::string(interaction_token) + "/callback";
    for (const std::string& path :
         {webhook, webhook + "/messages/@original", webhook + "/messages/2?thread_id=3",
          webhook + "/slack", interaction,
          "https://discord.com/api/v10/webhooks/1/" + std::string(interaction_token)}) {
        INFO(path);
        const dr::route route = parsed("POST", path);
        CHECK_FALSE(leaks(route.key.view(), webhook_token));
        CHECK_FALSE(leaks(route.key.view(), interaction_token));
        CHECK(route.major.token_hash != 0);
    }
    // Rejections of inputs that carry a token: the reason is static and names no part of it.
    for (const std::string& path :
         {webhook + " ", webhook + "//messages", webhook + "/messages/{id}", webhook + "/./x",
          webhook + "/" + std::string(200, 'x'), interaction + "/\x01",
          "https://h/" + std::string(webhook_token)}) {
        const dr::route_result result = dr::parse_route("POST", path);
        REQUIRE_FALSE(result.ok());
        CHECK_FALSE(leaks(result.reason, webhook_token));
        CHECK_FALSE(leaks(result.reason, interaction_token));
        CHECK_FALSE(leaks(result.error.message(), webhook_token));
        // The reason points at static storage, never into the input.
        const bool inside_input =
            result.reason.data() >= path.data() && result.reason.data() < path.data() + path.size();
        CHECK_FALSE(inside_input);
    }
}

// ---------------------------------------------------------------------------------------------
// route_key

TEST_CASE("route_key holds its text inline, hashed once, and compares by text")
{
    static_assert(std::is_trivially_copyable_v<dr::route_key>);
    static_assert(std::is_nothrow_default_constructible_v<dr::route_key>);
    const dr::route_key empty;
    CHECK(empty.empty());
    CHECK(empty.view().empty());

    const auto made = dr::route_key::from_string("POST /channels/{channel_id}/messages");
    REQUIRE(made.has_value());
    const dr::route parsed_route = parsed("POST", "/channels/9/messages");
    CHECK(*made == parsed_route.key);
    CHECK(made->hash() == parsed_route.key.hash());
    CHECK(std::hash<dr::route_key>{}(*made) == made->hash());
    CHECK_FALSE(*made == empty);

    const dr::route_key copy = parsed_route.key;
    CHECK(copy == parsed_route.key);
    CHECK(copy.view().data() != parsed_route.key.view().data());

    CHECK(dr::route_key::from_string(std::string(dr::route_key::max_size, 'k')).has_value());
    CHECK_FALSE(
        dr::route_key::from_string(std::string(dr::route_key::max_size + 1, 'k')).has_value());

    std::unordered_set<dr::route_key> keys;
    keys.insert(parsed("GET", "/channels/1/messages").key);
    keys.insert(parsed("GET", "/channels/2/messages?limit=5").key);
    keys.insert(parsed("POST", "/channels/1/messages").key);
    CHECK(keys.size() == 2);
}

TEST_CASE("a route_key built at compile time equals the same key parsed at run time")
{
    constexpr auto gateway = dr::route_key::from_string("GET /gateway/bot");
    static_assert(gateway.has_value() && gateway->view() == "GET /gateway/bot");
    static_assert(gateway->hash() == dr::route_key::from_string("GET /gateway/bot")->hash());
    const dr::route_key parsed_key = parsed("GET", "https://discord.com/api/v10/gateway/bot").key;
    CHECK(*gateway == parsed_key);
    CHECK(gateway->hash() == parsed_key.hash());
}

TEST_CASE("route_key hashes spread distinct keys")
{
    std::unordered_set<std::size_t> hashes;
    std::string text = "GET /channels/{channel_id}/";
    for (int i = 0; i < 5000; ++i) {
        const auto key = dr::route_key::from_string(text + std::to_string(i));
        REQUIRE(key.has_value());
        hashes.insert(key->hash());
    }
    CHECK(hashes.size() == 5000);
}

// ---------------------------------------------------------------------------------------------
// Robustness

namespace {

// Parses a copy of `input` in a buffer of exactly its size, so that a sanitizer sees any read past
// the end, and checks what must hold of every result.
void check_any_input(std::string_view method, std::string_view input, std::mt19937_64& random)
{
    auto buffer = std::make_unique<char[]>(input.size() + 1);
    std::copy(input.begin(), input.end(), buffer.get());
    const std::string_view exact{buffer.get(), input.size()};

    dr::route_options options;
    options.edits_channel_name_or_topic = (random() & 1) != 0;
    options.interaction_webhook = (random() & 2) != 0;
    if ((random() & 4) != 0)
        options.now = std::chrono::system_clock::time_point{
            std::chrono::milliseconds{static_cast<std::int64_t>(random() % 4'000'000'000'000)}};

    const dr::route_result result = dr::parse_route(method, exact, options);
    INFO("input size " << input.size());
    if (!result.ok()) {
        REQUIRE(result.error == dr::error::invalid_route);
        REQUIRE_FALSE(result.reason.empty());
        REQUIRE((result.reason.data() < exact.data() ||
                 result.reason.data() >= exact.data() + exact.size()));
        REQUIRE(result.value == dr::route{});
        return;
    }
    const dr::route& route = result.value;
    const std::string_view key = route.key.view();
    REQUIRE(!key.empty());
    REQUIRE(key.size() <= dr::route_key::max_size);
    const std::string_view prefix = route.reaction ? "PUT|DELETE" : dr::to_string(route.method);
    REQUIRE(key.substr(0, prefix.size() + 2) == std::string(prefix) + " /");
    // A space only after the method and before an age suffix; the path is printable ASCII.
    std::string_view path = key.substr(prefix.size() + 1);
    const std::string_view suffix = dr::detail::age_suffix(route.delete_age);
    REQUIRE(path.size() >= suffix.size());
    REQUIRE(path.substr(path.size() - suffix.size()) == suffix);
    path.remove_suffix(suffix.size());
    for (const char c : path) {
        const auto byte = static_cast<unsigned char>(c);
        REQUIRE(byte > 0x20);
        REQUIRE(byte < 0x7f);
        REQUIRE(c != '?');
        REQUIRE(c != '#');
    }
    REQUIRE(route.api_version >= 1);
    REQUIRE(route.api_version <= 99);
    REQUIRE(route.key.hash() == dr::route_key::from_string(key)->hash());
    REQUIRE(dr::parse_route(route.method, exact, options).value == route);
}

} // namespace

TEST_CASE("thousands of random and mutated inputs never crash or yield a malformed key")
{
    std::mt19937_64 random{20260101};
    const auto pick = [&random](std::size_t size) {
        return static_cast<std::size_t>(random() % size);
    };
    const std::vector<std::string> seeds = {
        "https://discord.com/api/v10/channels/1/messages?limit=5#x",
        "http://127.0.0.1:8080/api/v9/guilds/2/members/3/roles/4",
        "/api/channels/1/messages/2/reactions/%F0%9F%91%8D/@me",
        "/api/v10/webhooks/1/" + std::string(webhook_token) + "/messages/@original",
        "/interactions/1/" + std::string(interaction_token) + "/callback",
        "channels/175928847299117063/messages/175928847299117063",
        "/guilds/templates/hgM48av5Q69A",
        "/invites/abc/",
        "/applications/1/activity-instances/i-1",
        "api/v10/users/@me/guilds/1",
    };
    const std::string_view alphabet = "/?#.%:{}@-_0123456789avpichnelsgudwbok ?\t\x80\xff";
    const std::vector<std::string_view> methods = {"GET",    "post", "PUT", "PATCH",
                                                   "DELETE", "HEAD", ""};
    std::size_t accepted = 0;
    for (int round = 0; round < 20'000; ++round) {
        std::string input;
        switch (round % 4) {
        case 0: { // random bytes
            input.resize(pick(200));
            for (char& c : input)
                c = static_cast<char>(random() & 0xff);
            break;
        }
        case 1: { // random strings of path-like characters
            input.resize(pick(120));
            for (char& c : input)
                c = alphabet[pick(alphabet.size())];
            break;
        }
        default: { // mutations of valid paths
            input = seeds[pick(seeds.size())];
            const std::size_t edits = 1 + pick(4);
            for (std::size_t e = 0; e < edits && !input.empty(); ++e) {
                const std::size_t at = pick(input.size());
                switch (pick(5)) {
                case 0: input[at] = alphabet[pick(alphabet.size())]; break;
                case 1: input.insert(at, 1, alphabet[pick(alphabet.size())]); break;
                case 2: input.erase(at, 1); break;
                case 3: input.resize(at); break;
                default: input.insert(at, input.substr(at, pick(40))); break;
                }
            }
            break;
        }
        }
        const std::string_view method = methods[pick(methods.size())];
        check_any_input(method, input, random);
        if (dr::parse_route(method, input).ok())
            ++accepted;
    }
    // Every prefix of every seed, too: the truncations that a streaming caller could produce.
    for (const std::string& seed : seeds) {
        for (std::size_t length = 0; length <= seed.size(); ++length)
            check_any_input("DELETE", std::string_view{seed}.substr(0, length), random);
    }
    CHECK(accepted > 1000); // the mutations still reach the key-building code
}

TEST_CASE("body_edits_channel_name_or_topic reads the top-level members of a JSON body", "[route]")
{
    using discord_ratelimit::body_edits_channel_name_or_topic;
    CHECK(body_edits_channel_name_or_topic(R"({"name": "general"})"));
    CHECK(body_edits_channel_name_or_topic(R"({"nsfw": false, "topic": "news"})"));
    CHECK_FALSE(body_edits_channel_name_or_topic(R"({"nsfw": false})"));
    CHECK_FALSE(body_edits_channel_name_or_topic(R"({"permission_overwrites": [{"name": 1}]})"));
    CHECK_FALSE(body_edits_channel_name_or_topic(R"({"x": {"topic": "nested"}})"));
    CHECK_FALSE(body_edits_channel_name_or_topic(R"({"name": "trunc)"));
    CHECK_FALSE(body_edits_channel_name_or_topic(""));
    CHECK_FALSE(body_edits_channel_name_or_topic("name=general"));
    static_assert(body_edits_channel_name_or_topic(R"({"name":"x"})"));
}

TEST_CASE("rule 2: redact_path hides webhook and interaction tokens and keeps the rest")
{
    const std::string webhook{webhook_token};
    const std::string interaction{interaction_token};
    CHECK(dr::redact_path("/webhooks/123/" + webhook) == "/webhooks/123/{webhook_token}");
    CHECK(dr::redact_path("/api/v10/webhooks/123/" + webhook + "/messages/456?wait=true") ==
          "/api/v10/webhooks/123/{webhook_token}/messages/456?wait=true");
    CHECK(dr::redact_path("https://discord.com/api/WEBHOOKS/1/" + webhook + "/slack") ==
          "https://discord.com/api/WEBHOOKS/1/{webhook_token}/slack");
    CHECK(dr::redact_path("/interactions/9/" + interaction + "/callback") ==
          "/interactions/9/{interaction_token}/callback");
    // Not a token: a webhook path without one, other resources, trailing slashes.
    CHECK(dr::redact_path("/webhooks/123") == "/webhooks/123");
    CHECK(dr::redact_path("/webhooks/123/") == "/webhooks/123/");
    CHECK(dr::redact_path("/channels/1/webhooks") == "/channels/1/webhooks");
    CHECK(dr::redact_path("/channels/1/messages/2") == "/channels/1/messages/2");
    CHECK(dr::redact_path("") == "");
    // A token right before a query or fragment is hidden too; the query is kept.
    CHECK(dr::redact_path("/webhooks/1/" + webhook + "?thread_id=5") ==
          "/webhooks/1/{webhook_token}?thread_id=5");
    CHECK(dr::redact_path("/webhooks/1/" + webhook + "#x") == "/webhooks/1/{webhook_token}#x");
    // Whatever the input, no 4-character window of the token survives.
    CHECK(dr::redact_path("/webhooks/1//" + webhook) == "/webhooks/1//{webhook_token}");
    CHECK(dr::redact_path("/webhooks/1/./" + webhook) == "/webhooks/1/./{webhook_token}");
    CHECK(dr::redact_path("/webhooks//" + webhook) == "/webhooks//{webhook_token}");
    // Not a number where the id goes: hidden, and the segment after it too.
    CHECK(dr::redact_path("/webhooks/" + webhook + "/x") ==
          "/webhooks/{webhook_token}/{webhook_token}");
    for (const auto& path : {"/webhooks//" + webhook, "webhooks/1/" + webhook + "/messages/@original",
                             "/x/webhooks/1/" + webhook}) {
        const auto redacted = dr::redact_path(path);
        for (std::size_t i = 0; i + 4 <= webhook.size(); ++i)
            CHECK(redacted.find(webhook.substr(i, 4)) == std::string::npos);
    }
}
