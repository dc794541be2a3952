#include <discord_ratelimit/testing/simulation.hpp>

#include "catch.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

// Scenarios: the engine drives a workload against the in-process simulated Discord on the fake
// clock. Zero 429s, and every window the server opens is used to its limit.

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock;
using time_point = clock_type::time_point;
using server_type = drl::testing::simulated_discord<clock_type>;
using engine_type = drl::engine<clock_type>;

namespace {

const time_point t0{};

/// Every request submitted at t0; checks that nothing hung.
drl::testing::simulation_result<clock_type>
run(engine_type& engine, server_type& server, const std::vector<drl::route>& requests,
    const std::function<clock_type::duration(std::size_t)>& latency)
{
    auto result = drl::testing::simulate(engine, server, requests, t0, latency);
    REQUIRE_FALSE(result.hung);
    return result;
}

drl::route route_of(std::string_view method, const std::string& path)
{
    return drl::make_route(method, path);
}

auto fixed(clock_type::duration d)
{
    return [d](std::size_t) {
        return d;
    };
}

/// 20 ms to 400 ms, deterministic.
clock_type::duration jittery(std::size_t i)
{
    const std::uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ULL;
    return std::chrono::milliseconds{20 + static_cast<long>((x >> 40) % 381)};
}

server_type::config server_config()
{
    server_type::config c;
    c.routes["POST /channels/{channel_id}/messages"] = {"messages", 5, 5s};
    c.routes["PATCH /channels/{channel_id}/messages/{id}"] = {"edits", 5, 5s};
    c.routes["DELETE /channels/{channel_id}/messages/{id}"] = {"edits", 5, 5s};
    c.routes["PUT|DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/{user}"] = {
        "reactions", 1, 250ms};
    c.routes["POST /interactions/{interaction_id}/{interaction_token}/callback"] = {"callback", 5,
                                                                                    1s};
    c.default_rule = {"", 5, 5s};
    return c;
}

void check_every_window_full(const server_type& server, std::string_view hash)
{
    const auto& windows = server.windows();
    std::vector<std::uint32_t> used;
    for (const auto& w : windows)
        if (w.hash == hash)
            used.push_back(w.used);
    REQUIRE_FALSE(used.empty());
    for (std::size_t i = 0; i + 1 < used.size(); ++i) // the last window may hold the remainder
        CHECK(used[i] == windows.front().limit);
}

} // namespace

TEST_CASE("scenario: a channel-bound burst uses every window fully with zero 429s", "[scenario]")
{
    server_type server{server_config()};
    engine_type engine;
    std::vector<drl::route> requests(20, route_of("POST", "/channels/1/messages"));
    const auto result = run(engine, server, requests, fixed(0ms));
    CHECK(result.succeeded == 20);
    CHECK(server.seen().rate_limited() == 0);
    check_every_window_full(server, "messages");
    CHECK(result.last_response == t0 + 15s); // 4 windows of 5: the theoretical minimum
}

TEST_CASE("scenario: two routes sharing a hash share one limit with zero 429s", "[scenario]")
{
    server_type server{server_config()};
    engine_type engine;
    std::vector<drl::route> requests;
    for (int i = 0; i < 10; ++i) {
        requests.push_back(route_of("PATCH", "/channels/1/messages/" + std::to_string(1000 + i)));
        requests.push_back(route_of("DELETE", "/channels/1/messages/" + std::to_string(2000 + i)));
    }
    const auto result = run(engine, server, requests, fixed(0ms));
    CHECK(result.succeeded == 20);
    CHECK(server.seen().rate_limited() == 0);
    check_every_window_full(server, "edits");
    CHECK(result.last_response == t0 + 15s);
}

TEST_CASE("scenario: a global-bound fan-out uses the full burst each second with zero 429s",
          "[scenario]")
{
    server_type server{server_config()};
    engine_type engine;
    std::vector<drl::route> requests;
    for (int channel = 1; channel <= 150; ++channel)
        requests.push_back(route_of("POST", "/channels/" + std::to_string(channel) + "/messages"));
    const auto result = run(engine, server, requests, fixed(0ms));
    CHECK(result.succeeded == 150);
    CHECK(server.seen().rate_limited() == 0);
    CHECK(result.last_response == t0 + 2s); // 50 at 0 s, 50 at 1 s, 50 at 2 s
}

TEST_CASE("scenario: a mixed workload under jittery latency earns zero 429s", "[scenario]")
{
    server_type server{server_config()};
    engine_type engine;
    std::vector<drl::route> requests;
    for (int i = 0; i < 400; ++i) {
        const std::string channel = std::to_string(1 + i % 40);
        switch (i % 5) {
        case 0: requests.push_back(route_of("POST", "/channels/" + channel + "/messages")); break;
        case 1:
            requests.push_back(route_of("PATCH", "/channels/" + channel + "/messages/" +
                                                     std::to_string(5000 + i)));
            break;
        case 2:
            requests.push_back(route_of("DELETE", "/channels/" + channel + "/messages/" +
                                                      std::to_string(6000 + i)));
            break;
        case 3:
            requests.push_back(
                route_of(i % 2 ? "PUT" : "DELETE",
                         "/channels/" + channel + "/messages/77/reactions/%F0%9F%91%8D/@me"));
            break;
        default:
            requests.push_back(route_of("POST", "/interactions/" + std::to_string(9000 + i) +
                                                    "/aW50ZXJhY3Rpb246token" + std::to_string(i) +
                                                    "/callback"));
        }
    }
    const auto result = run(engine, server, requests, jittery);
    CHECK(result.succeeded == requests.size());
    CHECK(result.failed == 0);
    CHECK(server.seen().rate_limited() == 0);
    CHECK(engine.stats(result.last_response).rate_limited_total() == 0);
}
