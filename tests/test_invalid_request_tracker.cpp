#include <discord_ratelimit/invalid_request_tracker.hpp>

#include "catch.hpp"

#include <chrono>

using namespace std::chrono_literals;
using discord_ratelimit::manual_clock;

TEST_CASE("invalid requests are counted over a sliding 10 minutes", "[invalid]")
{
    discord_ratelimit::invalid_request_tracker<manual_clock> tracker;
    const manual_clock::time_point t0{};
    for (int i = 0; i < 10; ++i)
        tracker.record(t0 + std::chrono::seconds{i * 60});
    CHECK(tracker.count(t0 + 9min) == 10);
    CHECK(tracker.count(t0 + 10min) == 9); // the one of second 0 left
    CHECK(tracker.count(t0 + 14min + 30s) == 5);
    CHECK(tracker.count(t0 + 2h) == 0);
}

TEST_CASE("a clock that goes backwards keeps counting in the current second", "[invalid]")
{
    discord_ratelimit::invalid_request_tracker<manual_clock> tracker;
    const manual_clock::time_point t0{100s};
    tracker.record(t0);
    tracker.record(t0 - 50s);
    CHECK(tracker.count(t0) == 2);
}
