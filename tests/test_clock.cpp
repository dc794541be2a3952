#include <discord_ratelimit/clock.hpp>

#include "catch.hpp"

#include <chrono>

using namespace std::chrono_literals;

namespace {
struct test_clock_tag {};
using clock_type = discord_ratelimit::basic_manual_clock<test_clock_tag>;
} // namespace

TEST_CASE("manual_clock moves only when told and never backwards", "[clock]")
{
    clock_type::reset();
    const auto start = clock_type::now();
    CHECK(clock_type::now() == start);
    clock_type::advance(1500ms);
    CHECK(clock_type::now() - start == 1500ms);
    clock_type::advance(-1s);
    CHECK(clock_type::now() - start == 1500ms);
    clock_type::advance_to(start + 1s);
    CHECK(clock_type::now() - start == 1500ms);
    clock_type::advance_to(start + 3s);
    CHECK(clock_type::now() - start == 3s);
    clock_type::reset();
}

TEST_CASE("each manual_clock tag is an independent clock", "[clock]")
{
    clock_type::reset();
    discord_ratelimit::manual_clock::reset();
    clock_type::advance(1h);
    CHECK(discord_ratelimit::manual_clock::now().time_since_epoch() == 0s);
    clock_type::reset();
}

TEST_CASE("std::chrono clocks satisfy the Clock concept", "[clock]")
{
    STATIC_REQUIRE(discord_ratelimit::clock<std::chrono::steady_clock>);
    STATIC_REQUIRE(discord_ratelimit::clock<std::chrono::system_clock>);
    STATIC_REQUIRE(discord_ratelimit::clock<clock_type>);
    STATIC_REQUIRE_FALSE(discord_ratelimit::clock<int>);
}
