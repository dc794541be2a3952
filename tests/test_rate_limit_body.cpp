// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/rate_limit_body.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <string_view>

using namespace discord_ratelimit;
using namespace std::chrono_literals;
using namespace std::string_view_literals;

namespace {

using test_support::exact_copy;

body_kind kind_of(std::string_view body)
{
    return parse_rate_limit_body(body).kind;
}

/// The body `{"message": "m", "retry_after": <number>}`.
rate_limit_body with_retry_after(std::string_view number, header_parse_options options = {})
{
    static std::string body; // the result views it
    body = R"({"message": "m", "retry_after": )" + std::string(number) + "}";
    return parse_rate_limit_body(body, options);
}

void require_retry_after_status(std::initializer_list<std::string_view> numbers,
                                field_status expected)
{
    for (const std::string_view number : numbers) {
        INFO("retry_after: " << std::string(number));
        const auto body = with_retry_after(number);
        REQUIRE(body.retry_after_status == expected);
        REQUIRE(body.retry_after.has_value() == (expected == field_status::ok));
        REQUIRE(body.kind == body_kind::discord_rate_limit);
    }
}

constexpr std::string_view user_429_body =
    R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": false})";

} // namespace

// ---------------------------------------------------------------------------------------------
// Discord's JSON

TEST_CASE("the reference's user-scope 429 body is Discord's rate-limit JSON")
{
    const auto body = parse_rate_limit_body(user_429_body);
    REQUIRE(body.kind == body_kind::discord_rate_limit);
    REQUIRE(body.is_discord_json());
    REQUIRE(body.retry_after == 64'570'000'000ns);
    REQUIRE(body.retry_after_status == field_status::ok);
    REQUIRE(body.global == false);
    REQUIRE_FALSE(body.code);
    REQUIRE(body.message == "You are being rate limited.");
}

TEST_CASE("the reference's shared-scope 429 body is Discord's rate-limit JSON")
{
    const auto body = parse_rate_limit_body(
        R"({"message": "The resource is being rate limited.", "retry_after": 1336.57,)"
        R"( "global": false})");
    REQUIRE(body.kind == body_kind::discord_rate_limit);
    REQUIRE(body.retry_after == 1'336'570'000'000ns);
    REQUIRE(body.global == false);
    REQUIRE(body.message == "The resource is being rate limited.");
}

TEST_CASE("the reference's global 429 bodies are Discord's rate-limit JSON")
{
    const auto documented = parse_rate_limit_body(
        R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": true})");
    REQUIRE(documented.kind == body_kind::discord_rate_limit);
    REQUIRE(documented.retry_after == 64'570'000'000ns);
    REQUIRE(documented.global == true);

    const auto real = parse_rate_limit_body(
        R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.661})");
    REQUIRE(real.kind == body_kind::discord_rate_limit);
    REQUIRE(real.retry_after == 661ms);
    REQUIRE(real.global == true);
}

TEST_CASE("a rate-limit body may carry an integer code and unknown keys")
{
    const auto body = parse_rate_limit_body(
        R"({"code": 40062, "message": "Service resource is being rate limited.",)"
        R"( "retry_after": 0.5, "extra": [1, 2.5e3, "x", {"deep": [true, false, null]}]})");
    REQUIRE(body.kind == body_kind::discord_rate_limit);
    REQUIRE(body.code == 40062);
    REQUIRE(body.retry_after == 500ms);
    REQUIRE_FALSE(body.global);
}

TEST_CASE("members of nested objects are skipped, not read")
{
    const auto body = parse_rate_limit_body(
        R"({"errors": {"retry_after": 999, "message": "nested", "code": 1, "global": true},)"
        R"( "message": "top", "retry_after": 2})");
    REQUIRE(body.kind == body_kind::discord_rate_limit);
    REQUIRE(body.message == "top");
    REQUIRE(body.retry_after == 2s);
    REQUIRE_FALSE(body.code);
    REQUIRE_FALSE(body.global);
}

TEST_CASE("with duplicate keys the first one wins")
{
    const auto body = parse_rate_limit_body(
        R"({"message": "first", "retry_after": 1, "global": true, "code": 1,)"
        R"( "message": "second", "retry_after": 2, "global": false, "code": 2})");
    REQUIRE(body.message == "first");
    REQUIRE(body.retry_after == 1s);
    REQUIRE(body.global == true);
    REQUIRE(body.code == 1);
}

TEST_CASE("retry_after is read exactly, exponent forms included")
{
    REQUIRE(with_retry_after("64.57").retry_after == 64'570'000'000ns);
    REQUIRE(with_retry_after("6.457e1").retry_after == 64'570'000'000ns);
    REQUIRE(with_retry_after("6457E-2").retry_after == 64'570'000'000ns);
    REQUIRE(with_retry_after("0.6457e+2").retry_after == 64'570'000'000ns);
    REQUIRE(with_retry_after("0").retry_after == 0ns);
    REQUIRE(with_retry_after("0.333").retry_after == 333ms);
    REQUIRE(with_retry_after("1e-9").retry_after == 1ns);
    REQUIRE(with_retry_after("6.048e5").retry_after == 604'800s);
}

TEST_CASE("retry_after beyond nanosecond precision is rounded up")
{
    REQUIRE(with_retry_after("0.0000000001").retry_after == 1ns);
    REQUIRE(with_retry_after("1e-400").retry_after == 1ns);
    REQUIRE(with_retry_after("0.6610000001").retry_after == 661'000'001ns);
}

TEST_CASE("with the API v6 option, retry_after is milliseconds")
{
    const header_parse_options v6{.retry_after_in_milliseconds = true};
    REQUIRE(with_retry_after("64570", v6).retry_after == 64'570ms);
    REQUIRE(with_retry_after("661.5", v6).retry_after == 661'500'000ns);
    REQUIRE(with_retry_after("6.457e4", v6).retry_after == 64'570ms);
}

TEST_CASE("a non-finite retry_after is rejected as not finite")
{
    // Python's json module writes these for float('nan') and float('inf').
    require_retry_after_status({"NaN", "Infinity", "-Infinity"}, field_status::not_finite);
}

TEST_CASE("a negative retry_after is rejected as negative")
{
    require_retry_after_status({"-1", "-0.5", "-0", "-6.457e1", "-1e-400"}, field_status::negative);
}

TEST_CASE("a retry_after above seven days is out of range")
{
    require_retry_after_status({"604800.000000001", "604801", "1e308", "1e400", "6.048e5000",
                                "99999999999999999999999999999999999999"},
                               field_status::out_of_range);
}

TEST_CASE("a retry_after that is not a number is malformed and the body is other JSON")
{
    for (const std::string_view value : {R"("64.57")", "true", "null", "[64.57]", "{}"}) {
        INFO("retry_after: " << std::string(value));
        const std::string text = R"({"message": "You are being rate limited.", "retry_after": )" +
                                 std::string(value) + "}";
        const auto body = parse_rate_limit_body(text);
        REQUIRE(body.retry_after_status == field_status::malformed);
        REQUIRE_FALSE(body.retry_after);
        REQUIRE(body.kind == body_kind::other_json);
    }
}

TEST_CASE("global is kept only when it is a JSON boolean")
{
    REQUIRE(parse_rate_limit_body(R"({"global": true})").global == true);
    REQUIRE(parse_rate_limit_body(R"({"global": false})").global == false);
    for (const std::string_view body : {R"({"global": "true"})", R"({"global": 1})",
                                        R"({"global": null})", R"({"global": [true]})"})
        REQUIRE_FALSE(parse_rate_limit_body(body).global);
}

TEST_CASE("code is kept only when it is a JSON integer that fits in 64 bits")
{
    REQUIRE(parse_rate_limit_body(R"({"code": 0})").code == 0);
    REQUIRE(parse_rate_limit_body(R"({"code": -7})").code == -7);
    REQUIRE(parse_rate_limit_body(R"({"code": 9223372036854775807})").code == INT64_MAX);
    for (const std::string_view body :
         {R"({"code": 40062.5})", R"({"code": 4e4})", R"({"code": 9223372036854775808})",
          R"({"code": "40062"})", R"({"code": NaN})", R"({"code": 1.0})"})
        REQUIRE_FALSE(parse_rate_limit_body(body).code);
}

TEST_CASE("the message is the raw string contents, a view into the body")
{
    const std::string_view text =
        R"({"message": "You are \"being\" rate limited \u00e9\\", "retry_after": 1})";
    const auto body = parse_rate_limit_body(text);
    REQUIRE(body.kind == body_kind::discord_rate_limit);
    REQUIRE(body.message == R"(You are \"being\" rate limited \u00e9\\)");
    REQUIRE(body.message.data() >= text.data());
    REQUIRE(body.message.data() + body.message.size() <= text.data() + text.size());
    REQUIRE(parse_rate_limit_body(R"({"message": "", "retry_after": 1})").kind ==
            body_kind::discord_rate_limit);
}

TEST_CASE("a message that is not a string makes the body other JSON")
{
    const auto body = parse_rate_limit_body(R"({"message": 5, "retry_after": 1})");
    REQUIRE(body.kind == body_kind::other_json);
    REQUIRE(body.message.empty());
    REQUIRE(body.retry_after == 1s); // the fields of any valid object are still read
}

TEST_CASE("Discord's temporary block notice is a ban")
{
    const auto body = parse_rate_limit_body(
        R"({"code": 0, "message": "You are being blocked from accessing our API temporarily )"
        R"(due to exceeding our rate limits frequently. Please read our docs at )"
        R"(https://discord.com/developers/docs/topics/rate-limits to prevent this moving )"
        R"(forward."})");
    REQUIRE(body.kind == body_kind::discord_ban);
    REQUIRE(body.is_discord_json());
    REQUIRE(body.code == 0);
    REQUIRE(body.message.starts_with("You are being blocked"));
    REQUIRE_FALSE(body.retry_after);

    // The notice decides, even with a retry_after beside it.
    REQUIRE(parse_rate_limit_body(R"({"message": "You are being blocked from accessing our API )"
                                  R"(temporarily", "retry_after": 3600})")
                .kind == body_kind::discord_ban);
    // The prefix is compared exactly.
    REQUIRE(parse_rate_limit_body(R"({"message": "you are being blocked from accessing our API )"
                                  R"(temporarily"})")
                .kind == body_kind::other_json);
}

TEST_CASE("a valid JSON object or array that is not Discord's is other JSON")
{
    for (const std::string_view text :
         {"{}", "[]", "[1, 2, 3]", R"({"message": "no retry_after"})", R"({"retry_after": 5})",
          R"({"error": {"message": "x", "retry_after": 1}})",
          R"([{"message": "x", "retry_after": 1}])", " \r\n\t{ } \n"}) {
        INFO(text);
        const auto body = parse_rate_limit_body(text);
        REQUIRE(body.kind == body_kind::other_json);
        REQUIRE_FALSE(body.is_discord_json());
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed JSON

TEST_CASE("text that starts like JSON but is not valid JSON is malformed JSON")
{
    for (const std::string_view text : std::initializer_list<std::string_view>{
             "{",
             "[",
             "{]",
             "[}",
             R"({"a": 1,})",
             R"({"a" 1})",
             R"({"a": })",
             R"({a: 1})",
             R"({'a': 1})",
             R"({"a": 1} x)",
             R"({"a": 1}})",
             R"({"a": 01})",
             R"({"a": 1.})",
             R"({"a": .5})",
             R"({"a": -})",
             R"({"a": +1})",
             R"({"a": 1e})",
             R"({"a": 0x10})",
             R"({"a": tru})",
             R"({"a": nul})",
             R"({"a": nan})",
             R"({"a": inf})",
             R"({"a": -NaN})",
             R"({"a": "\x"})",
             R"({"a": "\u12G4"})",
             R"({"a": "\u12"})",
             "{\"a\": \"line\nbreak\"}",
             "{\"a\": \"tab\there\"}",
             R"({"a": "unterminated})",
             R"({"a": "escaped quote at the end\"})",
             R"([1 2])",
             R"([1,,2])",
             R"({"a": 1 "b": 2})",
             R"({"a": [1, 2}})",
             "{\"a\": 1}\0"sv,
         }) {
        INFO(text);
        const auto body = parse_rate_limit_body(text);
        REQUIRE(body.kind == body_kind::malformed_json);
        REQUIRE_FALSE(body.retry_after);
        REQUIRE(body.retry_after_status == field_status::absent);
        REQUIRE(body.message.empty());
    }
}

TEST_CASE("a truncated rate-limit body is malformed JSON at every length, never Discord's")
{
    for (const std::string_view full : std::initializer_list<std::string_view>{
             user_429_body,
             R"({"global": true, "message": "x \"y\" \u00e9", "retry_after": 6.457e1})",
             R"({"message": "m", "nested": [{"a": [1, -2.5E+3, null]}], "retry_after": 0.661})"}) {
        for (std::size_t length = 0; length < full.size(); ++length) {
            const exact_copy prefix{full.substr(0, length)};
            const auto body = parse_rate_limit_body(prefix.view());
            INFO(prefix.view());
            REQUIRE(body.kind == (length == 0 ? body_kind::empty : body_kind::malformed_json));
            REQUIRE_FALSE(body.retry_after);
        }
        const exact_copy whole{full};
        REQUIRE(parse_rate_limit_body(whole.view()).kind == body_kind::discord_rate_limit);
    }
}

TEST_CASE("nesting up to 64 levels is read and deeper nesting is malformed JSON")
{
    const auto nested = [](std::size_t depth) {
        // The top-level object is level 1.
        return R"({"message": "m", "retry_after": 1, "x": )" + std::string(depth - 1, '[') +
               std::string(depth - 1, ']') + "}";
    };
    REQUIRE(parse_rate_limit_body(nested(64)).kind == body_kind::discord_rate_limit);
    REQUIRE(parse_rate_limit_body(nested(65)).kind == body_kind::malformed_json);
    REQUIRE(parse_rate_limit_body(std::string(64, '[') + std::string(64, ']')).kind ==
            body_kind::other_json);
    REQUIRE(parse_rate_limit_body(std::string(65, '[') + std::string(65, ']')).kind ==
            body_kind::malformed_json);
}

TEST_CASE("ten thousand open brackets are malformed JSON, without deep recursion")
{
    const std::string opening(10'000, '[');
    REQUIRE(parse_rate_limit_body(opening).kind == body_kind::malformed_json);
    REQUIRE(parse_rate_limit_body(opening + std::string(10'000, ']')).kind ==
            body_kind::malformed_json);
    REQUIRE(parse_rate_limit_body(R"({"retry_after": )" + opening).kind ==
            body_kind::malformed_json);
    REQUIRE(parse_rate_limit_body(std::string(10'000, '{')).kind == body_kind::malformed_json);
}

// ---------------------------------------------------------------------------------------------
// Bodies that are not JSON

TEST_CASE("an empty or blank body is empty")
{
    for (const std::string_view text : {""sv, " "sv, "\r\n\t \n"sv}) {
        const auto body = parse_rate_limit_body(text);
        REQUIRE(body.kind == body_kind::empty);
        REQUIRE_FALSE(body.is_discord_json());
    }
}

TEST_CASE("an HTML page is html")
{
    REQUIRE(kind_of("<!DOCTYPE html>\n<html><head><title>Access denied</title></head></html>") ==
            body_kind::html);
    REQUIRE(kind_of("\r\n  <html>") == body_kind::html);
    REQUIRE(kind_of("<") == body_kind::html);
}

TEST_CASE("Cloudflare's error code 1015 is recognised wherever it appears")
{
    REQUIRE(kind_of("error code: 1015") == body_kind::cloudflare_1015);
    REQUIRE(kind_of("error code: 1015\n") == body_kind::cloudflare_1015);
    REQUIRE(kind_of("Error Code: 1015") == body_kind::cloudflare_1015);
    REQUIRE(kind_of("<html><body>error code: 1015</body></html>") == body_kind::cloudflare_1015);
    REQUIRE(kind_of("error code: 1020") == body_kind::text);
}

TEST_CASE("any other body is text")
{
    REQUIRE(kind_of("Too Many Requests") == body_kind::text);
    REQUIRE(kind_of("64.57") == body_kind::text);
    REQUIRE(kind_of("\"message\"") == body_kind::text);
    REQUIRE(kind_of("error code: 101") == body_kind::text);
}

TEST_CASE("garbage bytes, NUL and 0xFF included, never crash the parser")
{
    REQUIRE(kind_of("\0\0\0"sv) == body_kind::text);
    REQUIRE(kind_of("\xff\xfe\x00\x01"sv) == body_kind::text);
    REQUIRE(kind_of("{\0\xff}"sv) == body_kind::malformed_json);
    REQUIRE(kind_of("{\"message\xff\": \"\xff\xfe\", \"retry_after\": 1}") ==
            body_kind::other_json); // bytes above 0x7F pass through strings unchecked
    // A deterministic stream of every byte value, cut at every length.
    std::string bytes;
    for (int i = 0; i < 2048; ++i)
        bytes.push_back(static_cast<char>((i * 167 + 13) % 256));
    for (const std::string_view start : {""sv, "{"sv, "["sv, R"({"message": ")"sv}) {
        for (std::size_t length = 0; length <= 300; ++length) {
            const exact_copy text{std::string(start) + bytes.substr(0, length)};
            const auto body = parse_rate_limit_body(text.view());
            REQUIRE(body.kind != body_kind::discord_rate_limit);
        }
    }
}

TEST_CASE("the body parser is noexcept and can run at compile time")
{
    static_assert(noexcept(parse_rate_limit_body(std::string_view{})));
    constexpr auto body = parse_rate_limit_body(
        R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.661})");
    static_assert(body.kind == body_kind::discord_rate_limit);
    static_assert(body.retry_after == std::chrono::nanoseconds{661'000'000});
    REQUIRE(body.retry_after == 661ms);
}

TEST_CASE("describe gives a distinct description for every body kind")
{
    std::set<std::string_view> descriptions;
    for (const auto kind : {body_kind::empty, body_kind::discord_rate_limit, body_kind::discord_ban,
                            body_kind::other_json, body_kind::malformed_json, body_kind::html,
                            body_kind::cloudflare_1015, body_kind::text})
        descriptions.insert(describe(kind));
    REQUIRE(descriptions.size() == 8);
    REQUIRE_FALSE(descriptions.contains(""));
}
