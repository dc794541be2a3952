#include <discord_ratelimit/bucket_registry.hpp>

#include "catch.hpp"

#include <chrono>
#include <vector>

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
        registry.evict(t, [](const auto&) { return false; });
    }
    CHECK(registry.route_count() == 1); // b went idle
    registry.evict(t0 + 1h, [](const auto&) { return false; });
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
    registry.evict(t0 + 10min, [](const auto&) { return false; });
    CHECK(registry.bucket_count() == 1); // in flight
    entry.state.on_lost(t0 + 10min);
    registry.evict(t0 + 10min, [](const auto&) { return false; });
    CHECK(registry.bucket_count() == 1); // used just now
    registry.evict(t0 + 11min, [](const auto&) { return true; });
    CHECK(registry.bucket_count() == 1); // vetoed
    registry.evict(t0 + 11min, [](const auto&) { return false; });
    CHECK(registry.bucket_count() == 0);
}

namespace {
using store_type = drl::memory_store<clock_type>;
drl::bucket_id channel_bucket(std::uint64_t channel)
{
    return {0x1234, {drl::major_kind::channel, channel, 0}, false};
}
} // namespace

TEST_CASE("the store tells apart ids that differ in any field", "[registry]")
{
    store_type store;
    const drl::bucket_id base{7, {drl::major_kind::webhook, 9, 11}, false};
    std::vector<drl::bucket_id> ids{base};
    ids.push_back({8, base.major, false});
    ids.push_back({7, {drl::major_kind::channel, 9, 11}, false});
    ids.push_back({7, {drl::major_kind::webhook, 10, 11}, false});
    ids.push_back({7, {drl::major_kind::webhook, 9, 12}, false});
    ids.push_back({7, base.major, true});
    for (std::uint32_t i = 0; i < ids.size(); ++i)
        store.bucket(ids[i]).queued = i + 1;
    CHECK(store.bucket_count() == ids.size());
    for (std::uint32_t i = 0; i < ids.size(); ++i) {
        REQUIRE(store.find_bucket(ids[i]) != nullptr);
        CHECK(store.find_bucket(ids[i])->queued == i + 1);
    }
    store.erase_bucket(ids[2]);
    CHECK(store.find_bucket(ids[2]) == nullptr);
    CHECK(store.find_bucket(ids[3])->queued == 4);
}

TEST_CASE("entries keep their address while others are added", "[registry]")
{
    store_type store;
    auto& first = store.bucket(channel_bucket(0));
    first.queued = 42;
    for (std::uint64_t c = 1; c < 5000; ++c)
        store.bucket(channel_bucket(c));
    CHECK(&store.bucket(channel_bucket(0)) == &first);
    CHECK(first.queued == 42);
}

TEST_CASE("erasing most buckets compacts the store and keeps the rest intact", "[registry]")
{
    store_type store;
    constexpr std::uint32_t count = 3000;
    for (std::uint32_t c = 0; c < count; ++c)
        store.bucket(channel_bucket(c)).queued = c;
    // Keep every fourth: the survivors move to the lowest slots.
    CHECK(store.erase_buckets_if([](const auto& e) { return e.queued % 4 != 0; }) ==
          count - count / 4);
    CHECK(store.bucket_count() == count / 4);
    for (std::uint32_t c = 0; c < count; ++c) {
        const auto* e = store.find_bucket(channel_bucket(c));
        if (c % 4 == 0) {
            REQUIRE(e != nullptr);
            CHECK(e->queued == c);
        } else {
            CHECK(e == nullptr);
        }
    }
    // New buckets and old ones live side by side after the move.
    store.bucket(channel_bucket(count)).queued = 7;
    CHECK(store.find_bucket(channel_bucket(count))->queued == 7);
    CHECK(store.find_bucket(channel_bucket(8))->queued == 8);
    CHECK(store.erase_buckets_if([](const auto&) { return true; }) == count / 4 + 1);
    CHECK(store.bucket_count() == 0);
    CHECK(store.find_bucket(channel_bucket(8)) == nullptr);
    store.bucket(channel_bucket(1)).queued = 1;
    CHECK(store.bucket_count() == 1);
}

TEST_CASE("a moved store keeps its buckets", "[registry]")
{
    store_type store;
    for (std::uint32_t c = 0; c < 300; ++c)
        store.bucket(channel_bucket(c)).queued = c;
    store_type moved{std::move(store)};
    CHECK(moved.bucket_count() == 300);
    CHECK(moved.find_bucket(channel_bucket(299))->queued == 299);
    moved.bucket(channel_bucket(300)).queued = 300;
    CHECK(moved.find_bucket(channel_bucket(300))->queued == 300);
}

TEST_CASE("a bucket entry fits the 96 bytes the memory per bucket is counted with", "[registry]")
{
    // BENCHMARKS.md and memory_store's documentation count 96 bytes of entry in a 112-byte slot.
    CHECK(sizeof(drl::discord_bucket<clock_type>) == 72);
    CHECK(sizeof(drl::bucket_entry<clock_type>) == 96);
}
