#include <discord_ratelimit/testing/simulated_discord.hpp>

#include "catch.hpp"

#include <chrono>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock;
using server_type = drl::testing::simulated_discord<clock_type>;

namespace {
std::string header(const server_type::reply& r, std::string_view name)
{
    for (const auto& [k, v] : r.headers)
        if (k == name)
            return v;
    return "";
}
} // namespace

TEST_CASE("the simulated Discord enforces fixed windows per bucket and major parameter",
          "[simulated]")
{
    server_type::config c;
    c.routes["POST /channels/{channel_id}/messages"] = {"messages", 2, 5s};
    server_type server{c};
    const auto r = drl::make_route("POST", "/channels/1/messages");
    const clock_type::time_point t0{};
    CHECK(server.handle(r, t0).status == 200);
    const auto second = server.handle(r, t0 + 1s);
    CHECK(header(second, "x-ratelimit-remaining") == "0");
    CHECK(header(second, "x-ratelimit-reset-after") == "4.000");
    CHECK(header(second, "x-ratelimit-bucket") == "messages");
    const auto third = server.handle(r, t0 + 2s);
    CHECK(third.status == 429);
    CHECK(header(third, "x-ratelimit-scope") == "user");
    CHECK(server.handle(drl::make_route("POST", "/channels/2/messages"), t0 + 2s).status == 200);
    CHECK(server.handle(r, t0 + 5s).status == 200);
    CHECK(server.seen().user_429 == 1);
}

TEST_CASE("the simulated Discord checks the global limit over every rolling window", "[simulated]")
{
    server_type::config c;
    c.global_limit = 2;
    server_type server{c};
    const clock_type::time_point t0{};
    CHECK(server.handle(drl::make_route("GET", "/channels/1"), t0 + 900ms).status == 200);
    CHECK(server.handle(drl::make_route("GET", "/channels/2"), t0 + 1100ms).status == 200);
    const auto third = server.handle(drl::make_route("GET", "/channels/3"), t0 + 1500ms);
    CHECK(third.status == 429); // a fixed window anchored at 0 would have let it through
    CHECK(header(third, "x-ratelimit-global") == "true");
    CHECK(server
              .handle(drl::make_route("POST", "/interactions/1/aW50ZXJhY3Rpb246x/callback"),
                      t0 + 1500ms)
              .status == 200);
}

TEST_CASE("decimal seconds are printed with milliseconds, rounded up", "[simulated]")
{
    CHECK(server_type::decimal_seconds(64570ms) == "64.570");
    CHECK(server_type::decimal_seconds(1ns) == "0.001");
    CHECK(server_type::decimal_seconds(0ns) == "0.000");
}

TEST_CASE("the simulated Discord keeps an arrival log only when asked", "[simulated]")
{
    server_type::config c;
    c.routes["POST /channels/{channel_id}/messages"] = {"messages", 1, 5s};
    const auto r = drl::make_route("POST", "/channels/7/messages");
    const clock_type::time_point t0{};
    {
        server_type quiet{c};
        quiet.handle(r, t0);
        CHECK(quiet.arrivals().empty());
    }
    c.record_arrivals = true;
    server_type server{c};
    server.handle(r, t0);
    server.handle(r, t0 + 1s);
    server.handle(drl::make_route("POST", "/interactions/1/tok/callback"), t0 + 2s);
    const auto& log = server.arrivals();
    REQUIRE(log.size() == 3);
    CHECK(log[0].at == t0);
    CHECK(log[0].hash == "messages");
    CHECK(log[0].major == 7);
    CHECK(log[0].status == 200);
    CHECK(log[1].status == 429);
    CHECK(log[2].global_exempt);
    CHECK_FALSE(log[0].global_exempt);
}
