#include <discord_ratelimit/global_limiter.hpp>

#include "catch.hpp"

#include <chrono>
#include <stdexcept>

using namespace std::chrono_literals;
using discord_ratelimit::manual_clock;
using limiter = discord_ratelimit::global_limiter<manual_clock>;

namespace {
const manual_clock::time_point t0{};
}

TEST_CASE("the global limit allows its full burst at once", "[global]")
{
    limiter g{50};
    int sent = 0;
    while (g.may_send(t0)) {
        g.on_send();
        ++sent;
    }
    CHECK(sent == 50);
}

TEST_CASE("a request holds its global slot until one second after its response", "[global]")
{
    limiter g{2};
    g.on_send();
    g.on_send();
    CHECK_FALSE(g.may_send(t0));
    CHECK_FALSE(g.next_free(t0).has_value()); // every slot waits for a response
    g.on_response(t0 + 300ms);
    CHECK_FALSE(g.may_send(t0 + 1299ms));
    REQUIRE(g.next_free(t0 + 300ms));
    CHECK(*g.next_free(t0 + 300ms) == t0 + 1300ms);
    CHECK(g.may_send(t0 + 1300ms));
}

TEST_CASE("no rolling second of arrivals holds more than the limit whatever the latency",
          "[global]")
{
    // Requests sent as soon as allowed, each with its own latency; arrival lies between send and
    // response. Count the worst rolling second of arrivals at the server.
    limiter g{5};
    std::vector<manual_clock::time_point> arrivals;
    std::vector<std::pair<manual_clock::time_point, manual_clock::time_point>>
        in_flight; // response, arrival
    auto now = t0;
    const std::chrono::milliseconds latencies[] = {10ms, 400ms, 900ms, 30ms, 1500ms, 5ms, 700ms};
    std::size_t n = 0;
    while (arrivals.size() < 200) {
        std::sort(in_flight.begin(), in_flight.end());
        while (!in_flight.empty() && in_flight.front().first <= now) {
            g.on_response(in_flight.front().first);
            arrivals.push_back(in_flight.front().second);
            in_flight.erase(in_flight.begin());
        }
        while (g.may_send(now)) {
            g.on_send();
            const auto latency = latencies[n++ % std::size(latencies)];
            // Worst cases for the server: arrive at once, or just before the response.
            const auto arrival = (n % 2 == 0) ? now : now + latency;
            in_flight.emplace_back(now + latency, arrival);
        }
        now += 1ms;
    }
    std::sort(arrivals.begin(), arrivals.end());
    std::size_t worst = 0;
    for (std::size_t i = 0, j = 0; j < arrivals.size(); ++j) {
        while (arrivals[j] - arrivals[i] >= 1s)
            ++i;
        worst = std::max(worst, j - i + 1);
    }
    CHECK(worst <= 5);
}

TEST_CASE("a global 429 pauses until its retry time", "[global]")
{
    limiter g{50};
    g.pause_until(t0 + 2s);
    CHECK_FALSE(g.may_send(t0 + 1s));
    REQUIRE(g.next_free(t0));
    CHECK(*g.next_free(t0) == t0 + 2s);
    CHECK(g.may_send(t0 + 2s));
}

TEST_CASE("a cancelled send frees its slot at once", "[global]")
{
    limiter g{1};
    g.on_send();
    CHECK_FALSE(g.may_send(t0));
    g.on_cancel();
    CHECK(g.may_send(t0));
}

TEST_CASE("a global limit of zero is a clear error", "[global]")
{
    CHECK_THROWS_AS(limiter{0}, std::invalid_argument);
    CHECK_THROWS_AS((limiter{5, manual_clock::duration{-1}}), std::invalid_argument);
}

TEST_CASE("a huge global limit, meant as none, allocates nothing up front", "[global]")
{
    // 2^32 - 1 slots reserved ahead would be 32 GiB: the limiter must start small and still pace.
    limiter global{0xFFFF'FFFFU};
    for (int i = 0; i < 10'000; ++i) {
        REQUIRE(global.may_send(t0));
        global.on_send();
    }
    CHECK(global.may_send(t0));
}
