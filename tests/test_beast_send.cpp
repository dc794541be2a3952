// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/asio/beast_send.hpp>

#include "catch.hpp"

#include <discord_ratelimit/asio/virtual_time.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <utility>

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace drl = discord_ratelimit;

namespace {

struct beast_send_clock_tag {};
using vclock = drl::basic_manual_clock<beast_send_clock_tag>;
using beast_response = http::response<http::string_body>;

beast_response discord_answer(http::status status, std::string remaining, std::string body)
{
    beast_response res{status, 11};
    res.set("X-RateLimit-Limit", "5");
    res.set("X-RateLimit-Remaining", std::move(remaining));
    res.set("X-RateLimit-Reset-After", "1.5");
    res.set("X-RateLimit-Bucket", "abcd1234");
    res.set("Via", "1.1 google");
    res.body() = std::move(body);
    return res;
}

} // namespace

TEST_CASE("response_traits reads a Beast response: status, fields, body", "[beast_send]")
{
    using traits = drl::response_traits<beast_response>;
    const auto res = discord_answer(http::status::too_many_requests, "0", R"({"retry_after": 1})");
    CHECK(traits::status(res) == 429);
    CHECK(traits::body(res) == R"({"retry_after": 1})");
    const auto h = drl::parse_rate_limit_headers(traits::headers(res));
    REQUIRE(h.remaining);
    CHECK(*h.remaining == 0);
    REQUIRE(h.bucket);
    CHECK(h.bucket->view() == "abcd1234");
}

TEST_CASE("async_send takes Beast responses as they are", "[beast_send]")
{
    vclock::reset();
    asio::io_context ctx;
    drl::basic_rate_limiter<vclock> limiter{ctx.get_executor()};
    int attempts = 0;
    boost::system::error_code result;
    beast_response final_answer;
    // The first answer is a 500 (retried), the second a success.
    drl::async_send<beast_response>(
        limiter, drl::make_route("GET", "/channels/1/messages"),
        [&](auto handler) {
            const auto status =
                ++attempts == 1 ? http::status::internal_server_error : http::status::ok;
            asio::post(ctx, [status, h = std::move(handler)]() mutable {
                std::move(h)(boost::system::error_code{}, discord_answer(status, "4", "[]"));
            });
        },
        [&](boost::system::error_code ec, beast_response res) {
            result = ec;
            final_answer = std::move(res);
        });
    drl::run_virtual<vclock>(ctx);
    CHECK_FALSE(result);
    CHECK(attempts == 2);
    CHECK(final_answer.result() == http::status::ok);
    CHECK(final_answer.body() == "[]");
    CHECK(limiter.stats().rate_limited_total() == 0);
    vclock::reset();
}
