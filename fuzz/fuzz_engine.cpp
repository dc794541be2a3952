// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Fuzzes the engine (engine.hpp) with the input read as a sequence of operations on a manual
// clock: acquire, ask again, cancel, complete (fuzzed responses), transport errors, stale ids and
// time steps. The first byte picks the mode (even: honest server, odd: fuzzed responses) and the
// next bytes the configuration. Every step checks the engine against a model of the tickets; the
// end of the input drives time forward until every ticket has ended. See the invariants below.
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace drl = discord_ratelimit;
using namespace std::chrono_literals;

namespace {

using clock_type = drl::manual_clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;
using engine_type = drl::engine<clock_type>;
using server_type = drl::testing::simulated_discord<clock_type>;
using headers_type = std::vector<std::pair<std::string, std::string>>;

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "fuzz_engine: invariant violated: %s\n", what);
    std::abort();
}

void check(bool condition, const char* what)
{
    if (!condition)
        fail(what);
}

/// FUZZ_ENGINE_TRACE=1 in the environment prints every step of a run (for reproducers).
const bool tracing = std::getenv("FUZZ_ENGINE_TRACE") != nullptr;

template <class... Args>
void trace(const char* format, Args... args)
{
    if (tracing)
        std::fprintf(stderr, format, args...);
}

long long ms_of(duration d)
{
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

/// The input, a byte at a time; zeros once it is used up.
class byte_reader {
public:
    byte_reader(const std::uint8_t* data, std::size_t size)
        : data_(data)
        , size_(size)
    {
    }
    bool done() const { return pos_ >= size_; }
    std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }
    template <class T, std::size_t N>
    const T& pick(const std::array<T, N>& choices)
    {
        return choices[next() % N];
    }
    std::string raw(std::size_t max)
    {
        const std::size_t n =
            std::min<std::size_t>(next() % (max + 1), size_ - std::min(pos_, size_));
        std::string out(reinterpret_cast<const char*>(data_) + pos_, n);
        pos_ += n;
        return out;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

/// The routes a run chooses from: several majors, a shared key on two channels, reactions, a
/// message delete, an exempt interaction callback, a name/topic edit, no major, API v6.
const std::vector<drl::route>& all_routes()
{
    static const std::vector<drl::route> routes = [] {
        drl::route_options edit;
        edit.edits_channel_name_or_topic = true;
        return std::vector<drl::route>{
            drl::make_route("GET", "/channels/1/messages"),
            drl::make_route("POST", "/channels/1/messages"),
            drl::make_route("GET", "/channels/2/messages"),
            drl::make_route("PUT", "/channels/1/messages/5/reactions/thumbs:1/@me"),
            drl::make_route("GET", "/guilds/3/members"),
            drl::make_route("DELETE", "/channels/1/messages/1234567890123456789"),
            drl::make_route("POST", "/interactions/7/aW50ZXJhY3Rpb246dG9rZW4/callback"),
            drl::make_route("PATCH", "/channels/2", edit),
            drl::make_route("GET", "/users/@me"),
            drl::make_route("GET", "/api/channels/2/pins"),
        };
    }();
    return routes;
}

enum class state { waiting, granted, ended };

struct ticket_model {
    state s = state::waiting;
    std::size_t route = 0;
    std::optional<time_point> limit_at; ///< deadline or submission + max_wait, the earlier
};

class harness {
public:
    harness(byte_reader& in)
        : in_(in)
        , honest_((in.next() & 1) == 0)
        , server_(server_config())
        , engine_(engine_config())
    {
    }

    void run()
    {
        for (std::size_t ops = 0; !in_.done() && ops < 400; ++ops) {
            operation();
            check_counters();
        }
        drain();
    }

private:
    // ---- configuration -------------------------------------------------------------------------

    server_type::config server_config()
    {
        server_type::config c;
        global_limit_ = in_.pick(std::array<std::uint32_t, 5>{50, 1, 2, 3, 5});
        c.global_limit = global_limit_;
        // Every route key gets a hash of its own: a probe on a never-seen route can then never
        // land in a bucket another route already spent (no limiter can know a hash beforehand),
        // so any bucket 429 is the engine's fault. Keys shared by two majors still share a rule.
        const std::array<std::uint32_t, 6> limits{1, 2, 5, 10, 3, 50};
        const std::array<duration, 6> windows{1s, 5s, 333ms, 10s, 100ms, 60s};
        std::size_t n = 0;
        for (const auto& r : all_routes()) {
            const std::string key{r.key.view()};
            if (c.routes.count(key) == 0)
                c.routes[key] = {"hash" + std::to_string(n++), in_.pick(limits), in_.pick(windows)};
        }
        return c;
    }

    engine_type::config_type engine_config()
    {
        engine_type::config_type c;
        c.global_limit = global_limit_;
        const std::uint8_t flags = in_.next();
        c.probe_hold_limit = (flags & 1) ? 0s : 10s;
        c.critical_path_cap = (flags & 2) ? 0s : 60s;
        c.reserve_global_slots = (flags & 4) == 0;
        if (!honest_) {
            c.require_via = (flags & 8) == 0;
            c.invalid_request_stop = in_.pick(std::array<std::optional<std::uint32_t>, 3>{
                9000u, 3u, std::optional<std::uint32_t>{}});
            c.ban_cooldown = (flags & 16) ? 1s : duration{1h};
            if (flags & 32) {
                c.eviction_interval = 1s;
                c.registry.bucket_idle = 1s;
                c.registry.hash_lifetime = 2s;
                c.registry.route_idle = 2s;
            }
            if (flags & 64)
                c.default_retry_after = 0s;
        }
        return c;
    }

    // ---- the model -----------------------------------------------------------------------------

    std::vector<drl::ticket_id> in_state(state s) const
    {
        std::vector<drl::ticket_id> out;
        for (const auto& [id, t] : tickets_)
            if (t.s == s)
                out.push_back(id);
        return out;
    }

    std::optional<drl::ticket_id> choose(state s)
    {
        const auto ids = in_state(s);
        if (ids.empty())
            return std::nullopt;
        return ids[in_.next() % ids.size()];
    }

    std::size_t live() const
    {
        std::size_t n = 0;
        for (const auto& [id, t] : tickets_)
            n += t.s != state::ended ? 1 : 0;
        return n;
    }

    /// A new ticket id: never 0, never seen before.
    void issued(drl::ticket_id id, std::size_t route, std::optional<time_point> limit_at, state s)
    {
        check(id != 0, "a ticket id is never 0");
        check(tickets_.count(id) == 0, "a ticket id is never handed out twice");
        tickets_[id] = ticket_model{s, route, limit_at};
        if (s == state::granted)
            ++grants_;
    }

    void ended(drl::ticket_id id) { tickets_.at(id).s = state::ended; }

    void check_counters()
    {
        const drl::engine_stats s = engine_.stats(now_);
        check(s.live_tickets == live(), "live_tickets equals the tickets not ended");
        check(s.requests == requests_, "requests counts every acquire");
        check(s.succeeded == succeeded_, "succeeded counts the done completions");
        // A waiting ticket the engine failed (deadline, max_wait, ban) before the caller's cancel
        // counts as failed, not cancelled: only cancels of waiting tickets can fall short.
        check(s.cancelled <= cancelled_ && cancelled_ - s.cancelled <= cancelled_waiting_,
              "cancelled counts the accepted cancels of tickets the engine had not failed");
        check(s.granted >= grants_, "every grant seen is counted");
        // Grants made inside complete or cancel wait for the next advance to be reported.
        check(s.granted - grants_ <= cancelled_waiting_ + in_state(state::waiting).size(),
              "only grants not reported yet are unseen");
        check(s.buckets < (1u << 20) && s.routes < (1u << 20) && s.live_tickets < (1u << 20),
              "no counter wraps");
        check(s.failed < (1u << 30) && s.retries < (1u << 30) && s.waited <= s.granted,
              "failure counters stay small");
        // Grants made inside complete or cancel are reported by the next advance: until then
        // the model still calls them waiting.
        check(engine_.global().in_flight() <= live(),
              "no more global slots in flight than tickets");
        if (honest_) {
            const auto& seen = server_.seen();
            check(seen.user_429 == 0, "honest server: a bucket window got more than its limit");
            check(seen.global_429 == 0, "honest server: the global limit was exceeded");
            check(seen.sub_limit_429 == 0, "honest server: the name/topic edit limit was exceeded");
        }
    }

    /// No waiting ticket outlives its deadline or maximum wait (checked right after `advance`).
    void check_limits()
    {
        for (const auto& [id, t] : tickets_)
            if (t.s == state::waiting && t.limit_at)
                check(*t.limit_at > now_, "a waiting ticket outlived its deadline or max_wait");
    }

    // ---- operations ----------------------------------------------------------------------------

    void operation()
    {
        switch (in_.next() % 10) {
        case 0:
        case 1:
        case 2: acquire(); break;
        case 3: step(time_step()); break;
        case 4: step(engine_.next_wakeup().value_or(now_) - now_); break;
        case 5: cancel_waiting(); break;
        case 6: ask_again(); break;
        case 7: stale(); break;
        case 8:
        case 9:
            if (honest_)
                step(time_step());
            else
                complete_one();
            break;
        }
    }

    duration time_step()
    {
        const std::array<duration, 12> steps{0ms, 1ms, 10ms, 100ms, 333ms, 1s,
                                             5s,  10s, 65s,  10min, 1h,    500ms};
        return in_.pick(steps) + std::chrono::milliseconds{in_.next()};
    }

    void acquire()
    {
        if (live() >= 48)
            return;
        const std::size_t route = in_.next() % all_routes().size();
        engine_type::options_type options;
        const std::uint8_t o = in_.next();
        if (o & 1)
            options.deadline = now_ + std::chrono::milliseconds{in_.next() * 20};
        if (o & 2)
            options.max_wait = std::chrono::milliseconds{in_.next() * 20};
        options.resend_non_idempotent = (o & 4) != 0;
        std::optional<time_point> limit_at = options.deadline;
        if (options.max_wait && (!limit_at || now_ + *options.max_wait < *limit_at))
            limit_at = now_ + *options.max_wait;
        ++requests_;
        const auto r = engine_.acquire(all_routes()[route], now_, options);
        trace("%lld ms: acquire #%zu %s (deadline %d, max_wait %d) -> status %d ticket %llx\n",
              ms_of(now_.time_since_epoch()), route,
              std::string(all_routes()[route].key.view()).c_str(),
              options.deadline ? int(ms_of(*options.deadline - now_)) : -1,
              options.max_wait ? int(ms_of(*options.max_wait)) : -1, int(r.status),
              static_cast<unsigned long long>(r.ticket));
        switch (r.status) {
        case drl::acquire_status::granted:
            issued(r.ticket, route, limit_at, state::granted);
            on_granted(r.ticket);
            break;
        case drl::acquire_status::waiting:
            issued(r.ticket, route, limit_at, state::waiting);
            check(!r.retry_at || *r.retry_at >= now_, "retry_at is not in the past");
            break;
        case drl::acquire_status::failed:
            check(static_cast<bool>(r.error), "a failure has an error");
            if (r.ticket != 0) {
                issued(r.ticket, route, limit_at, state::ended);
            } else {
                ++refused_;
            }
            break;
        }
    }

    void cancel_waiting()
    {
        const auto id = choose(state::waiting);
        if (!id)
            return;
        trace("%lld ms: cancel waiting %llx\n", ms_of(now_.time_since_epoch()),
              static_cast<unsigned long long>(*id));
        check(!engine_.cancel(*id, now_), "a waiting ticket can be cancelled");
        ++cancelled_;
        ++cancelled_waiting_;
        ended(*id);
    }

    void ask_again()
    {
        const auto id = choose(state::waiting);
        if (!id)
            return;
        const auto r = engine_.acquire(*id, now_);
        trace("%lld ms: ask again %llx -> %d\n", ms_of(now_.time_since_epoch()),
              static_cast<unsigned long long>(*id), int(r.status));
        check(r.ticket == *id, "asking again answers for the same ticket");
        if (r.status == drl::acquire_status::granted) {
            tickets_.at(*id).s = state::granted;
            ++grants_;
            on_granted(*id);
        } else if (r.status == drl::acquire_status::failed) {
            check(r.error != drl::make_error_code(drl::error::unknown_permit),
                  "a waiting ticket is known");
            ended(*id);
        } else {
            check(!r.retry_at || *r.retry_at >= now_, "retry_at is not in the past");
        }
    }

    /// Ids the engine no longer holds (ended, or made up) are refused, never undefined.
    void stale()
    {
        drl::ticket_id id = 0;
        const auto old = choose(state::ended);
        if (old && (in_.next() & 1)) {
            id = *old;
        } else {
            id = (static_cast<drl::ticket_id>(in_.next()) << 32) | in_.next();
            if (id == 0 || (tickets_.count(id) && tickets_.at(id).s != state::ended))
                return;
        }
        const auto unknown = drl::make_error_code(drl::error::unknown_permit);
        const std::uint8_t how = in_.next();
        trace("%lld ms: stale id %llx, call %d\n", ms_of(now_.time_since_epoch()),
              static_cast<unsigned long long>(id), how % 4);
        switch (how % 4) {
        case 0: check(engine_.cancel(id, now_) == unknown, "cancel refuses an unknown id"); break;
        case 1: {
            const auto r = engine_.acquire(id, now_);
            check(r.status == drl::acquire_status::failed && r.error == unknown,
                  "acquire refuses an unknown id");
            break;
        }
        case 2: {
            const auto c = engine_.complete(id, 200, headers_type{{"via", "1.1 google"}}, "", now_);
            check(c.status == drl::completion_status::failed && c.error == unknown,
                  "complete refuses an unknown id");
            break;
        }
        case 3: {
            const auto c = engine_.complete(id, drl::transport_error::timeout, now_);
            check(c.status == drl::completion_status::failed && c.error == unknown,
                  "a transport error on an unknown id is refused");
            break;
        }
        }
        if (id != 0 && in_.next() % 8 == 0) {
            // A made-up id in another ticket's slot with another generation.
            const auto forged = id ^ (std::uint64_t{1} << 40);
            if (tickets_.count(forged) == 0)
                check(engine_.cancel(forged, now_) == unknown, "a forged generation is refused");
        }
    }

    /// A granted ticket: in honest mode, sent at once (or, rarely, cancelled before sending);
    /// in fuzzed mode, held until an operation completes or cancels it.
    void on_granted(drl::ticket_id id)
    {
        if (!honest_)
            return;
        const std::uint8_t b = draining_ ? 1 : in_.next();
        if ((b & 0x1F) == 0) {
            trace("%lld ms: cancel granted %llx\n", ms_of(now_.time_since_epoch()),
                  static_cast<unsigned long long>(id));
            check(!engine_.cancel(id, now_), "a granted ticket can be cancelled before sending");
            ++cancelled_;
            ended(id);
            return;
        }
        const duration to_server = std::chrono::milliseconds{(b >> 5) * 60};
        const duration back = std::chrono::milliseconds{draining_ ? 10 : in_.next() * 4};
        events_.emplace(now_ + to_server, event{true, id, back, {}});
    }

    void completed(drl::ticket_id id, const engine_type::completion_type& c)
    {
        trace("%lld ms: completed %llx -> status %d outcome %d retry_at %lld error %s\n",
              ms_of(now_.time_since_epoch()), static_cast<unsigned long long>(id), int(c.status),
              int(c.result), c.retry_at ? ms_of(c.retry_at->time_since_epoch()) : -1LL,
              c.error.message().c_str());
        switch (c.status) {
        case drl::completion_status::done:
            ++succeeded_;
            ended(id);
            break;
        case drl::completion_status::retry:
            check(c.retry_at.has_value() && *c.retry_at >= now_, "a retry says when");
            tickets_.at(id).s = state::waiting;
            break;
        case drl::completion_status::failed:
            check(static_cast<bool>(c.error) &&
                      c.error != drl::make_error_code(drl::error::unknown_permit),
                  "a granted ticket completes with a real error");
            ended(id);
            break;
        }
    }

    headers_type fuzzed_headers()
    {
        headers_type h;
        const std::uint8_t present = in_.next();
        const std::uint8_t more = in_.next();
        const auto value = [this](auto choices) -> std::string {
            if (in_.next() % 16 == 0)
                return in_.raw(24); // anything at all
            return in_.pick(choices);
        };
        using texts4 = std::array<const char*, 4>;
        using texts8 = std::array<const char*, 8>;
        if (present & 1)
            h.emplace_back("x-ratelimit-limit",
                           value(texts8{"1", "2", "5", "10", "0", "50", "1000000", "3"}));
        if (present & 2)
            h.emplace_back("x-ratelimit-remaining",
                           value(texts8{"0", "1", "4", "9", "0", "2", "1000000", "0"}));
        if (present & 4)
            h.emplace_back(
                "x-ratelimit-reset-after",
                value(texts8{"0", "0.001", "0.5", "1", "5.000", "64.57", "3600", "604800"}));
        if (present & 8)
            h.emplace_back("x-ratelimit-bucket", value(texts4{"h0", "h1", "h2", "abcd1234"}));
        if (present & 16)
            h.emplace_back("x-ratelimit-scope", value(texts4{"user", "shared", "global", "guild"}));
        if (present & 32)
            h.emplace_back("x-ratelimit-global", value(texts4{"true", "false", "TRUE", "maybe"}));
        if (present & 64)
            h.emplace_back("retry-after",
                           value(texts8{"0", "1", "65", "1337", "0.5", "3600", "604800", "-1"}));
        if ((present & 128) == 0)
            h.emplace_back("via", "1.1 google");
        if (more & 1)
            h.emplace_back("x-ratelimit-reset", value(texts4{"1470173023.123", "1764464400",
                                                             "9223372036", "1400000000"}));
        if (more & 2)
            h.emplace_back(
                "date",
                value(texts4{"Sun, 06 Nov 1994 08:49:37 GMT", "Mon, 30 Nov 2026 01:00:00 GMT",
                             "Sat, 01 Jan 0000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"}));
        return h;
    }

    std::string fuzzed_body()
    {
        const std::array<const char*, 10> bodies{
            "",
            R"({"message": "You are being rate limited.", "retry_after": 0.5, "global": false})",
            R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": false})",
            R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.661})",
            R"({"code": 0, "message": "You are being blocked from accessing our API temporarily"})",
            "<!DOCTYPE html><html>Access denied</html>",
            "error code: 1015",
            R"({"message": "x", "retry_after": 1e400})",
            R"({"message": "The resource is being rate limited.", "retry_after": 1336.57})",
            "{\"message\": \"truncated"};
        if (in_.next() % 16 == 0)
            return in_.raw(64);
        return in_.pick(bodies);
    }

    void complete_one()
    {
        const auto id = choose(state::granted);
        if (!id)
            return;
        const std::uint8_t how = in_.next();
        if (how % 8 == 0) {
            // Abandoned before sending.
            trace("%lld ms: cancel granted %llx\n", ms_of(now_.time_since_epoch()),
                  static_cast<unsigned long long>(*id));
            check(!engine_.cancel(*id, now_), "a granted ticket can be cancelled");
            ++cancelled_;
            ended(*id);
            return;
        }
        if (how % 8 == 1) {
            const auto failure = in_.pick(std::array<drl::transport_error, 3>{
                drl::transport_error::connect_failed, drl::transport_error::network,
                drl::transport_error::timeout});
            trace("%lld ms: transport error %d on %llx\n", ms_of(now_.time_since_epoch()),
                  int(failure), static_cast<unsigned long long>(*id));
            completed(*id, engine_.complete(*id, failure, now_));
            return;
        }
        const int status = in_.pick(std::array<int, 16>{200, 200, 204, 429, 429, 429, 429, 500, 502,
                                                        503, 504, 400, 401, 403, 404, 429});
        const headers_type headers = fuzzed_headers();
        const std::string body = fuzzed_body();
        trace("%lld ms: complete %llx with %d, body '%s', headers:\n",
              ms_of(now_.time_since_epoch()), static_cast<unsigned long long>(*id), status,
              body.c_str());
        for (const auto& [name, value] : headers)
            trace("    %s: %s\n", name.c_str(), value.c_str());
        completed(*id, engine_.complete(*id, status, headers, body, now_));
    }

    // ---- time ----------------------------------------------------------------------------------

    struct event {
        bool arriving; ///< on its way to the server; else the reply on its way back
        drl::ticket_id ticket;
        duration back; ///< the latency of the way back
        server_type::reply reply;
    };

    /// Handles the honest server's transfers due at `now_`; returns how many.
    std::size_t transfers_due()
    {
        std::size_t n = 0;
        while (!events_.empty() && events_.begin()->first <= now_) {
            auto node = events_.extract(events_.begin());
            event& e = node.mapped();
            ++n;
            if (e.arriving) {
                const auto& r = all_routes()[tickets_.at(e.ticket).route];
                server_type::reply reply = server_.handle(r, now_);
                trace("%lld ms: server answers %llx (%s) with %d\n", ms_of(now_.time_since_epoch()),
                      static_cast<unsigned long long>(e.ticket), std::string(r.key.view()).c_str(),
                      reply.status);
                events_.emplace(now_ + e.back, event{false, e.ticket, {}, std::move(reply)});
                check_counters();
            } else {
                completed(e.ticket, engine_.complete(e.ticket, e.reply.status, e.reply.headers,
                                                     e.reply.body, now_));
            }
        }
        return n;
    }

    /// `advance` at `now_`, checking every report; returns how many tickets it reported.
    std::size_t advance()
    {
        std::vector<drl::ticket_id> granted;
        std::size_t reports = 0;
        engine_.advance(now_, [&](drl::ticket_id id, const engine_type::acquire_result_type& r) {
            ++reports;
            trace("%lld ms: advance reports %llx status %d error %s\n",
                  ms_of(now_.time_since_epoch()), static_cast<unsigned long long>(id),
                  int(r.status), r.error.message().c_str());
            check(r.ticket == id, "a report names its ticket");
            const auto it = tickets_.find(id);
            check(it != tickets_.end(), "advance reports only tickets it issued");
            check(it->second.s == state::waiting,
                  "advance reports only waiting tickets: never twice, never a cancelled one");
            if (r.status == drl::acquire_status::granted) {
                it->second.s = state::granted;
                ++grants_;
                granted.push_back(id);
            } else {
                check(r.status == drl::acquire_status::failed && r.error &&
                          r.error != drl::make_error_code(drl::error::unknown_permit),
                      "advance reports grants and real failures only");
                it->second.s = state::ended;
            }
        });
        check_limits();
        check(engine_.global().in_flight() <= in_state(state::granted).size(),
              "after advance: no more global slots in flight than granted tickets");
        check(engine_.stats(now_).granted - grants_ <= cancelled_waiting_,
              "after advance: every grant was reported, but those cancelled first");
        for (const auto id : granted) {
            on_granted(id);
            if (draining_ && !honest_ && tickets_.at(id).s == state::granted)
                finish(id);
        }
        return reports;
    }

    /// Moves time forward by `by`, stopping at every transfer and wakeup on the way.
    void step(duration by)
    {
        const time_point target = now_ + std::max(by, duration::zero());
        std::size_t busy = 0;
        trace("%lld ms: step to %lld ms\n", ms_of(now_.time_since_epoch()),
              ms_of(target.time_since_epoch()));
        std::size_t stalled = 0;
        for (;;) {
            const std::size_t work = transfers_due() + advance();
            check_counters();
            // Completions and cancels are events: `advance` must see them before time moves on
            // (`next_wakeup` only knows about time).
            if (work > 0 && ++busy < 100'000)
                continue;
            check(busy < 100'000, "advance keeps reporting at one instant");
            busy = 0;
            const auto wake = engine_.next_wakeup();
            time_point next = target;
            if (!events_.empty())
                next = std::min(next, events_.begin()->first);
            if (wake)
                next = std::min(next, *wake);
            if (next > now_) {
                now_ = next;
                stalled = 0;
                continue;
            }
            const bool pending =
                (!events_.empty() && events_.begin()->first <= now_) || (wake && *wake <= now_);
            if (!pending)
                return; // at the target, nothing due
            stalled = work == 0 ? stalled + 1 : 0;
            check(stalled < 1000, "next_wakeup stays in the past without progress: a spin");
        }
    }

    /// Fuzzed mode, end of input: a granted ticket is answered with a plain success.
    void finish(drl::ticket_id id)
    {
        completed(id, engine_.complete(id, 200, headers_type{{"via", "1.1 google"}}, "", now_));
    }

    /// The end of the input: answer everything in flight and move time on until every ticket has
    /// ended. Nothing may hang (nothing to wake up for while tickets wait) or spin.
    void drain()
    {
        draining_ = true;
        trace("%lld ms: end of input (%s mode), draining\n", ms_of(now_.time_since_epoch()),
              honest_ ? "honest" : "fuzzed");
        if (!honest_)
            for (const auto id : in_state(state::granted))
                finish(id);
        const time_point start = now_;
        // The longest the drain can take: each ticket may wait, per attempt, at most 7 days (the
        // caps of Reset-After and Retry-After) or a ban's cool-down, for at most max_attempts +
        // max_rate_limited_attempts attempts, and a queue serves one ticket after another.
        const auto attempts =
            engine_.config().retry.max_attempts + engine_.config().retry.max_rate_limited_attempts;
        const duration bound = (168h + engine_.config().ban_cooldown + 1h) * attempts *
                               static_cast<std::int64_t>(live() + 1);
        std::size_t stalled = 0;
        for (std::size_t turn = 0; live() > 0; ++turn) {
            check(turn < 200'000, "draining takes too many steps");
            const std::size_t work = transfers_due() + advance();
            check_counters();
            if (live() == 0)
                break;
            if (work > 0)
                continue; // events first: see `step`
            std::optional<time_point> next = engine_.next_wakeup();
            if (!events_.empty() && (!next || events_.begin()->first < *next))
                next = events_.begin()->first;
            trace("%lld ms: drain turn %zu, next wakeup %lld ms\n", ms_of(now_.time_since_epoch()),
                  turn, next ? ms_of(next->time_since_epoch()) : -1LL);
            if (!next)
                for (const auto& [id, t] : tickets_)
                    if (t.s != state::ended)
                        trace("  still live: %llx (%s), state %d\n",
                              static_cast<unsigned long long>(id),
                              std::string(all_routes()[t.route].key.view()).c_str(), int(t.s));
            check(next.has_value(), "a ticket waits with nothing left to wake up for: it hangs");
            if (*next <= now_) {
                stalled = work == 0 ? stalled + 1 : 0;
                check(stalled < 1000, "next_wakeup stays in the past without progress: a spin");
                continue;
            }
            stalled = 0;
            now_ = *next;
            check(now_ - start <= bound, "a ticket waits longer than any header can ask");
        }
        check(engine_.stats(now_).live_tickets == 0, "no live ticket after the drain");
        check(engine_.global().in_flight() == 0, "no global slot held after the drain");
        const auto s = engine_.stats(now_);
        trace("end: requests %llu succeeded %llu failed %llu cancelled %llu refused %llu\n",
              static_cast<unsigned long long>(s.requests),
              static_cast<unsigned long long>(s.succeeded),
              static_cast<unsigned long long>(s.failed),
              static_cast<unsigned long long>(s.cancelled),
              static_cast<unsigned long long>(refused_));
        // Every request ended exactly once: succeeded, failed, cancelled or refused at once.
        const std::uint64_t ends = s.succeeded + s.failed + s.cancelled + refused_;
        check(ends >= s.requests, "every request ended");
        check(ends == s.requests, "no request ended twice");
    }

    byte_reader& in_;
    bool honest_;
    std::uint32_t global_limit_ = 50;
    server_type server_;
    engine_type engine_;
    time_point now_{};
    std::map<drl::ticket_id, ticket_model> tickets_;
    std::multimap<time_point, event> events_;
    std::uint64_t requests_ = 0;
    std::uint64_t refused_ = 0;
    std::uint64_t succeeded_ = 0;
    std::uint64_t cancelled_ = 0;
    std::uint64_t cancelled_waiting_ = 0;
    std::uint64_t grants_ = 0;
    bool draining_ = false;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    byte_reader in{data, size};
    harness h{in};
    h.run();
    return 0;
}
