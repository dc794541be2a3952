#include <discord_ratelimit/bucket_registry.hpp>

#include "catch.hpp"

#include <chrono>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock;
using registry_type = drl::bucket_registry<clock_type>;

namespace {
const clock_type::time_point t0{};
drl::bucket_hash hash(std::string_view text)
{
    return *drl::bucket_hash::from(text);
}
} // namespace

TEST_CASE("a route without a learned hash gets a provisional bucket per major parameter",
          "[registry]")
{
    registry_type registry;
    const auto a = registry.resolve(drl::make_route("POST", "/channels/1/messages"), t0);
    const auto b = registry.resolve(drl::make_route("POST", "/channels/2/messages"), t0);
    CHECK(a.provisional);
    CHECK_FALSE(a == b);
    CHECK(a == registry.resolve(drl::make_route("POST", "/channels/1/messages?x=1"), t0));
}

TEST_CASE("routes that learned one hash resolve to one bucket per major parameter", "[registry]")
{
    registry_type registry;
    const auto edit = drl::make_route("PATCH", "/channels/1/messages/5");
    const auto del = drl::make_route("DELETE", "/channels/1/messages/6");
    CHECK(registry.learn(edit, hash("h"), t0).what == registry_type::learned::discovered);
    CHECK(registry.learn(del, hash("h"), t0).what == registry_type::learned::discovered);
    CHECK(registry.resolve(edit, t0) == registry.resolve(del, t0));
    CHECK_FALSE(registry.resolve(edit, t0).provisional);
    CHECK_FALSE(registry.resolve(edit, t0) ==
                registry.resolve(drl::make_route("PATCH", "/channels/2/messages/5"), t0));
}

TEST_CASE("a changed hash is reported with the one before", "[registry]")
{
    registry_type registry;
    const auto del = drl::make_route("DELETE", "/channels/1/messages/6");
    registry.learn(del, hash("first"), t0);
    CHECK(registry.learn(del, hash("first"), t0).what == registry_type::learned::unchanged);
    const auto changed = registry.learn(del, hash("second"), t0);
    CHECK(changed.what == registry_type::learned::changed);
    REQUIRE(changed.before);
    CHECK(changed.before->view() == "first");
}

TEST_CASE("learned hashes expire after their lifetime and idle routes are forgotten", "[registry]")
{
    registry_type::config c;
    c.hash_lifetime = 1h;
    c.route_idle = 10min;
    registry_type registry{c};
    const auto a = drl::make_route("GET", "/guilds/1");
    const auto b = drl::make_route("GET", "/users/@me");
    registry.learn(a, hash("a"), t0);
    registry.learn(b, hash("b"), t0);
    for (auto t = t0; t < t0 + 59min; t += 5min) {
        registry.resolve(a, t); // used, never confirmed again
        registry.evict(t, [](const auto&, const auto&) { return false; });
    }
    CHECK(registry.route_count() == 1); // b went idle
    registry.evict(t0 + 1h, [](const auto&, const auto&) { return false; });
    CHECK(registry.route_count() == 0); // a's hash outlived its lifetime
}

TEST_CASE("idle buckets are evicted, busy ones kept", "[registry]")
{
    registry_type::config c;
    c.bucket_idle = 1min;
    registry_type registry{c};
    const auto id = registry.resolve(drl::make_route("GET", "/guilds/1"), t0);
    auto& entry = registry.bucket(id);
    entry.state.on_grant(t0);
    registry.evict(t0 + 10min, [](const auto&, const auto&) { return false; });
    CHECK(registry.bucket_count() == 1); // in flight
    entry.state.on_lost(t0 + 10min);
    registry.evict(t0 + 10min, [](const auto&, const auto&) { return false; });
    CHECK(registry.bucket_count() == 1); // used just now
    registry.evict(t0 + 11min, [](const auto&, const auto&) { return true; });
    CHECK(registry.bucket_count() == 1); // vetoed
    registry.evict(t0 + 11min, [](const auto&, const auto&) { return false; });
    CHECK(registry.bucket_count() == 0);
}
