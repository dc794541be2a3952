// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/route.hpp>

#include "catch.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace dr = discord_ratelimit;
using namespace std::string_view_literals;

namespace {

dr::route parsed(std::string_view method, std::string_view path)
{
    const dr::route_result result = dr::parse_route(method, path);
    INFO(method << ' ' << path << " -> " << result.reason);
    REQUIRE(result.ok());
    return result.value;
}

std::string_view reason_of(std::string_view method, std::string_view path)
{
    const dr::route_result result = dr::parse_route(method, path);
    INFO(method << ' ' << path);
    REQUIRE_FALSE(result.ok());
    return result.reason;
}

// A scan at compile time walks the same code as at run time, the /api/v10/ shortcut included.
// (The array is value-initialised: a constant expression may not copy unset segments.)
constexpr bool splits_at_compile_time()
{
    dr::detail::api_path path{};
    const std::string_view reason =
        dr::detail::scan_api_path("/api/v10/channels/123/messages?x=1", path);
    return reason.empty() && path.api_version == 10 && path.size == 3 && path.segments[1].numeric &&
           path.segments[1].number == 123 && path.segments[2].text() == "messages";
}
static_assert(splits_at_compile_time());
static_assert(dr::parse_http_method("pAtCh") == dr::http_method::patch);
static_assert(!dr::parse_http_method("GETS").has_value());

} // namespace

TEST_CASE("the /api/v10/ shortcut gives what the segment loop gives")
{
    CHECK(parsed("GET", "/api/v10/channels/1").key == parsed("GET", "/api/v10/channels/1/").key);
    CHECK(parsed("GET", "api/v10/channels/1").api_version == 10);
    CHECK(parsed("GET", "https://discord.com/api/v10/channels/1").api_version == 10);
    CHECK(parsed("GET", "/api/v9/channels/1").api_version == 9);
    CHECK(parsed("GET", "/api/v10/api").key.view() == "GET /api");
    CHECK(parsed("GET", "/api/v10/x").key.view() == "GET /x");
    namespace reason = dr::detail::api_path_reason;
    CHECK(reason_of("GET", "/api/v10/") == reason::no_resource);
    CHECK(reason_of("GET", "/api/v10") == reason::no_resource);
    CHECK(reason_of("GET", "/api/v10//channels") == reason::empty_segment);
    CHECK(reason_of("GET", "/api/v10/v9/channels") == reason::version_outside_api);
    CHECK(reason_of("GET", "/api/v100/channels") == reason::bad_version);
    CHECK(reason_of("GET", "/api/v10/./channels") == reason::dot_segment);
    CHECK(reason_of("GET", "/api/v10/ channels") == reason::whitespace_or_control);
    CHECK(reason_of("GET", "/api/v10/channels/1?a b") == reason::whitespace_or_control);
    // "/API/V10/" is not the shortcut's spelling, nor a valid path.
    CHECK(reason_of("GET", "/API/V10/channels") == reason::bad_resource);
}

TEST_CASE("key pieces of every length are copied exactly")
{
    // Lengths around the copy's word sizes: under 4, 4 to 7, 8 to 16 and beyond.
    for (std::size_t length = 1; length <= 40; ++length) {
        std::string segment;
        for (std::size_t i = 0; i < length; ++i)
            segment += static_cast<char>('a' + (i * 7 + length) % 26);
        const std::string path = "/api/v10/users/@me/" + segment + "/" + segment + "x";
        const dr::route route = parsed("GET", path);
        const std::string expected = "GET /users/@me/" + segment + "/" + segment + "x";
        INFO(length);
        CHECK(route.key.view() == expected);
        CHECK(route.key.hash() == dr::route_key::from_string(expected)->hash());
    }
}

TEST_CASE("route_key::from_string keeps texts of every length up to max_size")
{
    std::string text;
    for (std::size_t length = 0; length <= dr::route_key::max_size; ++length) {
        const auto key = dr::route_key::from_string(text);
        REQUIRE(key.has_value());
        CHECK(key->view() == text);
        CHECK(key->size() == length);
        text += static_cast<char>('A' + length % 26);
    }
    CHECK_FALSE(dr::route_key::from_string(text).has_value());
}

TEST_CASE("a key that fills route_key exactly is kept, one more character is refused")
{
    // "GET " and "/abc...": 4 + 1 + 155 = 160 characters.
    const std::string fits = "/x" + std::string(154, 'a');
    CHECK(parsed("GET", fits).key.size() == 4 + fits.size());
    CHECK(reason_of("GET", fits + "a") == dr::detail::route_reason::key_too_long);
}

TEST_CASE("methods parse in any case and at no other length")
{
    for (const std::string_view name : {"get"sv, "GET"sv, "gEt"sv})
        CHECK(dr::parse_http_method(name) == dr::http_method::get);
    CHECK(dr::parse_http_method("put") == dr::http_method::put);
    CHECK(dr::parse_http_method("Post") == dr::http_method::post);
    CHECK(dr::parse_http_method("PATCH") == dr::http_method::patch);
    CHECK(dr::parse_http_method("delete") == dr::http_method::delete_);
    for (const std::string_view other :
         {""sv, "G"sv, "GE"sv, "GET "sv, " GET"sv, "GEt\0"sv, "PUTS"sv, "POS"sv, "PATC"sv,
          "DELET"sv, "DELETES"sv, "HEAD"sv, "OPTIONS"sv, "G\x05T"sv, "g3t"sv})
        CHECK_FALSE(dr::parse_http_method(other).has_value());
}
