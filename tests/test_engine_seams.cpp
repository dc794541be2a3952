// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Rules that sit where two parts of the engine meet: a probe and the buckets of its channel,
// `complete` and the grants it makes, the drain and the estimate, waits at the edges of the clock,
// the configuration, a hash that changes back, and a 429 that says its bucket was not charged.
// Fake clock only.
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>
#include <discord_ratelimit/testing/simulation.hpp>

#include "catch.hpp"
#include "engine_test_support.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

namespace {

using namespace engine_test;
using drl::acquire_status;
using drl::completion_status;
using drl::wait_reason;
using test_support::bucket_headers;
using test_support::headers_type;

drl::route message_to(std::uint64_t channel)
{
    return drl::make_route("POST", "/channels/" + std::to_string(channel) + "/messages");
}

drl::route edit_of(std::uint64_t message)
{
    return drl::make_route("PATCH", "/channels/1/messages/" + std::to_string(message));
}

/// Channel 1's bucket is known, 1 per `reset_after` seconds, and spent at t0 by its first message.
void spend_channel_one(engine_type& e, const std::string& reset_after)
{
    const auto first = e.acquire(message_to(1), t0);
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(1, 0, reset_after), "{}", t0).status ==
            completion_status::done);
}

/// Channel 1's message edits are known to share the bucket "edits", `limit` per 5 s (learned at
/// t0, when its window had one request).
void learn_edit_bucket(engine_type& e, std::uint32_t limit)
{
    const auto learn = e.acquire(edit_of(100), t0);
    REQUIRE(learn.granted());
    REQUIRE(e.complete(learn.ticket, 200, bucket_headers(limit, limit - 1, "5", "edits"), "{}", t0)
                .status == completion_status::done);
}

/// `count` edits of channel 1 granted at `now`.
std::vector<drl::ticket_id> grant_edits(engine_type& e, std::uint64_t count, time_point now)
{
    std::vector<drl::ticket_id> edits;
    for (std::uint64_t m = 0; m < count; ++m) {
        const auto r = e.acquire(edit_of(200 + m), now);
        REQUIRE(r.granted());
        edits.push_back(r.ticket);
    }
    return edits;
}

const headers_type global_429_headers{{"x-ratelimit-global", "true"},
                                      {"x-ratelimit-scope", "global"},
                                      {"retry-after", "1"},
                                      {"via", "1.1 google"}};
constexpr std::string_view global_429_body =
    R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.5})";

/// Channel 1's bucket is known (1 per second) and spent at t0; a second message waits for its
/// reset at 1 s. Returns the waiting ticket.
drl::ticket_id one_waiting_for_reset(engine_type& e)
{
    spend_channel_one(e, "1");
    const auto waiting = e.acquire(message_to(1), t0);
    REQUIRE(waiting.status == acquire_status::waiting);
    return waiting.ticket;
}

/// Channel 1's messages and edits share bucket "A": 2 per 1 s, idle.
void learn_shared_a(engine_type& e)
{
    const auto m = e.acquire(message_to(1), t0);
    REQUIRE(m.granted());
    REQUIRE(e.complete(m.ticket, 200, bucket_headers(2, 1, "1", "A"), "{}", t0).status ==
            completion_status::done);
    const auto p = e.acquire(edit_of(1), t0);
    REQUIRE(p.granted());
    REQUIRE(e.complete(p.ticket, 200, bucket_headers(2, 0, "1", "A"), "{}", t0).status ==
            completion_status::done);
}

/// Everything `advance` reports at `now`, by ticket.
std::map<drl::ticket_id, drl::acquire_result<clock_type>> reported_by_advance(engine_type& e,
                                                                              time_point now)
{
    std::map<drl::ticket_id, drl::acquire_result<clock_type>> out;
    e.advance(now, [&](drl::ticket_id id, const drl::acquire_result<clock_type>& r) {
        out.emplace(id, r);
    });
    return out;
}

} // namespace

// ---- rule 2 ---------------------------------------------------------------------------------------

TEST_CASE("rule: an attempt that sent nothing gives back its bucket and its global slot",
          "[engine][seams]")
{
    // Channel 1's bucket is 1 per 5 s, its window unused; the global limit is 1 per second. The
    // attempt's connection was refused: nothing reached Discord, so its retry goes after its
    // backoff, not after the window's reset or the global slot's second.
    drl::engine_config<clock_type> config;
    config.global_limit = 1;
    engine_type e{config};
    spend_channel_one(e, "1");
    const time_point later = t0 + 2s;
    const auto attempt = e.acquire(message_to(1), later);
    REQUIRE(attempt.granted());
    const auto c = e.complete(attempt.ticket, drl::transport_error::connect_failed, later);
    REQUIRE(c.status == completion_status::retry);
    REQUIRE(c.retry_at);
    CHECK(*c.retry_at < later + 1s);
    const auto again = reported_by_advance(e, *c.retry_at);
    REQUIRE(again.count(attempt.ticket) == 1);
    CHECK(again.at(attempt.ticket).granted());
}

// ---- rule 4 ---------------------------------------------------------------------------------------

TEST_CASE("rule: a probe waits while its channel's bucket is spent in flight", "[engine][seams]")
{
    // PATCH .../messages/{id} is known: 5 per 5 s. Long after that window, five edits spend a fresh
    // window whose end no response has told yet. A DELETE on the same channel was never seen: it
    // may share their bucket (Discord's message edit and delete do), so it waits for them.
    engine_type e;
    learn_edit_bucket(e, 5);

    const time_point later = t0 + 20s;
    const std::vector<drl::ticket_id> edits = grant_edits(e, 5, later);
    const auto probe = e.acquire(drl::make_route("DELETE", "/channels/1/messages/300"), later);
    CHECK(probe.status == acquire_status::waiting);
    CHECK(probe.reason == wait_reason::unknown_bucket);

    // The edits are answered: the window is spent until 5 s after them, and the probe waits for it.
    const time_point answered = later + 100ms;
    for (std::uint32_t i = 0; i < edits.size(); ++i)
        REQUIRE(e.complete(edits[i], 200, bucket_headers(5, 4 - i, "5", "edits"), "{}", answered)
                    .status == completion_status::done);
    CHECK(granted_by_advance(e, answered).empty());
    CHECK(granted_by_advance(e, answered + 4900ms).empty());
    CHECK(granted_by_advance(e, answered + 5s) == std::vector<drl::ticket_id>{probe.ticket});
}

TEST_CASE("rule: a probe held for a bucket spent in flight goes when that bucket has room again",
          "[engine][seams]")
{
    // The edits' answers say the window still has room (another client's count was lower): the
    // probe need not wait for a reset that does not hold it back.
    engine_type e;
    learn_edit_bucket(e, 2);
    const time_point later = t0 + 20s;
    const auto a = e.acquire(edit_of(201), later);
    const auto b = e.acquire(edit_of(202), later);
    REQUIRE(a.granted());
    REQUIRE(b.granted());
    const auto probe = e.acquire(drl::make_route("DELETE", "/channels/1/messages/300"), later);
    REQUIRE(probe.status == acquire_status::waiting);
    // One edit failed on the way and was cancelled before it was sent: the bucket has room.
    REQUIRE(!e.cancel(b.ticket, later + 10ms));
    REQUIRE(e.complete(a.ticket, 200, bucket_headers(2, 1, "5", "edits"), "{}", later + 50ms)
                .status == completion_status::done);
    CHECK(granted_by_advance(e, later + 50ms) == std::vector<drl::ticket_id>{probe.ticket});
}

// ---- rule 5 ---------------------------------------------------------------------------------------

TEST_CASE("rule: nothing is handed out into a global pause", "[engine][seams]")
{
    // Channel 1's reset at 1 s grants its waiting message inside `complete`, before the response
    // it reports (channel 2's, a global 429) is read. That grant was not handed out yet: it waits
    // out the pause instead.
    engine_type e;
    const drl::ticket_id waiting = one_waiting_for_reset(e);
    const auto other = e.acquire(message_to(2), t0);
    REQUIRE(other.granted());

    const auto c = e.complete(other.ticket, 429, global_429_headers, global_429_body, t0 + 1s);
    REQUIRE(c.status == completion_status::retry);
    CHECK(c.result == drl::outcome::global_429);
    const auto at_pause = reported_by_advance(e, t0 + 1s);
    CHECK(at_pause.count(waiting) == 0);
    CHECK(reported_by_advance(e, t0 + 1499ms).count(waiting) == 0);

    const auto after = reported_by_advance(e, t0 + 1500ms);
    REQUIRE(after.count(waiting) == 1);
    CHECK(after.at(waiting).granted());
    const auto s = e.stats(t0 + 1500ms);
    CHECK(s.granted == 4); // the withdrawn grant counts once; the 429 retry once more
}

TEST_CASE("rule: nothing is handed out into a ban", "[engine][seams]")
{
    engine_type e;
    const drl::ticket_id waiting = one_waiting_for_reset(e);
    const auto other = e.acquire(message_to(2), t0);
    REQUIRE(other.granted());

    const headers_type cloudflare{{"content-type", "text/html"}, {"retry-after", "3600"}};
    const auto c = e.complete(other.ticket, 429, cloudflare, "<html>error code: 1015</html>",
                              t0 + 1s);
    REQUIRE(c.status == completion_status::failed);
    CHECK(c.error == drl::error::banned);
    const auto reported = reported_by_advance(e, t0 + 1s);
    REQUIRE(reported.count(waiting) == 1);
    CHECK(!reported.at(waiting).granted());
    CHECK(reported.at(waiting).error == drl::error::banned);
    CHECK(e.stats(t0 + 1s).live_tickets == 0);
}

TEST_CASE("rule: an exempt grant is not withdrawn by a global 429", "[engine][seams]")
{
    // An interaction callback does not count against the global limit: a global pause does not
    // hold it, even when its grant was made inside the `complete` that reported the pause.
    engine_type e;
    const auto callback = drl::make_route("POST", "/interactions/5/aW50ZXJhY3Rpb246dG9rZW4/callback");
    const auto first = e.acquire(callback, t0);
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(1, 0, "1", "callback"), "{}", t0)
                .status == completion_status::done);
    const auto waiting = e.acquire(callback, t0);
    REQUIRE(waiting.status == acquire_status::waiting);
    const auto other = e.acquire(message_to(2), t0);
    REQUIRE(other.granted());
    REQUIRE(e.complete(other.ticket, 429, global_429_headers, global_429_body, t0 + 1s).status ==
            completion_status::retry);
    const auto reported = reported_by_advance(e, t0 + 1s);
    REQUIRE(reported.count(waiting.ticket) == 1);
    CHECK(reported.at(waiting.ticket).granted());
}

// ---- rule 6 ---------------------------------------------------------------------------------------

TEST_CASE("rule: a request held for a reservation is told the reservation's end, not now",
          "[engine][seams]")
{
    // Global limit 2, one slot held until 1 s by channel 1's first message. Channel 1 resets at
    // 0.5 s with 3 windows to go: a message on channel 2 at 0.1 s is held back for that reset.
    drl::engine_config<clock_type> config;
    config.global_limit = 2;
    engine_type e{config};
    spend_channel_one(e, "0.5");
    for (int n = 0; n < 3; ++n)
        REQUIRE(e.acquire(message_to(1), t0).status == acquire_status::waiting);

    const auto held = e.acquire(message_to(2), t0 + 100ms);
    REQUIRE(held.status == acquire_status::waiting);
    REQUIRE(held.retry_at);
    CHECK(*held.retry_at == t0 + 500ms);
    CHECK(held.reason == wait_reason::global_limit);
    // Asked again before then, the answer is the same: no spinning.
    const auto again = e.acquire(held.ticket, t0 + 200ms);
    REQUIRE(again.retry_at);
    CHECK(*again.retry_at == t0 + 500ms);
    // At 0.5 s the chain takes the kept slot; the held request now waits for a free slot at 1 s.
    const auto at_reset = e.acquire(held.ticket, t0 + 500ms);
    REQUIRE(at_reset.status == acquire_status::waiting);
    REQUIRE(at_reset.retry_at);
    CHECK(*at_reset.retry_at == t0 + 1s);
}

TEST_CASE("property: every retry_at is later than now, and at it the ticket moves on",
          "[engine][seams][property]")
{
    // A caller that only asks again at the time it is told (as the blocking facade does) over
    // random schedules: channels with buckets of their own, shared hashes, a small global limit,
    // reservations, probes, sub-limit 429s and latency. It never spins: each answer names a later
    // time, or no time (then it asks again after the next response), and every request ends.
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        CAPTURE(seed);
        rng random{seed};
        server_type::config rules;
        rules.global_limit = 3 + static_cast<std::uint32_t>(random.below(6));
        rules.default_rule.limit = 1 + static_cast<std::uint32_t>(random.below(4));
        rules.default_rule.window = random.ms(200, 2000);
        rules.routes["PATCH /channels/{channel_id}/messages/{message_id}"] = {"shared", 3, 1s};
        rules.routes["DELETE /channels/{channel_id}/messages/{message_id}"] = {"shared", 3, 1s};
        if (random.chance(50))
            rules.shared_limits.push_back({"GET /channels/{channel_id}", 4, random.ms(100, 900)});
        server_type server{rules};
        drl::engine_config<clock_type> config;
        config.global_limit = rules.global_limit;
        config.reserve_global_slots = random.chance(80);
        engine_type e{config};

        struct pending {
            time_point at;
            drl::ticket_id ticket;
            bool response; ///< a response due back (else: ask again)
            std::size_t request;
            bool operator<(const pending& other) const
            {
                return at != other.at ? at < other.at : ticket < other.ticket;
            }
        };
        std::multiset<pending> events;
        std::set<drl::ticket_id> untimed; // asked again after the next response
        std::vector<drl::route> routes;
        const std::size_t count = 20 + random.below(40);
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint64_t channel = 1 + random.below(4);
            const std::uint64_t kind = random.below(5);
            const std::string base = "/channels/" + std::to_string(channel);
            if (kind == 0)
                routes.push_back(drl::make_route("GET", base));
            else if (kind == 1)
                routes.push_back(drl::make_route("PATCH", base + "/messages/" + std::to_string(i)));
            else if (kind == 2)
                routes.push_back(drl::make_route("DELETE", base + "/messages/" + std::to_string(i)));
            else
                routes.push_back(message_to(channel));
        }
        std::size_t ended = 0;
        std::size_t asks = 0;
        std::set<drl::ticket_id> sent; // granted, its response not back yet
        const auto latency = random.ms(1, 150);
        std::function<void(std::size_t, drl::acquire_result<clock_type>, time_point)> handle =
            [&](std::size_t request, drl::acquire_result<clock_type> r, time_point now) {
                if (r.granted()) {
                    REQUIRE(sent.insert(r.ticket).second);
                    events.insert({now + latency, r.ticket, true, request});
                } else if (r.status == acquire_status::failed) {
                    FAIL_CHECK("request " << request << " failed: " << r.error.message());
                    ++ended;
                } else if (r.retry_at) {
                    REQUIRE(*r.retry_at > now);
                    events.insert({*r.retry_at, r.ticket, false, request});
                } else {
                    untimed.insert(r.ticket);
                    events.insert({now + 5s, r.ticket, false, request}); // a safety net only
                }
            };
        std::map<drl::ticket_id, std::size_t> request_of;
        time_point now = t0;
        for (std::size_t i = 0; i < routes.size(); ++i) {
            now += random.ms(0, 30);
            const auto r = e.acquire(routes[i], now);
            request_of[r.ticket] = i;
            handle(i, r, now);
        }
        std::set<drl::ticket_id> done;
        while (!events.empty() && ended < routes.size()) {
            REQUIRE(++asks < 100'000);
            const pending next = *events.begin();
            events.erase(events.begin());
            if (done.count(next.ticket))
                continue;
            now = std::max(now, next.at);
            if (next.response) {
                sent.erase(next.ticket);
                const auto reply = server.handle(routes[next.request], now - latency / 2);
                const auto c = e.complete(next.ticket, reply.status, reply.headers, reply.body, now);
                if (c.status == completion_status::retry) {
                    REQUIRE(c.retry_at);
                    CHECK(*c.retry_at >= now);
                    events.insert({*c.retry_at, next.ticket, false, next.request});
                } else {
                    if (c.status != completion_status::done)
                        UNSCOPED_INFO("status " << reply.status << " " << reply.body << " "
                                                << c.error.message() << " at "
                                                << now.time_since_epoch().count());
                    CHECK(c.status == completion_status::done);
                    done.insert(next.ticket);
                    ++ended;
                }
                const auto waiting = std::move(untimed);
                untimed.clear();
                for (const auto id : waiting)
                    if (!done.count(id))
                        events.insert({now, id, false, request_of[id]});
                continue;
            }
            if (sent.count(next.ticket))
                continue; // a stale ask (the safety net) for a request already sent
            untimed.erase(next.ticket);
            handle(next.request, e.acquire(next.ticket, now), now);
        }
        CHECK(ended == routes.size());
        CHECK(server.seen().user_429 == 0);
        CHECK(server.seen().global_429 == 0);
    }
}

// ---- rule 7 ---------------------------------------------------------------------------------------

TEST_CASE("rule: waits saturate at the clock's ends instead of overflowing", "[engine][seams]")
{
    engine_type e;
    const drl::ticket_id reset_wait = one_waiting_for_reset(e);
    (void)reset_wait;

    SECTION("max_wait of duration::max() waits as long as it takes")
    {
        drl::request_options<clock_type> options;
        options.max_wait = duration::max();
        const auto r = e.acquire(message_to(1), t0 + 1ms, options);
        REQUIRE(r.status == acquire_status::waiting);
        CHECK(reported_by_advance(e, t0 + 1ms).empty());
    }
    SECTION("deadline of time_point::max() with a max_wait")
    {
        drl::request_options<clock_type> options;
        options.deadline = time_point::max();
        options.max_wait = duration::max() - 1ns;
        const auto r = e.acquire(message_to(1), t0 + 1ms, options);
        REQUIRE(r.status == acquire_status::waiting);
        CHECK(reported_by_advance(e, t0 + 1ms).empty());
    }
    SECTION("a Retry-After of any size")
    {
        const auto other = e.acquire(message_to(2), t0);
        REQUIRE(other.granted());
        drl::response res;
        res.status = 429;
        res.headers.retry_after = std::chrono::nanoseconds::max();
        res.headers.via = true;
        res.headers.scope = drl::rate_limit_scope::user;
        const time_point late = time_point::max() - 1h;
        const auto c = e.complete(other.ticket, res, late);
        REQUIRE(c.status == completion_status::retry);
        REQUIRE(c.retry_at);
        CHECK(*c.retry_at == time_point::max());
    }
}

// ---- rule 8 ---------------------------------------------------------------------------------------

TEST_CASE("rule: a forbidden configuration is refused, naming its field", "[engine][seams]")
{
    using config_type = drl::engine_config<clock_type>;
    const auto refused = [](const config_type& c, const std::string& field) {
        try {
            engine_type e{c};
            FAIL("accepted a configuration with a forbidden " << field);
        } catch (const std::invalid_argument& error) {
            CHECK_THAT(error.what(), Catch::Matchers::Contains(field));
        }
    };
    config_type c;
    c.global_limit = 0;
    refused(c, "global_limit");
    c = {};
    c.global_window = 0s;
    refused(c, "global_window");
    c = {};
    c.global_window = -1s;
    refused(c, "global_window");
    c = {};
    c.channel_edit_limit = 0;
    refused(c, "channel_edit_limit");
    c = {};
    c.channel_edit_window = 0s;
    refused(c, "channel_edit_window");
    c = {};
    c.ban_cooldown = -1s;
    refused(c, "ban_cooldown");
    c = {};
    c.default_retry_after = -1s;
    refused(c, "default_retry_after");
    c = {};
    c.probe_hold_limit = -1s;
    refused(c, "probe_hold_limit");
    c = {};
    c.critical_path_cap = -1s;
    refused(c, "critical_path_cap");
    c = {};
    c.eviction_interval = 0s;
    refused(c, "eviction_interval");
    c = {};
    c.invalid_request_stop = 0U;
    refused(c, "invalid_request_stop");
    c = {};
    c.invalid_request_warnings = {0};
    refused(c, "invalid_request_warnings");
    c = {};
    c.retry.max_attempts = 0;
    refused(c, "retry.max_attempts");
    c = {};
    c.retry.max_rate_limited_attempts = 0;
    refused(c, "retry.max_rate_limited_attempts");

    // The edges that are allowed have a documented meaning.
    c = {};
    c.probe_hold_limit = 0s;       // probes never wait for a spent bucket
    c.critical_path_cap = 0s;      // oldest waiting request first
    c.default_retry_after = 0s;    // retry at once
    c.invalid_request_stop.reset(); // never refuse
    CHECK_NOTHROW(engine_type{c});
}

TEST_CASE("rule: an edit limit of 1 per window lets one edit through", "[engine][seams]")
{
    drl::engine_config<clock_type> config;
    config.channel_edit_limit = 1;
    engine_type e{config};
    drl::route_options edit;
    edit.edits_channel_name_or_topic = true;
    const auto rename = drl::make_route("PATCH", "/channels/1", edit);
    const auto first = e.acquire(rename, t0);
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(5, 4, "5", "edit"), "{}", t0).status ==
            completion_status::done);
    const auto second = e.acquire(rename, t0 + 1s);
    CHECK(second.status == acquire_status::waiting);
    CHECK(second.reason == wait_reason::hidden_limit);
}

// ---- rule 9 ---------------------------------------------------------------------------------------

TEST_CASE("rule: a request counts in the bucket its response names", "[engine][seams]")
{
    // The route's hash goes A, then B, then back to A, all within A's window of 3. Discord counted
    // two requests in A (the first and the third): it says 1 left, and the engine allows 1.
    engine_type e;
    const auto r = message_to(1);
    const auto first = e.acquire(r, t0);
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(3, 2, "5", "A"), "{}", t0).status ==
            completion_status::done);
    const auto second = e.acquire(r, t0 + 100ms);
    REQUIRE(second.granted());
    REQUIRE(e.complete(second.ticket, 200, bucket_headers(5, 4, "5", "B"), "{}", t0 + 100ms)
                .status == completion_status::done);
    const auto third = e.acquire(r, t0 + 200ms);
    REQUIRE(third.granted());
    REQUIRE(e.complete(third.ticket, 200, bucket_headers(3, 1, "4.8", "A"), "{}", t0 + 200ms)
                .status == completion_status::done);

    CHECK(e.acquire(r, t0 + 300ms).granted());
    CHECK(e.acquire(r, t0 + 300ms).status == acquire_status::waiting);
}

// ---- rule 10 --------------------------------------------------------------------------------------

TEST_CASE("rule: a shared-scope 429 with bucket headers costs no window", "[engine][seams]")
{
    // A shared 429 as Discord documents it: the bucket's headers show the request uncounted (here
    // Remaining 10 of 10, the window's first request). It costs the bucket nothing, and the retry
    // after retry_after (0.2 s; the header rounds it up to 1 s) fits the same window.
    engine_type e;
    const auto r = message_to(1);
    const auto first = e.acquire(r, t0);
    REQUIRE(first.granted());
    const headers_type shared{{"x-ratelimit-limit", "10"},        {"x-ratelimit-remaining", "10"},
                              {"x-ratelimit-reset-after", "5"},   {"x-ratelimit-bucket", "abc"},
                              {"x-ratelimit-scope", "shared"},    {"retry-after", "1"},
                              {"via", "1.1 google"}};
    const auto c = e.complete(
        first.ticket, 429, shared,
        R"({"message": "The resource is being rate limited.", "retry_after": 0.2, "global": false, "code": 40062})",
        t0);
    REQUIRE(c.status == completion_status::retry);
    REQUIRE(c.retry_at);
    CHECK(*c.retry_at == t0 + 200ms);
    // Other channels' requests of the route are not held; this channel's are, for 0.2 s.
    std::vector<drl::ticket_id> others;
    for (int n = 0; n < 9; ++n) {
        const auto more = e.acquire(message_to(2), t0 + 10ms);
        CHECK((n == 0 ? more.granted() : more.status == acquire_status::waiting));
    }
    const auto retried = reported_by_advance(e, t0 + 200ms);
    REQUIRE(retried.count(first.ticket) == 1);
    CHECK(retried.at(first.ticket).granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(10, 9, "4.75", "abc"), "{}", t0 + 250ms)
                .status == completion_status::done);
    // Discord counted one request of 10: nine more go in this window.
    int granted = 0;
    for (int n = 0; n < 10; ++n)
        granted += e.acquire(r, t0 + 300ms).granted() ? 1 : 0;
    CHECK(granted == 9);
}

TEST_CASE("rule: shared-scope 429s cost no window (measured)", "[engine][seams]")
{
    // 4 channels x 25 messages at 5 per 5 s; every 20th request gets a shared-scope 429 (5%),
    // retry_after 0.2 s, `Retry-After: 1`, the bucket's headers uncharged. The span stays within
    // 1.10 x the span without faults.
    std::vector<drl::route> work;
    for (int m = 0; m < 25; ++m)
        for (std::uint64_t channel = 1; channel <= 4; ++channel)
            work.push_back(message_to(channel));
    const auto span_of = [&](bool faults) {
        server_type::config rules;
        if (faults)
            rules.shared_limits.push_back({"POST /channels/{channel_id}/messages", 20, 200ms});
        server_type server{rules};
        engine_type e;
        const auto result =
            drl::testing::simulate(e, server, work, t0, [](std::size_t) { return 50ms; });
        REQUIRE(result.succeeded == work.size());
        REQUIRE(!result.hung);
        CHECK(server.seen().user_429 == 0);
        if (faults)
            CHECK(server.seen().shared_429 > 0);
        return result.last_response - result.started;
    };
    const auto clean = span_of(false);
    const auto faulty = span_of(true);
    CAPTURE(clean.count(), faulty.count());
    CHECK(faulty.count() <= clean.count() * 11 / 10);
}

// ---- what a review of these rules found ------------------------------------------------------

TEST_CASE("rule: a channel marked spent in flight is unmarked when those permits are cancelled",
          "[engine][seams]")
{
    engine_type e;
    learn_edit_bucket(e, 5);
    const time_point later = t0 + 20s;
    const std::vector<drl::ticket_id> edits = grant_edits(e, 5, later);
    // None of the five is sent after all: the edit bucket is untouched.
    for (const auto id : edits)
        REQUIRE(!e.cancel(id, later + 10ms));

    // A never-seen route of channel 1, long after: nothing on the channel is spent or in flight.
    const time_point much_later = later + 2h;
    const auto probe = e.acquire(drl::make_route("DELETE", "/channels/1/messages/300"), much_later);
    CHECK(probe.granted());
}

TEST_CASE("rule: a channel marked spent in flight is unmarked when its bucket's hash moves",
          "[engine][seams]")
{
    // Channel 1's edit bucket (hash "edits", 2 per 5 s) is spent by two edits in flight; their
    // answers name a new hash for the route. Bucket "edits" was never charged by them.
    engine_type e;
    learn_edit_bucket(e, 2);
    const time_point later = t0 + 20s;
    const auto a = e.acquire(edit_of(201), later);
    const auto b = e.acquire(edit_of(202), later);
    REQUIRE(a.granted());
    REQUIRE(b.granted());
    REQUIRE(e.complete(a.ticket, 200, bucket_headers(5, 4, "5", "edits2"), "{}", later + 50ms)
                .status == completion_status::done);
    REQUIRE(e.complete(b.ticket, 200, bucket_headers(5, 3, "5", "edits2"), "{}", later + 60ms)
                .status == completion_status::done);
    const time_point much_later = later + 2h;
    const auto probe = e.acquire(drl::make_route("DELETE", "/channels/1/messages/300"), much_later);
    CHECK(probe.granted());
}

TEST_CASE("rule: a probe once held by a spent bucket does not keep its bucket forever",
          "[engine][seams]")
{
    engine_type e;
    const auto first = e.acquire(message_to(1), t0);
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(1, 0, "1", "msgs"), "{}", t0).status ==
            completion_status::done);
    // A never-seen route of channel 1 waits for the spent message bucket's reset at 1 s.
    const auto probe = e.acquire(drl::make_route("GET", "/channels/1/pins"), t0 + 10ms);
    REQUIRE(probe.status == acquire_status::waiting);
    const auto at_reset = reported_by_advance(e, t0 + 1s);
    REQUIRE(at_reset.count(probe.ticket) == 1);
    REQUIRE(at_reset.at(probe.ticket).granted());
    // Its answer has no rate-limit headers: an unlimited route.
    REQUIRE(e.complete(probe.ticket, 200, headers_type{{"via", "1.1 google"}}, "{}", t0 + 1100ms)
                .status == completion_status::done);
    REQUIRE(e.stats(t0 + 1100ms).live_tickets == 0);
    // Hours idle: every bucket is forgotten (bucket_idle 5 min, eviction every minute).
    (void)reported_by_advance(e, t0 + 3h);
    (void)reported_by_advance(e, t0 + 3h + 2min);
    CHECK(e.stats(t0 + 3h + 2min).buckets == 0);
}

TEST_CASE("rule: a withdrawn grant past its deadline fails instead of waiting out the pause",
          "[engine][seams]")
{
    engine_type e;
    spend_channel_one(e, "1");
    drl::request_options<clock_type> options;
    options.deadline = t0 + 1050ms;
    const auto waiting = e.acquire(message_to(1), t0 + 900ms, options);
    REQUIRE(waiting.status == acquire_status::waiting);
    // At 1 s another request's acquire lets time pass: channel 1 resets and the waiting message is
    // granted (not reported yet: the caller runs `advance` after its current callback).
    const auto other = e.acquire(message_to(2), t0 + 1s);
    REQUIRE(other.granted());
    // Channel 2's answer, read at 1.2 s, is a global 429: the unreported grant is withdrawn, and
    // its deadline (1.05 s) has passed.
    REQUIRE(e.complete(other.ticket, 429, global_429_headers, global_429_body, t0 + 1200ms)
                .status == completion_status::retry);
    std::map<drl::ticket_id, drl::acquire_result<clock_type>> seen;
    for (auto now = t0 + 1200ms; now <= t0 + 3s; now += 100ms)
        for (const auto& [id, r] : reported_by_advance(e, now))
            if (!seen.count(id))
                seen.emplace(id, r);
    REQUIRE(seen.count(waiting.ticket) == 1);
    CHECK(!seen.at(waiting.ticket).granted());
    CHECK(seen.at(waiting.ticket).error == drl::error::deadline_exceeded);
}

TEST_CASE("rule: a global 429 answered after its bucket's window rolled over costs no window",
          "[engine][seams]")
{
    engine_type e;
    const auto first = e.acquire(message_to(1), t0);
    REQUIRE(first.granted());
    REQUIRE(e.complete(first.ticket, 200, bucket_headers(2, 2, "0.5"), "{}", t0).status ==
            completion_status::done);
    // At 1 s, two messages open a window; A's answer says it ends at 2 s. B is still in flight at
    // 2 s, when X opens the next window (which charges B to it, as it may land there).
    const auto a = e.acquire(message_to(1), t0 + 1s);
    const auto b = e.acquire(message_to(1), t0 + 1s);
    REQUIRE(a.granted());
    REQUIRE(b.granted());
    REQUIRE(e.complete(a.ticket, 200, bucket_headers(2, 0, "0.9"), "{}", t0 + 1100ms).status ==
            completion_status::done);
    const auto x = e.acquire(message_to(1), t0 + 2s);
    REQUIRE(x.granted());
    // B is refused by the global limit at 2.1 s: Discord did not count it in any window. The
    // window that opened at 2 s holds X only.
    REQUIRE(e.complete(b.ticket, 429, global_429_headers, global_429_body, t0 + 2100ms).status ==
            completion_status::retry);
    // After the pause (2.6 s) B's retry has the window's second request.
    const auto reported = reported_by_advance(e, t0 + 2600ms);
    REQUIRE(reported.count(b.ticket) == 1);
    CHECK(reported.at(b.ticket).granted());
}

TEST_CASE("rule: a probe waits for a bucket spent in flight also when another bucket of its "
          "channel marked it spent first",
          "[engine][seams]")
{
    engine_type e;
    // Channel 1's edit bucket is known: 5 per 5 s.
    learn_edit_bucket(e, 5);
    // Long after, channel 1's message bucket (1 per 1 s) is spent until 21 s.
    const time_point later = t0 + 20s;
    const auto message = e.acquire(message_to(1), later);
    REQUIRE(message.granted());
    REQUIRE(e.complete(message.ticket, 200, bucket_headers(1, 0, "1", "msgs"), "{}", later)
                .status == completion_status::done);
    // Then five edits spend a fresh edit window whose end no answer has told yet.
    const std::vector<drl::ticket_id> edits = grant_edits(e, 5, later);
    // A DELETE on channel 1 was never seen: it may share the edits' bucket (it does on Discord).
    const auto probe = e.acquire(drl::make_route("DELETE", "/channels/1/messages/300"), later);
    REQUIRE(probe.status == acquire_status::waiting);
    // At 21 s the message bucket resets, but the edit bucket is still spent by the edits in
    // flight: the probe must keep waiting (as it does when the edits alone mark the channel).
    CHECK(granted_by_advance(e, later + 1s).empty());
}

TEST_CASE("rule: a hash change with two permits in flight leaves no phantom in the old bucket",
          "[engine][seams]")
{
    engine_type e;
    learn_shared_a(e);
    const time_point later = t0 + 10s;
    const auto p1 = e.acquire(message_to(1), later);
    const auto p2 = e.acquire(message_to(1), later);
    REQUIRE(p1.granted());
    REQUIRE(p2.granted());
    // Both answers name bucket "B": Discord counted both there, none in "A".
    REQUIRE(e.complete(p1.ticket, 200, bucket_headers(2, 1, "1", "B"), "{}", later + 100ms)
                .status == completion_status::done);
    REQUIRE(e.complete(p2.ticket, 200, bucket_headers(2, 0, "1", "B"), "{}", later + 150ms)
                .status == completion_status::done);
    // Bucket "A" is untouched: two edits may go.
    const auto a = e.acquire(edit_of(2), later + 200ms);
    const auto b = e.acquire(edit_of(3), later + 200ms);
    CHECK(a.granted());
    CHECK(b.granted());
}

TEST_CASE("rule: a hash change answered after the old bucket's window rolled over leaves no "
          "phantom",
          "[engine][seams]")
{
    engine_type e;
    learn_shared_a(e);
    const time_point later = t0 + 10s;
    const auto p1 = e.acquire(message_to(1), later);
    const auto p2 = e.acquire(edit_of(2), later);
    REQUIRE(p1.granted());
    REQUIRE(p2.granted());
    // The edit's answer confirms the window's end at 11 s.
    REQUIRE(e.complete(p2.ticket, 200, bucket_headers(2, 0, "0.9", "A"), "{}", later + 100ms)
                .status == completion_status::done);
    // At 11 s an edit opens the next window of "A" (p1, still in flight, is carried into it).
    const auto c = e.acquire(edit_of(3), later + 1s);
    REQUIRE(c.granted());
    // p1's answer names "B": Discord counted it there, not in "A".
    REQUIRE(e.complete(p1.ticket, 200, bucket_headers(2, 1, "1", "B"), "{}", later + 1100ms)
                .status == completion_status::done);
    // "A"'s window that opened at 11 s holds c only: one more edit may go.
    const auto d = e.acquire(edit_of(4), later + 1100ms);
    CHECK(d.granted());
}

TEST_CASE("rule: a permit whose route's hash goes A, B, then A again while it flies leaves no "
          "phantom in B",
          "[engine][seams]")
{
    // Messages (A, 3 per 1 s) and pins (B, 2 per 1 s) of channel 1. Three messages fly; the first
    // answer moves the route to B, the next two name A again: they counted in A, never in B. Once
    // B's window has reset, both pins go.
    engine_type e;
    const auto pin = [](int m) {
        return drl::make_route("PUT", "/channels/1/pins/" + std::to_string(m));
    };
    const auto m = e.acquire(message_to(1), t0);
    REQUIRE(e.complete(m.ticket, 200, bucket_headers(3, 2, "1", "A"), "{}", t0).status ==
            completion_status::done);
    const auto p = e.acquire(pin(5), t0);
    REQUIRE(e.complete(p.ticket, 200, bucket_headers(2, 1, "1", "B"), "{}", t0).status ==
            completion_status::done);
    const time_point later = t0 + 10s;
    const auto p1 = e.acquire(message_to(1), later);
    const auto p2 = e.acquire(message_to(1), later);
    const auto p3 = e.acquire(message_to(1), later);
    REQUIRE((p1.granted() && p2.granted() && p3.granted()));
    REQUIRE(e.complete(p1.ticket, 200, bucket_headers(2, 1, "1", "B"), "{}", later + 100ms)
                .status == completion_status::done);
    REQUIRE(e.complete(p2.ticket, 200, bucket_headers(3, 1, "1", "A"), "{}", later + 150ms)
                .status == completion_status::done);
    REQUIRE(e.complete(p3.ticket, 200, bucket_headers(3, 0, "1", "A"), "{}", later + 200ms)
                .status == completion_status::done);
    CHECK(e.acquire(pin(6), later + 1200ms).granted());
    CHECK(e.acquire(pin(7), later + 1200ms).granted());
}
