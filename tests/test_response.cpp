#include <discord_ratelimit/response.hpp>

#include "catch.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using headers_type = std::vector<std::pair<std::string, std::string>>;

namespace {
drl::outcome classify(int status, headers_type h, std::string_view body = "{}")
{
    return drl::classify(drl::response::parse(status, h, body));
}
const std::string rate_limited_body =
    R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": false})";
} // namespace

TEST_CASE("outcomes are classified from status, scope, remaining, Via and body", "[response]")
{
    const std::pair<std::string, std::string> via{"via", "1.1 google"};
    CHECK(classify(200, {}) == drl::outcome::success);
    CHECK(classify(204, {}) == drl::outcome::success);
    CHECK(classify(401, {}) == drl::outcome::unauthorized);
    CHECK(classify(403, {}) == drl::outcome::forbidden);
    CHECK(classify(404, {}) == drl::outcome::not_found);
    CHECK(classify(400, {}) == drl::outcome::client_error);
    CHECK(classify(502, {}) == drl::outcome::server_error);
    CHECK(classify(429, {via, {"x-ratelimit-scope", "user"}, {"x-ratelimit-remaining", "0"}},
                   rate_limited_body) == drl::outcome::user_429);
    CHECK(classify(429, {via, {"x-ratelimit-global", "true"}}, rate_limited_body) ==
          drl::outcome::global_429);
    CHECK(classify(429, {via}, R"({"message": "m", "retry_after": 1, "global": true})") ==
          drl::outcome::global_429);
    CHECK(classify(429, {via, {"x-ratelimit-scope", "shared"}, {"x-ratelimit-remaining", "9"}},
                   rate_limited_body) == drl::outcome::shared_429);
    CHECK(classify(429, {via, {"x-ratelimit-remaining", "3"}}, rate_limited_body) ==
          drl::outcome::sublimit_429);
}

TEST_CASE("a 429 without Via, or whose body is not Discord's JSON, is Cloudflare's", "[response]")
{
    const std::pair<std::string, std::string> via{"via", "1.1 google"};
    CHECK(classify(429, {{"x-ratelimit-scope", "user"}}, rate_limited_body) ==
          drl::outcome::cloudflare_429);
    CHECK(classify(429, {via}, "<!DOCTYPE html><html>blocked</html>") ==
          drl::outcome::cloudflare_429);
    CHECK(classify(429, {via}, "error code: 1015") == drl::outcome::cloudflare_429);
    CHECK(
        classify(
            429, {via},
            R"({"code": 0, "message": "You are being blocked from accessing our API temporarily due to exceeding our rate limits frequently."})") ==
        drl::outcome::cloudflare_429);
}

TEST_CASE("a truncated or empty 429 body with Via is Discord's: the headers decide", "[response]")
{
    const std::pair<std::string, std::string> via{"via", "1.1 google"};
    CHECK(classify(429, {via}, R"({"message": "You are being rate limited.", "retry_af)") ==
          drl::outcome::user_429);
    CHECK(classify(429, {via, {"x-ratelimit-global", "true"}}, "") == drl::outcome::global_429);
    CHECK(classify(429, {}, "") == drl::outcome::cloudflare_429);
    CHECK(drl::classify(drl::response::parse(429, headers_type{}, rate_limited_body), false) ==
          drl::outcome::user_429);
}

TEST_CASE("transport failures are classified apart from HTTP answers", "[response]")
{
    CHECK(drl::classify(drl::response::failed(drl::transport_error::timeout)) ==
          drl::outcome::timeout);
    CHECK(drl::classify(drl::response::failed(drl::transport_error::network)) ==
          drl::outcome::network_error);
    CHECK(drl::classify(drl::response::failed(drl::transport_error::connect_failed)) ==
          drl::outcome::network_error);
}

TEST_CASE("Retry-After prefers the body's float to the rounded header", "[response]")
{
    const headers_type h{{"retry-after", "65"}, {"via", "1.1 google"}};
    CHECK(drl::retry_after(drl::response::parse(429, h, rate_limited_body)) == 64570ms);
    CHECK(drl::retry_after(drl::response::parse(429, h, "error code: 1015")) == 65s);
    CHECK(drl::retry_after(drl::response::parse(
              429, headers_type{{"x-ratelimit-reset-after", "2.5"}}, "")) == 2500ms);
    CHECK_FALSE(
        drl::retry_after(drl::response::parse(429, headers_type{{"retry-after", "nan"}}, ""))
            .has_value());
    CHECK(drl::retry_after(drl::response::parse(429, h, R"({"message": "m", "retry_after": 1500})",
                                                true)) == 1500ms);
}

TEST_CASE("rule: interim responses: a 429 after 100 Continue is Discord's, not a ban", "[response]")
{
    const drl::raw_header_block block{"HTTP/1.1 100 Continue\r\n"
                                      "\r\n"
                                      "HTTP/1.1 429 Too Many Requests\r\n"
                                      "retry-after: 65\r\n"
                                      "x-ratelimit-remaining: 0\r\n"
                                      "x-ratelimit-scope: user\r\n"
                                      "via: 1.1 google\r\n"
                                      "\r\n"};
    const auto r = drl::response::parse(429, block, rate_limited_body);
    CHECK(drl::classify(r) == drl::outcome::user_429);
    CHECK(drl::retry_after(r) == 64570ms);
}

TEST_CASE("only 401, 403 and non-shared 429s count as invalid requests", "[response]")
{
    CHECK(drl::is_invalid_request(drl::outcome::unauthorized));
    CHECK(drl::is_invalid_request(drl::outcome::forbidden));
    CHECK(drl::is_invalid_request(drl::outcome::user_429));
    CHECK(drl::is_invalid_request(drl::outcome::global_429));
    CHECK(drl::is_invalid_request(drl::outcome::sublimit_429));
    CHECK_FALSE(drl::is_invalid_request(drl::outcome::shared_429));
    CHECK_FALSE(drl::is_invalid_request(drl::outcome::not_found));
    CHECK_FALSE(drl::is_invalid_request(drl::outcome::server_error));
}
