// Property and regression tests of the engine against Discord's rules (see
// shared/reference/discord-rate-limits.md): an honest server never answers 429 to a request the
// engine granted with what it knew, every ticket ends, nothing is reported twice, nothing spins.
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>
#include <discord_ratelimit/testing/simulation.hpp>

#include "catch.hpp"
#include "engine_test_support.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

namespace {

using namespace engine_test;
using drl::acquire_status;
using drl::completion_status;
using test_support::bucket_headers;
using test_support::headers_type;

const headers_type via_only{{"via", "1.1 google"}};

// ---- a randomized driver: engine + simulated Discord on virtual time ---------------------------

struct route_spec {
    const char* method;
    const char* suffix; ///< path after /channels/{id}
    const char* hash;   ///< the server's bucket (routes naming the same hash share it)
};

const std::vector<route_spec> default_routes{{"GET", "/messages/5", "A"},
                                             {"PATCH", "/messages/5", "A"},
                                             {"GET", "/pins", "B"},
                                             {"PUT", "/pins/5", "B"},
                                             {"POST", "/messages", "C"}};

struct workload {
    std::uint64_t seed = 1;
    std::size_t requests = 150;
    duration spread = 3s; ///< random submissions over [warm-up end, + spread]
    std::int64_t latency_lo_ms = 0;
    std::int64_t latency_hi_ms = 500;
    unsigned majors = 3;
    std::uint32_t global_limit = 50;
    /// One request per route first (major 99, one per second), so that every hash is known: a probe
    /// into a route whose bucket is unknown may collide with its siblings, which no limiter can
    /// know.
    bool warmup = true;
    unsigned cancel_waiting_percent = 0;
    unsigned cancel_granted_percent = 0;
    unsigned edge_error_percent = 0; ///< a 503 the server did not count
    unsigned counted_error_percent =
        0; ///< a 500 after the server counted it (only on buckets with a known limit)
    unsigned deadline_percent = 0;
    std::vector<route_spec> routes = default_routes;
    std::vector<std::uint32_t> limits; ///< per hash A, B, C
    std::vector<duration> windows;     ///< per hash A, B, C
};

struct run_result {
    std::uint64_t needless_429 = 0; ///< 429s no probe can explain
    std::uint64_t probe_429 = 0;    ///< 429s within a window a probe (unknown route) arrived in
    bool hung = false;              ///< live tickets and nothing to wake up for
    bool spun = false;              ///< next_wakeup() stayed at `now` without progress
    std::size_t unended = 0;
    std::size_t double_reports = 0;
    std::size_t unknown_permits = 0;
    std::uint32_t global_in_flight_at_end = 0;
    std::size_t live_tickets_at_end = 0;

    bool clean() const
    {
        return needless_429 == 0 && !hung && !spun && unended == 0 && double_reports == 0 &&
               unknown_permits == 0 && global_in_flight_at_end == 0 && live_tickets_at_end == 0;
    }
};

std::size_t hash_index(const char* h)
{
    return static_cast<std::size_t>(h[0] - 'A');
}

run_result drive(const workload& w, engine_type::config_type cfg = {})
{
    rng r{w.seed};
    server_type::config sc;
    sc.global_limit = w.global_limit;
    for (const auto& spec : w.routes) {
        const auto rt = drl::make_route(spec.method, std::string{"/channels/1"} + spec.suffix);
        const auto h = hash_index(spec.hash);
        sc.routes[std::string{rt.key.view()}] = {spec.hash, w.limits.at(h), w.windows.at(h)};
    }
    server_type server{sc};
    cfg.global_limit = w.global_limit;
    engine_type eng{cfg};

    enum class kind { submit, arrive, respond, cancel };
    enum class st { waiting, in_flight, ended };
    struct event {
        kind k;
        std::size_t request;
        drl::ticket_id ticket;
        server_type::reply reply;
    };
    std::multimap<time_point, event> events;
    std::vector<drl::route> reqs;
    std::vector<std::size_t> spec_of;
    const std::size_t warm = w.warmup ? w.routes.size() : 0;
    for (std::size_t i = 0; i < w.requests; ++i) {
        const std::size_t spec = i < warm ? i : static_cast<std::size_t>(r.below(w.routes.size()));
        const std::uint64_t major = i < warm ? 99 : 1 + r.below(w.majors);
        reqs.push_back(drl::make_route(w.routes[spec].method, "/channels/" + std::to_string(major) +
                                                                  w.routes[spec].suffix));
        spec_of.push_back(spec);
        const auto spread_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(w.spread).count();
        const time_point at = i < warm
                                  ? t0 + std::chrono::seconds{static_cast<std::int64_t>(i)}
                                  : t0 + std::chrono::seconds{static_cast<std::int64_t>(warm)} +
                                        std::chrono::milliseconds{static_cast<std::int64_t>(
                                            r.below(static_cast<std::uint64_t>(spread_ms + 1)))};
        events.emplace(at, event{kind::submit, i, 0, {}});
    }

    std::map<drl::ticket_id, st> state;
    std::map<drl::ticket_id, std::size_t> request_of;
    std::map<drl::ticket_id, bool> probe; // sent while the engine did not know its route's hash
    std::map<std::pair<std::string, std::uint64_t>, time_point> last_probe_arrival;
    run_result out;
    std::size_t ended = 0;
    time_point now = t0;

    auto end_ticket = [&](drl::ticket_id id) {
        state[id] = st::ended;
        ++ended;
    };
    auto on_granted = [&](drl::ticket_id id) {
        const std::size_t req = request_of.at(id);
        if (req >= warm && r.chance(w.cancel_granted_percent)) {
            eng.cancel(id, now);
            end_ticket(id);
            return;
        }
        state[id] = st::in_flight;
        probe[id] = eng.registry().store().find_route(reqs[req].key) == nullptr;
        events.emplace(now + r.ms(w.latency_lo_ms, w.latency_hi_ms) / 2,
                       event{kind::arrive, req, id, {}});
    };
    auto on_ready = [&](drl::ticket_id id, const drl::acquire_result<clock_type>& res) {
        const auto it = state.find(id);
        if (it == state.end() || it->second != st::waiting) {
            ++out.double_reports;
            return;
        }
        if (res.granted())
            on_granted(id);
        else
            end_ticket(id);
    };

    std::size_t stalled = 0;
    std::optional<time_point> previous;
    while (ended < w.requests) {
        bool progress = false;
        while (!events.empty() && events.begin()->first <= now) {
            progress = true;
            auto node = events.extract(events.begin());
            event& ev = node.mapped();
            const bool random_phase = ev.request >= warm;
            switch (ev.k) {
            case kind::submit: {
                drl::request_options<clock_type> o;
                if (random_phase && r.chance(w.deadline_percent))
                    o.deadline = now + r.ms(50, 3000);
                const auto a = eng.acquire(reqs[ev.request], now, o);
                if (a.status == acquire_status::failed) {
                    ++ended;
                    break;
                }
                if (state.count(a.ticket))
                    ++out.double_reports; // an id given twice
                request_of[a.ticket] = ev.request;
                state[a.ticket] = st::waiting;
                if (a.granted())
                    on_granted(a.ticket);
                else if (random_phase && r.chance(w.cancel_waiting_percent))
                    events.emplace(now + r.ms(0, 2000),
                                   event{kind::cancel, ev.request, a.ticket, {}});
                break;
            }
            case kind::arrive: {
                if (random_phase && r.chance(w.edge_error_percent)) {
                    server_type::reply edge;
                    edge.status = 503;
                    edge.headers = via_only;
                    events.emplace(now + r.ms(w.latency_lo_ms, w.latency_hi_ms) / 2,
                                   event{kind::respond, ev.request, ev.ticket, std::move(edge)});
                    break;
                }
                const auto& spec = w.routes[spec_of[ev.request]];
                const auto window = w.windows.at(hash_index(spec.hash));
                auto reply = server.handle(reqs[ev.request], now);
                const auto key = std::pair{std::string{spec.hash}, reqs[ev.request].major.id};
                bool probe_related = probe[ev.ticket];
                if (const auto it = last_probe_arrival.find(key);
                    it != last_probe_arrival.end() && now - it->second < window)
                    probe_related = true;
                if (probe[ev.ticket])
                    last_probe_arrival[key] = now;
                if (reply.status == 429)
                    ++(probe_related ? out.probe_429 : out.needless_429);
                if (random_phase && w.counted_error_percent) {
                    const auto* b = eng.registry().find_bucket(
                        drl::bucket_id{drl::bucket_key_of(*drl::bucket_hash::from(spec.hash)),
                                       reqs[ev.request].major, false});
                    if (b && b->state.limit() && r.chance(w.counted_error_percent)) {
                        reply.status = 500;
                        reply.headers = via_only;
                        reply.body.clear();
                    }
                }
                events.emplace(now + r.ms(w.latency_lo_ms, w.latency_hi_ms) / 2,
                               event{kind::respond, ev.request, ev.ticket, std::move(reply)});
                break;
            }
            case kind::respond: {
                const auto c =
                    eng.complete(ev.ticket, ev.reply.status, ev.reply.headers, ev.reply.body, now);
                if (c.error == drl::make_error_code(drl::error::unknown_permit))
                    ++out.unknown_permits;
                if (c.status == completion_status::retry)
                    state[ev.ticket] = st::waiting;
                else
                    end_ticket(ev.ticket);
                break;
            }
            case kind::cancel: {
                const auto it = state.find(ev.ticket);
                if (it != state.end() && it->second == st::waiting) {
                    eng.cancel(ev.ticket, now);
                    end_ticket(ev.ticket);
                }
                break;
            }
            }
        }
        const std::size_t ended_before = ended;
        eng.advance(now, on_ready);
        progress = progress || ended != ended_before;
        if (ended >= w.requests)
            break;
        std::optional<time_point> next = eng.next_wakeup();
        if (!events.empty() && (!next || events.begin()->first < *next))
            next = events.begin()->first;
        if (!next) {
            out.hung = true;
            break;
        }
        // The engine asks to be called again at `now` although nothing happened: it spins.
        stalled = (!progress && previous == now && *next <= now) ? stalled + 1 : 0;
        if (stalled > 100) {
            out.spun = true;
            break;
        }
        previous = now;
        now = std::max(now, *next);
    }
    for (const auto& [id, s] : state)
        if (s != st::ended)
            ++out.unended;
    out.global_in_flight_at_end = eng.global().in_flight();
    out.live_tickets_at_end = out.hung || out.spun ? 0 : eng.stats(now).live_tickets;
    return out;
}

workload small_buckets(std::uint64_t seed)
{
    workload w;
    w.seed = seed;
    const auto s = static_cast<std::uint32_t>(seed);
    w.limits = {1 + s % 3, 1 + (s / 3) % 4, 2};
    w.windows = {std::chrono::milliseconds{100 + (s % 5) * 150}, 300ms, 1s};
    return w;
}

/// Runs `seeds` workloads made by `make`; returns the first seed that broke a property, if any.
template <class Make>
std::optional<std::pair<std::uint64_t, run_result>> first_failure(std::uint64_t seeds, Make make,
                                                                  engine_type::config_type cfg = {})
{
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
        const auto result = drive(make(seed), cfg);
        if (!result.clean())
            return std::pair{seed, result};
    }
    return std::nullopt;
}

void report(const std::optional<std::pair<std::uint64_t, run_result>>& failure)
{
    if (!failure)
        return;
    const auto& [seed, r] = *failure;
    UNSCOPED_INFO("seed " << seed << ": needless 429s " << r.needless_429 << ", hung " << r.hung
                          << ", spun " << r.spun << ", unended " << r.unended << ", double reports "
                          << r.double_reports << ", unknown permits " << r.unknown_permits
                          << ", global in flight " << r.global_in_flight_at_end << ", live tickets "
                          << r.live_tickets_at_end);
}

} // namespace

// ---- properties that hold today
// ------------------------------------------------------------------

TEST_CASE("property: known buckets under jittery latency, cancellations, 503s and deadlines: zero "
          "429s, every ticket ends once",
          "[engine][property]")
{
    const auto failure = first_failure(120, [](std::uint64_t seed) {
        auto w = small_buckets(seed);
        switch (seed % 4) {
        case 0: break;
        case 1:
            w.cancel_waiting_percent = 20;
            w.cancel_granted_percent = 10;
            break;
        case 2:
            w.edge_error_percent = 15;
            w.deadline_percent = 30;
            break;
        default:
            w.cancel_waiting_percent = 10;
            w.cancel_granted_percent = 10;
            w.edge_error_percent = 10;
            w.deadline_percent = 20;
            w.global_limit = 8;
            break;
        }
        return w;
    });
    report(failure);
    CHECK_FALSE(failure.has_value());
}

TEST_CASE("property: a tight global limit with one major and long latency: zero global 429s",
          "[engine][property]")
{
    const auto failure = first_failure(40, [](std::uint64_t seed) {
        auto w = small_buckets(seed);
        w.majors = 1;
        w.global_limit = 3;
        w.latency_hi_ms = 900;
        return w;
    });
    report(failure);
    CHECK_FALSE(failure.has_value());
}

// ---- properties that fail today
// ------------------------------------------------------------------

TEST_CASE(
    "property: routes discovered under load (no warm-up) never spin, hang or get a needless 429",
    "[engine][property]")
{
    const auto failure = first_failure(120, [](std::uint64_t seed) {
        auto w = small_buckets(seed);
        w.warmup = false;
        if (seed % 2) {
            w.cancel_waiting_percent = 10;
            w.cancel_granted_percent = 10;
            w.edge_error_percent = 10;
            w.deadline_percent = 20;
            w.global_limit = 8;
        }
        return w;
    });
    report(failure);
    CHECK_FALSE(failure.has_value());
}

TEST_CASE("property: evicting idle buckets and forgetting route hashes never spins or hangs",
          "[engine][property]")
{
    engine_type::config_type cfg;
    cfg.registry.bucket_idle = 200ms;
    cfg.registry.route_idle = 400ms;
    cfg.registry.hash_lifetime = 2s;
    cfg.eviction_interval = 50ms;
    const auto failure = first_failure(
        60,
        [](std::uint64_t seed) {
            auto w = small_buckets(seed);
            w.spread = 20s;
            return w;
        },
        cfg);
    report(failure);
    CHECK_FALSE(failure.has_value());
}

TEST_CASE(
    "property: a 5xx the server counted never leads to a 429 on a bucket whose limit is known",
    "[engine][property]")
{
    const auto failure = first_failure(60, [](std::uint64_t seed) {
        auto w = small_buckets(seed);
        w.counted_error_percent = 10;
        return w;
    });
    report(failure);
    CHECK_FALSE(failure.has_value());
}

// ---- minimal regressions
// ---------------------------------------------------------------------------

TEST_CASE("rule: a bucket held back for a probe waits for the probe, it does not ask to be woken "
          "at once forever",
          "[engine]")
{
    drl::engine_config<clock_type> config;
    config.probe_hold_limit = duration::zero(); // the probe goes although a bucket of its channel
    engine_type e{config};                      // is spent (see the probe hold's own tests)
    const auto known = drl::make_route("GET", "/channels/1/messages/5");
    const auto unknown = drl::make_route("GET", "/channels/1/pins"); // same major, hash not learned
    const auto first = e.acquire(known, t0);
    REQUIRE(first.granted());
    (void)e.complete(first.ticket, 200, bucket_headers(1, 0, "0.100", "A"), "{}",
               t0 + 10ms); // reset at 110 ms
    const auto probe = e.acquire(unknown, t0 + 50ms);
    REQUIRE(probe.granted()); // the probe on channel 1: known buckets of channel 1 hold one back
    const auto waiter = e.acquire(known, t0 + 60ms);
    REQUIRE(waiter.status == acquire_status::waiting);

    // The window rolls at 110 ms (estimated next end: 210 ms), the probe still holds the capacity.
    CHECK(granted_by_advance(e, t0 + 110ms).empty());
    CHECK(granted_by_advance(e, t0 + 210ms).empty());
    // Nothing can change before the probe's response: asking to be called again at 210 ms (now)
    // makes every driver spin (simulate() never returns, an Asio timer fires in a loop).
    const auto wake = e.next_wakeup();
    CHECK((!wake || *wake > t0 + 210ms));
    granted_by_advance(e, t0 + 210ms);
    CHECK(e.next_wakeup() == wake); // and again, and again

    (void)e.complete(probe.ticket, 200, bucket_headers(5, 4, "1", "B"), "{}", t0 + 300ms);
    CHECK(granted_by_advance(e, t0 + 300ms) == std::vector{waiter.ticket});
}

TEST_CASE("rule: one bucket has one queue: waiters queued before their route's hash was learned do "
          "not probe beside it",
          "[engine]")
{
    // Discord: until the first response a bucket is unknown, send one request and wait for its
    // headers. Route R on channel 1 learns hash B; R's waiter on channel 2, queued earlier in its
    // provisional bucket, must not go while a request of (B, channel 2) is in flight.
    server_type::config sc;
    sc.routes["GET /channels/{channel_id}/pins"] = {"B", 1, 1s};
    server_type server{sc};
    engine_type e;
    const auto ch1 = drl::make_route("GET", "/channels/1/pins");
    const auto ch2 = drl::make_route("GET", "/channels/2/pins");

    const auto p1 = e.acquire(ch1, t0); // probe of R on channel 1
    const auto x = e.acquire(ch2, t0);  // probe of R on channel 2
    const auto y = e.acquire(ch2, t0);  // waits behind x in R's provisional bucket for channel 2
    REQUIRE(p1.granted());
    REQUIRE(x.granted());
    REQUIRE(y.status == acquire_status::waiting);
    const auto r1 = server.handle(ch1, t0 + 5ms);
    (void)e.complete(p1.ticket, r1.status, r1.headers, r1.body, t0 + 10ms); // R is now known: hash B
    const auto z = e.acquire(ch2, t0 + 20ms); // goes to (B, channel 2), held back for x's probe
    REQUIRE(z.status == acquire_status::waiting);

    REQUIRE_FALSE(e.cancel(x.ticket, t0 + 30ms)); // x is not sent after all
    const auto granted = granted_by_advance(e, t0 + 30ms);
    CHECK(granted.size() <= 1); // today: both y (from the stale provisional queue) and z go
    // Send what was granted: the server has one request per second on (B, channel 2).
    std::uint64_t rate_limited = 0;
    for (const auto id : granted) {
        (void)id;
        if (server.handle(ch2, t0 + 40ms).status == 429)
            ++rate_limited;
    }
    CHECK(rate_limited == 0);
    // FIFO: y came before z.
    if (!granted.empty())
        CHECK(granted.front() == y.ticket);
}

TEST_CASE("rule: a permit lost to a 5xx just before the window resets is still charged in the next "
          "window",
          "[engine]")
{
    // The request reached Discord after Discord's reset (its new window counts it) but its 500 came
    // back before our reset estimate; rolling over must not forget it.
    server_type::config sc;
    sc.routes["GET /channels/{channel_id}/messages/{id}"] = {"A", 2, 1s};
    server_type server{sc};
    engine_type e;
    const auto route = drl::make_route("GET", "/channels/1/messages/5");

    const auto p = e.acquire(route, t0);
    REQUIRE(p.granted());
    auto reply = server.handle(route, t0); // server window [0 s, 1 s)
    (void)e.complete(p.ticket, reply.status, reply.headers, reply.body, t0 + 100ms); // our reset: 1.1 s

    const auto lost = e.acquire(route, t0 + 1050ms);
    REQUIRE(lost.granted());
    reply =
        server.handle(route, t0 + 1060ms); // counted in the server's new window [1.06 s, 2.06 s)
    REQUIRE(reply.status == 200);
    const auto c = e.complete(lost.ticket, 500, via_only, "", t0 + 1070ms); // the answer was lost
    REQUIRE(c.status == completion_status::retry);

    std::vector<drl::ticket_id> sent;
    for (int i = 0; i < 3; ++i) {
        const auto a = e.acquire(route, t0 + 1100ms);
        if (a.granted())
            sent.push_back(a.ticket);
    }
    const auto more = granted_by_advance(e, t0 + 1100ms);
    sent.insert(sent.end(), more.begin(), more.end());
    std::uint64_t rate_limited = 0;
    for (std::size_t i = 0; i < sent.size(); ++i)
        if (server.handle(route, t0 + 1110ms).status == 429)
            ++rate_limited;
    CHECK(sent.size() <= 1);
    CHECK(rate_limited == 0);
}

TEST_CASE("rule: during a ban nothing is sent, not even the retry of a request that was in flight",
          "[engine]")
{
    // README: a Cloudflare 429 stops all traffic for the cool-down; Discord: retrying into a ban
    // extends it.
    engine_type e;
    const auto a = e.acquire(drl::make_route("GET", "/channels/1/messages/5"), t0);
    const auto b = e.acquire(drl::make_route("GET", "/channels/2/messages/5"), t0);
    const auto c = e.acquire(drl::make_route("GET", "/channels/3/messages/5"), t0);
    REQUIRE(a.granted());
    REQUIRE(b.granted());
    REQUIRE(c.granted());
    const auto ban = e.complete(a.ticket, 429, headers_type{{"retry-after", "60"}},
                                "error code: 1015", t0 + 10ms);
    REQUIRE(ban.result == drl::outcome::cloudflare_429);
    REQUIRE(e.banned(t0 + 10ms));

    // b was in flight: its 502 comes back after the ban was detected.
    const auto cb = e.complete(b.ticket, 502, via_only, "", t0 + 20ms);
    // c was in flight: a user 429 with Via comes back after the ban was detected.
    const auto cc = e.complete(
        c.ticket, 429,
        headers_type{{"retry-after", "1"}, {"x-ratelimit-scope", "user"}, {"via", "1.1 google"}},
        R"({"message": "You are being rate limited.", "retry_after": 1.0, "global": false})",
        t0 + 20ms);
    CHECK(cb.status == completion_status::failed);
    CHECK(cc.status == completion_status::failed);
    // Whatever was answered, nothing may be granted while banned.
    std::size_t granted = 0;
    for (auto now = t0 + 20ms; now < t0 + 2s; now += 10ms)
        granted += granted_by_advance(e, now).size();
    CHECK(e.banned(t0 + 2s));
    CHECK(granted == 0);
}

TEST_CASE("rule: once invalid requests reach the stop, retries are refused like new requests",
          "[engine]")
{
    engine_type::config_type config;
    config.invalid_request_stop = 2;
    engine_type e{config};
    const auto a = e.acquire(drl::make_route("GET", "/channels/1/messages/5"), t0);
    const auto b = e.acquire(drl::make_route("GET", "/channels/2/messages/5"), t0);
    REQUIRE(a.granted());
    REQUIRE(b.granted());
    const headers_type user_429{
        {"retry-after", "1"}, {"x-ratelimit-scope", "user"}, {"via", "1.1 google"}};
    const std::string body =
        R"({"message": "You are being rate limited.", "retry_after": 1.0, "global": false})";
    (void)e.complete(a.ticket, 403, via_only, "{}", t0 + 10ms);                 // invalid #1
    const auto cb = e.complete(b.ticket, 429, user_429, body, t0 + 10ms); // invalid #2: the stop
    REQUIRE(e.acquire(drl::make_route("GET", "/channels/9/messages/5"), t0 + 10ms).status ==
            acquire_status::failed);
    CHECK(cb.status == completion_status::failed); // today: retry at +1 s
    CHECK(
        granted_by_advance(e, t0 + 2s).empty()); // today: b is granted again, a 3rd invalid request
}

TEST_CASE(
    "rule: when a route's hash changes, its other permits in flight count against the new bucket",
    "[engine]")
{
    // Discord: the hash of a route can change at run time. The server counts the in-flight requests
    // of the route in the new bucket; the engine must not hand out that capacity twice.
    engine_type e;
    const auto route = drl::make_route("GET", "/channels/1/messages/5");
    const auto p = e.acquire(route, t0);
    (void)e.complete(p.ticket, 200, bucket_headers(5, 4, "10", "H1"), "{}", t0);
    const auto a1 = e.acquire(route, t0 + 1ms);
    const auto a2 = e.acquire(route, t0 + 1ms);
    REQUIRE(a1.granted());
    REQUIRE(a2.granted());
    // The server moved the route to H2 (2 per window): a1 and a2 both land there.
    (void)e.complete(a1.ticket, 200, bucket_headers(2, 1, "10", "H2"), "{}", t0 + 50ms);
    const auto b = e.acquire(route, t0 + 60ms); // a2 is still in flight towards H2: H2 is full
    CHECK(b.status == acquire_status::waiting);
}

// ---- a probe may share a spent bucket of its channel --------------------------------------------

TEST_CASE("a probe waits while a known bucket of its channel is spent: the route may share it",
          "[engine][probe]")
{
    const auto patch = drl::make_route("PATCH", "/channels/1/messages/5");
    const auto del = drl::make_route("DELETE", "/channels/1/messages/6");
    const auto del_elsewhere = drl::make_route("DELETE", "/channels/2/messages/6");
    const auto spend_patch_bucket = [&](engine_type& e, const std::string& reset_after) {
        const auto a = e.acquire(patch, t0);
        REQUIRE(a.granted());
        REQUIRE(
            e.complete(a.ticket, 200, bucket_headers(1, 0, reset_after, "edits"), "{}", t0 + 50ms)
                .status == completion_status::done);
    };

    SECTION("held until the spent bucket resets; other channels probe at once")
    {
        engine_type e;
        spend_patch_bucket(e, "5");
        const auto d = e.acquire(del, t0 + 100ms);
        CHECK(d.status == acquire_status::waiting);
        CHECK(d.reason == drl::wait_reason::unknown_bucket);
        REQUIRE(d.retry_at);
        CHECK(*d.retry_at == t0 + 50ms + 5s);
        CHECK(e.next_wakeup() == t0 + 50ms + 5s);
        CHECK(e.acquire(del_elsewhere, t0 + 100ms).granted());
        CHECK(granted_by_advance(e, t0 + 5s).empty());
        CHECK(granted_by_advance(e, t0 + 50ms + 5s) == std::vector{d.ticket});
    }
    SECTION("a request's maximum wait sees the hold")
    {
        engine_type e;
        spend_patch_bucket(e, "5");
        drl::request_options<clock_type> options;
        options.max_wait = 1s;
        const auto d = e.acquire(del, t0 + 100ms, options);
        CHECK(d.status == acquire_status::failed);
        CHECK(d.error == drl::error::rate_limited);
    }
    SECTION("not for a spent bucket resetting beyond probe_hold_limit")
    {
        engine_type e;
        spend_patch_bucket(e, "60");
        CHECK(e.acquire(del, t0 + 100ms).granted());
    }
    SECTION("not when probe_hold_limit is zero")
    {
        drl::engine_config<clock_type> config;
        config.probe_hold_limit = duration::zero();
        engine_type e{config};
        spend_patch_bucket(e, "5");
        CHECK(e.acquire(del, t0 + 100ms).granted());
    }
    SECTION("not once the spent bucket has reset")
    {
        engine_type e;
        spend_patch_bucket(e, "5");
        CHECK(e.acquire(del, t0 + 50ms + 5s).granted());
    }
}

TEST_CASE("a probe's hold ends probe_hold_limit after it began to wait, however busy its channel",
          "[engine][probe]")
{
    // Two buckets of channel 1 spent in turn: one of them is nearly always spent. The probe waits
    // for them, but not for longer than the limit.
    drl::engine_config<clock_type> config;
    config.probe_hold_limit = 3s;
    engine_type e{config};
    const auto spend = [&](const char* method, const char* path, const char* hash,
                           std::uint32_t remaining, const char* reset_after, time_point at) {
        const auto a = e.acquire(drl::make_route(method, path), at);
        REQUIRE(a.granted());
        const auto h = bucket_headers(2, remaining, reset_after, hash);
        REQUIRE(e.complete(a.ticket, 200, h, "{}", at).status == completion_status::done);
    };
    spend("POST", "/channels/1/messages", "sends", 1, "4.9", t0); // known, not spent
    spend("GET", "/channels/1/messages/5", "reads", 0, "2.5", t0);
    const auto probe = e.acquire(drl::make_route("GET", "/channels/1/pins"), t0 + 100ms);
    REQUIRE(probe.status == acquire_status::waiting);
    CHECK(*probe.retry_at == t0 + 2500ms);
    spend("POST", "/channels/1/messages", "sends", 0, "2.9", t0 + 2s); // spent until 4.9 s
    CHECK(granted_by_advance(e, t0 + 2500ms).empty());
    CHECK(granted_by_advance(e, t0 + 3100ms) == std::vector{probe.ticket});
}

TEST_CASE("routes without a major parameter do not hold each other's probes", "[engine][probe]")
{
    engine_type e;
    const auto a = e.acquire(drl::make_route("POST", "/users/@me/channels"), t0);
    REQUIRE(a.granted());
    (void)e.complete(a.ticket, 200, bucket_headers(1, 0, "5", "dms"), "{}", t0);
    CHECK(e.acquire(drl::make_route("GET", "/users/@me/guilds"), t0 + 10ms).granted());
}

// ---- scarce global slots: the critical path first -----------------------------------------------

namespace {

/// Messages: 1 per 1 s per channel; a global limit of `global` per second on both sides.
server_type::config one_per_second(std::uint32_t global)
{
    server_type::config config;
    config.global_limit = global;
    config.record_arrivals = true;
    config.routes["POST /channels/{channel_id}/messages"] = {"messages", 1, 1s};
    return config;
}

drl::route message_to(std::uint64_t channel)
{
    return drl::make_route("POST", "/channels/" + std::to_string(channel) + "/messages");
}

duration no_latency(std::size_t)
{
    return duration::zero();
}

} // namespace

TEST_CASE("rule: scarce global slots go to the bucket with the longest chain of windows first",
          "[engine][schedule]")
{
    drl::engine_config<clock_type> config;
    config.global_limit = 5;
    engine_type e{config};
    server_type server{one_per_second(5)};

    // Learn every bucket's limit: one message to each of 30 channels, 5 per second from 0 to 5 s;
    // the last 5 hold the global limit until 6 s.
    std::vector<drl::route> warm_up;
    for (std::uint64_t channel = 1; channel <= 30; ++channel)
        warm_up.push_back(message_to(channel));
    const auto learned = drl::testing::simulate(e, server, warm_up, t0, no_latency);
    REQUIRE(learned.succeeded == 30);
    REQUIRE(learned.last_response == t0 + 5s);

    // Then a chain of 10 windows on channel 1, submitted between 29 one-request channels: with the
    // drain stack's order (the last waiter first) or the oldest request first, single requests
    // take the slots that free at 6 s and the chain starts late.
    std::vector<drl::route> work;
    for (std::uint64_t channel = 2; channel <= 16; ++channel)
        work.push_back(message_to(channel));
    for (int n = 0; n < 10; ++n)
        work.push_back(message_to(1));
    for (std::uint64_t channel = 17; channel <= 30; ++channel)
        work.push_back(message_to(channel));
    const time_point start = learned.last_response;
    const auto result = drl::testing::simulate(e, server, work, start, no_latency);
    REQUIRE(result.succeeded == work.size());
    CHECK(server.seen().rate_limited() == 0);

    std::vector<time_point> chain;
    for (const auto& a : server.arrivals())
        if (a.major == 1 && a.at >= start)
            chain.push_back(a.at);
    REQUIRE(chain.size() == 10);
    CHECK(chain.front() == t0 + 6s); // the first slot that frees
    // The bound: the chain's 10 windows from the first free slot, (10 - 1) x (1 s + RTT) + RTT;
    // the 29 others fit beside it (39 requests need only 8 global windows).
    CHECK(result.last_response == t0 + 6s + 9s);
    CHECK(chain.back() == t0 + 15s);
}

TEST_CASE("rule: a one-request bucket is not starved by long chains that fill the global limit",
          "[engine][schedule]")
{
    // Two channels with a backlog of 30 windows each, fed one more request per second, fill the
    // global limit of 2 per second for 200 s. A request on a third channel, submitted at 5 s, has
    // the shortest chain of all: ranked by chains alone it would wait for the feeds to stop. The
    // age of its request outranks a chain's capped length once the chains' oldest requests are
    // ones submitted more than the cap after it.
    drl::engine_config<clock_type> config;
    config.global_limit = 2;
    config.critical_path_cap = 10s;
    engine_type e{config};
    server_type server{one_per_second(2)};

    std::multimap<time_point, drl::route> arrivals;
    for (int n = 0; n < 30; ++n) {
        arrivals.emplace(t0, message_to(1));
        arrivals.emplace(t0, message_to(2));
    }
    for (int second = 1; second < 200; ++second) {
        arrivals.emplace(t0 + std::chrono::seconds{second}, message_to(1));
        arrivals.emplace(t0 + std::chrono::seconds{second}, message_to(2));
    }
    const auto single_at = t0 + 5s;
    arrivals.emplace(single_at, message_to(3));

    drl::ticket_id single = 0;
    std::optional<time_point> single_sent;
    std::size_t open = arrivals.size();
    time_point now = t0;
    auto send = [&](drl::ticket_id id, const drl::route& r) {
        if (id == single)
            single_sent = now;
        const auto reply = server.handle(r, now);
        const auto c = e.complete(id, reply.status, reply.headers, reply.body, now);
        REQUIRE(c.status == completion_status::done);
        --open;
    };
    std::map<drl::ticket_id, drl::route> waiting;
    for (int turn = 0; open > 0 && turn < 100000; ++turn) {
        std::vector<std::pair<drl::ticket_id, drl::route>> granted;
        while (!arrivals.empty() && arrivals.begin()->first <= now) {
            const drl::route r = arrivals.begin()->second;
            arrivals.erase(arrivals.begin());
            const auto a = e.acquire(r, now);
            REQUIRE(a.status != acquire_status::failed);
            if (r.major.id == 3)
                single = a.ticket;
            if (a.granted())
                granted.emplace_back(a.ticket, r);
            else
                waiting.emplace(a.ticket, r);
        }
        for (const auto id : granted_by_advance(e, now)) {
            granted.emplace_back(id, waiting.at(id));
            waiting.erase(id);
        }
        for (const auto& [id, r] : granted)
            send(id, r);
        std::optional<time_point> next = e.next_wakeup();
        if (!arrivals.empty() && (!next || arrivals.begin()->first < *next))
            next = arrivals.begin()->first;
        if (!next)
            break;
        now = std::max(now, *next);
    }
    CHECK(open == 0);
    CHECK(server.seen().rate_limited() == 0);
    REQUIRE(single_sent);
    // Chains alone would keep it waiting until about 230 s. With ages, the chains' requests that
    // pass it are those submitted up to the cap after it (at most 2 x 15 s of feed and backlog
    // of 60 at 2 per second): it goes within a minute.
    CHECK(*single_sent < single_at + 60s);
}
