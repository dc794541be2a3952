#include <discord_ratelimit/discord_ratelimit.hpp>

#include "catch.hpp"

#include <chrono>
#include <map>
#include <string>

// The README's quickstart, with a stand-in HTTP client, on the real steady clock: nothing here
// waits, since the first request on a route is always granted.

namespace drl = discord_ratelimit;

TEST_CASE("the README's quickstart compiles and runs with std::chrono::steady_clock", "[readme]")
{
    drl::engine<std::chrono::steady_clock> limiter;
    const auto route = drl::make_route("POST", "https://discord.com/api/v10/channels/1/messages");
    const auto r = limiter.acquire(route, std::chrono::steady_clock::now());
    REQUIRE(r.granted());
    const std::map<std::string, std::string> headers{{"X-RateLimit-Limit", "5"},
                                                     {"X-RateLimit-Remaining", "4"},
                                                     {"X-RateLimit-Reset-After", "5.000"},
                                                     {"X-RateLimit-Bucket", "abcd1234"}};
    const auto c = limiter.complete(r.ticket, 200, headers, "{}", std::chrono::steady_clock::now());
    CHECK(c.status == drl::completion_status::done);
    CHECK(limiter.stats(std::chrono::steady_clock::now()).routes == 1);
}

TEST_CASE("a string that is not a Discord API path is a clear error", "[readme]")
{
    CHECK_THROWS_AS(drl::make_route("GET", "https://example.com/index.html"), std::system_error);
    CHECK_FALSE(drl::parse_route("GET", "hello world").ok());
}
