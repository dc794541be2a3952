// Scheduling rules of the engine when global slots are scarce: which request gets a slot, and
// when a slot is kept free for a bucket whose window is about to reopen. Fake clock only.
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>
#include <discord_ratelimit/testing/simulation.hpp>

#include "catch.hpp"
#include "engine_test_support.hpp"
#include "test_support.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

namespace {

using namespace engine_test;
using drl::acquire_status;
using drl::completion_status;
using test_support::bucket_headers;

drl::route message_to(std::uint64_t channel)
{
    return drl::make_route("POST", "/channels/" + std::to_string(channel) + "/messages");
}

drl::engine_config<clock_type> global_limit_of(std::uint32_t limit, bool reserve = true)
{
    drl::engine_config<clock_type> config;
    config.global_limit = limit;
    config.reserve_global_slots = reserve;
    return config;
}

/// Channel 1 sent one message at t0 (answered at once: 1 per `reset_after`, spent) and queues
/// `more`: a chain of windows waiting for its reset, with the first global slot held until 1 s.
std::vector<drl::ticket_id> spend_channel_one(engine_type& e, const std::string& reset_after,
                                              int more)
{
    const auto first = e.acquire(message_to(1), t0);
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(1, 0, reset_after), "{}", t0).status ==
            completion_status::done);
    std::vector<drl::ticket_id> chain;
    for (int n = 0; n < more; ++n) {
        const auto r = e.acquire(message_to(1), t0);
        REQUIRE(r.status == acquire_status::waiting);
        chain.push_back(r.ticket);
    }
    return chain;
}

} // namespace

TEST_CASE("rule: a request leaves the global slots that a more urgent bucket needs at its reset",
          "[engine][schedule]")
{
    // Global limit 2: one slot is held until 1 s by channel 1's first message. Channel 1 resets
    // at 0.5 s with 3 windows to go; a single message on channel 2 at 0.1 s would hold the other
    // slot past 0.5 s, so it waits.
    engine_type e{global_limit_of(2)};
    const auto chain = spend_channel_one(e, "0.5", 3);
    const auto single = e.acquire(message_to(2), t0 + 100ms);
    CHECK(single.status == acquire_status::waiting);
    CHECK(granted_by_advance(e, t0 + 499ms).empty());

    // At the reset the chain's next request takes the slot kept for it.
    const auto at_reset = granted_by_advance(e, t0 + 500ms);
    REQUIRE(at_reset.size() == 1);
    CHECK(at_reset.front() == chain.front());
    CHECK(e.next_wakeup().has_value());
}

TEST_CASE("rule: without the reservation the single request takes the slot and the chain waits",
          "[engine][schedule]")
{
    engine_type e{global_limit_of(2, false)};
    spend_channel_one(e, "0.5", 3);
    CHECK(e.acquire(message_to(2), t0 + 100ms).granted());
    CHECK(granted_by_advance(e, t0 + 500ms).empty()); // both slots held past 0.5 s
}

TEST_CASE("rule: a reservation holds back nothing while enough slots stay free for the reset",
          "[engine][schedule]")
{
    // Global limit 3: after the single message, one slot is still free at 0.5 s.
    engine_type e{global_limit_of(3)};
    const auto chain = spend_channel_one(e, "0.5", 3);
    CHECK(e.acquire(message_to(2), t0 + 100ms).granted());
    const auto at_reset = granted_by_advance(e, t0 + 500ms);
    REQUIRE(at_reset.size() == 1);
    CHECK(at_reset.front() == chain.front());
}

TEST_CASE("rule: a reset more than one global window ahead reserves nothing", "[engine][schedule]")
{
    // A slot granted now may be free again by then: keeping it idle would only cost.
    engine_type e{global_limit_of(2)};
    spend_channel_one(e, "1.5", 3);
    CHECK(e.acquire(message_to(2), t0 + 100ms).granted());
}

TEST_CASE("rule: a chain shorter than the other waiting requests' global backlog reserves nothing",
          "[engine][schedule]")
{
    // Global limit 3. Channel 5's probe is in flight with 9 requests behind it: 10 waiting
    // requests besides the chain need 3 s of global slots, more than channel 1's 1.4 s chain.
    // The global limit sets the span then: the single message takes the last slot at once.
    engine_type e{global_limit_of(3)};
    spend_channel_one(e, "0.5", 3);
    REQUIRE(e.acquire(message_to(5), t0).granted());
    for (int n = 0; n < 9; ++n)
        REQUIRE(e.acquire(message_to(5), t0).status == acquire_status::waiting);
    CHECK(e.acquire(message_to(2), t0 + 100ms).granted());
}

TEST_CASE("rule: a bucket that ranks below the request reserves nothing for it",
          "[engine][schedule]")
{
    // Channel 1 resets at 0.5 s with one request left; channel 2's bucket (known: 1 per 5 s,
    // spent until 0.1 s) has 6 windows to go. Channel 2 ranks first and takes the slot.
    engine_type e{global_limit_of(3)};
    spend_channel_one(e, "0.5", 1);
    const auto probe = e.acquire(message_to(2), t0);
    REQUIRE(probe.granted());
    REQUIRE(e.complete(probe.ticket, 200, bucket_headers(1, 0, "0.1"), "{}", t0).status ==
            completion_status::done);
    std::vector<drl::ticket_id> long_chain;
    for (int n = 0; n < 6; ++n)
        long_chain.push_back(e.acquire(message_to(2), t0).ticket);
    const auto granted = granted_by_advance(e, t0 + 100ms);
    REQUIRE(granted.size() == 1);
    CHECK(granted.front() == long_chain.front());
}

TEST_CASE("rule: a request held for a reservation is granted once the reset has passed",
          "[engine][schedule]")
{
    // Nothing hangs: the held request wakes at the reservation's time and takes the next slot.
    engine_type e{global_limit_of(2)};
    const auto chain = spend_channel_one(e, "0.5", 1);
    const auto single = e.acquire(message_to(2), t0 + 100ms);
    REQUIRE(single.status == acquire_status::waiting);
    const auto at_reset = granted_by_advance(e, t0 + 500ms);
    REQUIRE(at_reset == chain);
    REQUIRE(e.complete(chain.front(), 200, bucket_headers(1, 0, "0.5"), "{}", t0 + 500ms).status ==
            completion_status::done);
    // Both slots are held until 1 s (the first message) and 1.5 s (the chain's second).
    CHECK(granted_by_advance(e, t0 + 999ms).empty());
    const auto later = granted_by_advance(e, t0 + 1s);
    REQUIRE(later.size() == 1);
    CHECK(later.front() == single.ticket);
}

TEST_CASE("rule: cancelling a granted request lets a held one look again", "[engine][schedule]")
{
    engine_type e{global_limit_of(3)};
    spend_channel_one(e, "0.5", 3);
    const auto other = e.acquire(message_to(3), t0 + 50ms);
    REQUIRE(other.granted());
    const auto single = e.acquire(message_to(2), t0 + 100ms);
    REQUIRE(single.status == acquire_status::waiting);
    REQUIRE(!e.cancel(other.ticket, t0 + 200ms));
    const auto granted = granted_by_advance(e, t0 + 200ms);
    REQUIRE(granted.size() == 1);
    CHECK(granted.front() == single.ticket);
}

namespace {

/// Messages: 1 per 1 s per channel; edits: 1 per 1.5 s per channel; a global limit of `global`
/// per second on both sides.
server_type::config messages_and_edits(std::uint32_t global)
{
    server_type::config config;
    config.global_limit = global;
    config.record_arrivals = true;
    config.routes["POST /channels/{channel_id}/messages"] = {"messages", 1, 1s};
    config.routes["PATCH /channels/{channel_id}/messages/{id}"] = {"edits", 1, 1500ms};
    return config;
}

drl::route edit_on(std::uint64_t channel)
{
    return drl::make_route("PATCH", "/channels/" + std::to_string(channel) + "/messages/5");
}

/// The arrival times of channel `major`'s requests on bucket `hash` from `from` on.
std::vector<time_point> arrivals_on(const server_type& server, std::uint64_t major,
                                    const std::string& hash, time_point from)
{
    std::vector<time_point> out;
    for (const auto& a : server.arrivals())
        if (a.major == major && a.hash == hash && a.at >= from)
            out.push_back(a.at);
    return out;
}

} // namespace

TEST_CASE("rule: with the global limit saturated, a chain of windows goes at every reset",
          "[engine][schedule]")
{
    // Channel 1: 12 edits, windows of 1 per 1.5 s (16.5 s, the critical path); 60 one-request
    // channels keep the global limit of 5 per second busy for 12 s, their slots freeing every
    // 1.02 s, out of step with the chain's resets. Each window can open only one window plus one
    // round trip after the previous one opened; with slots kept for its resets, it never opens
    // later.
    const duration rtt = 20ms;
    for (const bool reserve : {true, false}) {
        engine_type e{global_limit_of(5, reserve)};
        server_type server{messages_and_edits(5)};
        std::vector<drl::route> warm_up{edit_on(1)};
        for (std::uint64_t channel = 2; channel <= 61; ++channel)
            warm_up.push_back(message_to(channel));
        const auto learned =
            drl::testing::simulate(e, server, warm_up, t0, [rtt](std::size_t) { return rtt; });
        REQUIRE(learned.succeeded == warm_up.size());

        std::vector<drl::route> work(12, edit_on(1));
        for (std::uint64_t channel = 2; channel <= 61; ++channel)
            work.push_back(message_to(channel));
        const time_point start = learned.last_response + 2s; // every bucket and slot fresh
        const auto result =
            drl::testing::simulate(e, server, work, start, [rtt](std::size_t) { return rtt; });
        REQUIRE(result.succeeded == work.size());
        CHECK(server.seen().rate_limited() == 0);
        const auto chain = arrivals_on(server, 1, "edits", start);
        REQUIRE(chain.size() == 12);
        CHECK(chain.front() == start + rtt / 2);
        duration slowest{};
        for (std::size_t i = 1; i < chain.size(); ++i)
            slowest = std::max(slowest, chain[i] - chain[i - 1]);
        if (reserve)
            CHECK(slowest == 1500ms + rtt);
        else
            CHECK(slowest > 1500ms + rtt);
    }
}
