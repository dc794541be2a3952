// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/beast_headers.hpp>

#include "catch.hpp"

#include <discord_ratelimit/rate_limit_body.hpp>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <memory>

namespace http = boost::beast::http;
using namespace discord_ratelimit;
using namespace std::chrono_literals;

namespace {

/// The reference's user-scope 429, as Beast would have parsed it off the wire.
http::response<http::string_body> user_429()
{
    http::response<http::string_body> response{http::status::too_many_requests, 11};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::retry_after, "65");
    response.set("X-RateLimit-Limit", "10");
    response.set("X-RateLimit-Remaining", "0");
    response.set("X-RateLimit-Reset", "1470173023.123");
    response.set("X-RateLimit-Reset-After", "64.57");
    response.set("X-RateLimit-Bucket", "abcd1234");
    response.set("X-RateLimit-Scope", "user");
    response.body() =
        R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": false})";
    response.prepare_payload();
    return response;
}

} // namespace

TEST_CASE("Beast fields, headers and messages are header sources")
{
    static_assert(header_source<http::fields>);
    static_assert(header_source<http::basic_fields<std::allocator<char>>>);
    static_assert(header_source<http::response_header<>>);
    static_assert(header_source<http::response<http::string_body>>);
    static_assert(header_source<http::response<http::empty_body>>);
    static_assert(header_source<http::request<http::string_body>>);
    static_assert(!header_source<http::status>);
}

TEST_CASE("the reference's user-scope 429 is read from a Beast response")
{
    const auto response = user_429();
    const auto headers = parse_rate_limit_headers(response);
    REQUIRE(headers.retry_after == 65s);
    REQUIRE(headers.limit == 10u);
    REQUIRE(headers.remaining == 0u);
    REQUIRE(headers.reset == 1'470'173'023'123'000'000ns);
    REQUIRE(headers.reset_after == 64'570'000'000ns);
    REQUIRE(headers.bucket->view() == "abcd1234");
    REQUIRE(headers.scope == rate_limit_scope::user);
    REQUIRE_FALSE(headers.global);
    REQUIRE_FALSE(headers.via);
    REQUIRE_FALSE(headers.has_errors());

    const auto body = parse_rate_limit_body(response.body());
    REQUIRE(body.kind == body_kind::discord_rate_limit);
    REQUIRE(body.retry_after == 64'570'000'000ns);
}

TEST_CASE("a Beast response header and bare fields are read the same way")
{
    const auto response = user_429();
    const http::response_header<>& header = response;
    const http::fields& fields = response;
    REQUIRE(parse_rate_limit_headers(header).reset_after == 64'570'000'000ns);
    REQUIRE(parse_rate_limit_headers(fields).reset_after == 64'570'000'000ns);
}

TEST_CASE("Beast header names match in any case")
{
    http::response<http::string_body> response{http::status::too_many_requests, 11};
    response.set("retry-after", "1");
    response.set("x-ratelimit-scope", "global");
    response.set("X-RATELIMIT-GLOBAL", "true");
    response.set("Via", "1.1 google");
    const auto headers = parse_rate_limit_headers(response);
    REQUIRE(headers.retry_after == 1s);
    REQUIRE(headers.scope == rate_limit_scope::global);
    REQUIRE(headers.global);
    REQUIRE(headers.via);
}

TEST_CASE("the first of repeated Beast fields wins")
{
    http::fields fields;
    fields.insert("Retry-After", "3");
    fields.insert("retry-after", "4");
    fields.insert("RETRY-AFTER", "5");
    REQUIRE(parse_rate_limit_headers(fields).retry_after == 3s);
}

TEST_CASE("rejected values in a Beast response say why")
{
    http::response<http::empty_body> response{http::status::too_many_requests, 11};
    response.set("X-RateLimit-Reset-After", "-1");
    response.set("X-RateLimit-Bucket", std::string(65, 'a'));
    const auto headers = parse_rate_limit_headers(response);
    REQUIRE(headers.status_of(header_field::reset_after) == field_status::negative);
    REQUIRE(headers.status_of(header_field::bucket) == field_status::too_long);
    REQUIRE(headers.has_errors());
}

TEST_CASE("the millisecond option applies to Beast responses too")
{
    http::response<http::empty_body> response{http::status::too_many_requests, 11};
    response.set(http::field::retry_after, "64570");
    const auto headers = parse_rate_limit_headers(
        response, header_parse_options{.retry_after_in_milliseconds = true});
    REQUIRE(headers.retry_after == 64'570ms);
}
