// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/testing/simulation.hpp>

#include "catch.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock;
using server_type = drl::testing::simulated_discord<clock_type>;

namespace {
server_type::config busy_rules()
{
    server_type::config c;
    c.global_limit = 6;
    c.default_rule.limit = 2;
    c.default_rule.window = 1s;
    c.name_edit_limit = 1;
    c.shared_limits.push_back({"GET /guilds/{guild_id}/members/{id}", 2, 1500ms});
    c.record_arrivals = true;
    return c;
}

void check_same(const server_type::reply& expected, const server_type::reply_view& actual)
{
    REQUIRE(actual.status == expected.status);
    REQUIRE(actual.body == expected.body);
    REQUIRE(actual.headers.size() == expected.headers.size());
    for (std::size_t i = 0; i < expected.headers.size(); ++i) {
        CHECK(actual.headers[i].first == expected.headers[i].first);
        CHECK(actual.headers[i].second == expected.headers[i].second);
    }
}
} // namespace

TEST_CASE("an answer into a recycled reply_view is the answer handle gives", "[simulated]")
{
    server_type by_value{busy_rules()};
    server_type into_view{busy_rules()};
    server_type::reply_view view;
    const auto message = drl::make_route("POST", "/api/v10/channels/1/messages");
    const auto member = drl::make_route("GET", "/api/v10/guilds/2/members/3");
    const auto edit = drl::make_route("PATCH", "/api/v10/channels/4");
    const auto callback =
        drl::make_route("POST", "/api/v10/interactions/5/aW50ZXJhY3Rpb246dG9rZW4/callback");
    const drl::testing::request_info rename{"", R"({"name": "general"})"};
    auto now = clock_type::time_point{} + 1h;
    // 200s, a user 429, a global 429, shared 429s, the sub-limit, an injected answer, ban pages
    // and an exempt route, one after the other into the same view.
    const std::vector<const drl::route*> order{&message, &message, &message, &member,  &member,
                                               &edit,    &edit,    &member,  &callback};
    for (int round = 0; round < 3; ++round) {
        for (const drl::route* r : order) {
            now += 100ms;
            const drl::testing::request_info info =
                r == &edit ? rename : drl::testing::request_info{};
            const auto expected = by_value.handle(*r, now, info);
            into_view.handle_into(*r, now, view, info);
            check_same(expected, view);
        }
        by_value.inject({503, {{"content-type", "text/plain"}, {"x-fault", "yes"}}, "later"});
        into_view.inject({503, {{"content-type", "text/plain"}, {"x-fault", "yes"}}, "later"});
        if (round == 1) {
            by_value.ban(drl::testing::ban_page::json);
            into_view.ban(drl::testing::ban_page::json);
        } else {
            by_value.lift_ban();
            into_view.lift_ban();
        }
    }
    const auto& a = by_value.seen();
    const auto& b = into_view.seen();
    CHECK(a.ok == b.ok);
    CHECK(a.user_429 == b.user_429);
    CHECK(a.global_429 == b.global_429);
    CHECK(a.shared_429 == b.shared_429);
    CHECK(a.sub_limit_429 == b.sub_limit_429);
    CHECK(a.banned == b.banned);
    CHECK(a.user_429 > 0);
    CHECK(a.global_429 > 0);
    CHECK(a.shared_429 > 0);
    CHECK(a.sub_limit_429 > 0);
    CHECK(a.banned > 0);
    CHECK(by_value.windows().size() == into_view.windows().size());
    CHECK(by_value.arrivals().size() == into_view.arrivals().size());
}

TEST_CASE("decimal seconds of negative and large durations", "[simulated]")
{
    CHECK(server_type::decimal_seconds(-1500us) == "-0.001");
    CHECK(server_type::decimal_seconds(-2s) == "-2.000");
    CHECK(server_type::decimal_seconds(1'700'000'123'456'789us) == "1700000123.457");
    CHECK(server_type::decimal_seconds(0s) == "0.000");
}

TEST_CASE("simulate delivers transfers in the order they come due, ties in the order sent",
          "[simulation]")
{
    drl::engine<clock_type> engine;
    server_type::config c;
    c.record_arrivals = true;
    server_type server{c};
    std::vector<drl::route> work;
    for (int channel = 1; channel <= 4; ++channel)
        work.push_back(
            drl::make_route("POST", "/api/v10/channels/" + std::to_string(channel) + "/messages"));
    // All four go at once; the first travels longest, the others arrive together.
    const auto start = clock_type::time_point{} + 1h;
    const auto result = drl::testing::simulate(engine, server, work, start, [](std::size_t n) {
        return n == 0 ? clock_type::duration{200ms} : clock_type::duration{40ms};
    });
    REQUIRE(result.succeeded == 4);
    const auto& arrivals = server.arrivals();
    REQUIRE(arrivals.size() == 4);
    CHECK(arrivals[0].major == 2);
    CHECK(arrivals[1].major == 3);
    CHECK(arrivals[2].major == 4);
    CHECK(arrivals[3].major == 1);
    CHECK(arrivals[0].at == start + 20ms);
    CHECK(arrivals[3].at == start + 100ms);
}
