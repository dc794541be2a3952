// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// Load and memory: a backlog of 100,000 requests over 10,000 buckets with a third cancelled, and a
// million channels passing through one engine over hours of virtual time. Every request ends as
// it should, the honest server never answers 429, and the heap the engine holds, counted by the
// replaced operator new of heap_counter.cpp, stays bounded and goes back to what an empty
// engine holds once idle eviction has run. Virtual time and fixed seeds: nothing sleeps, every run
// is the same.
#include <discord_ratelimit/asio/rate_limiter.hpp>
#include <discord_ratelimit/asio/virtual_time.hpp>
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <boost/asio/io_context.hpp>

#include "catch.hpp"
#include "engine_test_support.hpp"
#include "heap_counter/heap_counter.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

namespace {

using namespace engine_test;

constexpr std::uint64_t first_channel = 1'100'000'000'000'000'000ULL;

/// `POST /channels/{id}/messages` of the n-th channel: one route key, one bucket per channel.
drl::route message_route(std::uint64_t n)
{
    std::array<char, 64> path{};
    constexpr std::string_view prefix = "/channels/";
    constexpr std::string_view suffix = "/messages";
    std::copy(prefix.begin(), prefix.end(), path.begin());
    char* end =
        std::to_chars(path.data() + prefix.size(), path.data() + path.size(), first_channel + n)
            .ptr;
    end = std::copy(suffix.begin(), suffix.end(), end);
    return drl::make_route(
        "POST", std::string_view{path.data(), static_cast<std::size_t>(end - path.data())});
}

/// How much smaller than the full load to run: 1 unless `DISCORD_RATELIMIT_LOAD_DIVISOR`
/// (the environment, else the compile definition of the sanitizer builds) says otherwise. Under
/// ASan and UBSan in Debug the full backlog would take about an hour (the engine ranks every
/// bucket waiting for a global slot each time one frees) and the million channels 2.5 minutes.
std::uint32_t load_divisor()
{
    if (const char* text = std::getenv("DISCORD_RATELIMIT_LOAD_DIVISOR")) {
        std::uint32_t value = 0;
        const std::string_view view{text};
        if (std::from_chars(view.data(), view.data() + view.size(), value).ec == std::errc{} &&
            value > 0)
            return value;
    }
#if defined(DISCORD_RATELIMIT_LOAD_DIVISOR)
    return DISCORD_RATELIMIT_LOAD_DIVISOR;
#else
    return 1;
#endif
}

/// The heap an idle engine may keep above its empty self: see `release_idle_memory`.
constexpr std::size_t kept_scratch = 4096;

// ---- 100,000 requests at once over 10,000 buckets, a third cancelled ---------------------------

enum class request_state : std::uint8_t { waiting, in_flight, completed, cancelled, failed };

struct backlog_request {
    drl::ticket_id ticket = 0;
    std::uint32_t channel = 0;
    request_state state = request_state::waiting;
    bool to_cancel = false;
    bool sent = false;
};

/// What the backlog run saw; every count but `completed` and the cancellations must end at 0.
struct backlog_outcome {
    std::size_t completed = 0;
    std::size_t cancelled_waiting = 0;
    std::size_t cancelled_granted = 0;
    std::size_t failed = 0;
    std::size_t granted_twice = 0;     ///< a grant for a request not waiting (completed, ...)
    std::size_t granted_cancelled = 0; ///< a grant for a cancelled request
    std::size_t completed_twice = 0;   ///< a `done` for a request not in flight
    std::size_t cancel_refused = 0;    ///< `cancel` answered with an error
    std::size_t unknown_tickets = 0;   ///< a result for a ticket the harness never got
    std::size_t retries = 0;           ///< `complete` said retry (an honest server gives none)
    bool hung = false;
    time_point last_event{};
};

/// Drives `engine` and an honest simulated Discord on virtual time: `channels` buckets of 5 per
/// 5 s, `per_channel` requests each acquired at t0, a random third cancelled (while waiting at a
/// random time, or at their grant when it comes first, before they are sent), a fixed round trip.
backlog_outcome run_backlog(engine_type& engine, std::uint32_t channels, std::uint32_t per_channel,
                            std::uint64_t seed, server_type::counters& server_seen)
{
    server_type::config server_config;
    server_config.default_rule = {"messages", 5, 5s};
    server_type server{server_config};
    constexpr duration half_trip = 25ms;
    constexpr duration cancel_horizon = 1'200s;

    const std::size_t count = std::size_t{channels} * per_channel;
    std::vector<backlog_request> requests(count);
    std::vector<drl::route> routes;
    routes.reserve(channels);
    for (std::uint32_t c = 0; c < channels; ++c)
        routes.push_back(message_route(c));
    for (std::size_t i = 0; i < count; ++i)
        requests[i].channel = static_cast<std::uint32_t>(i % channels); // round robin

    // Exactly a third, by a seeded shuffle; each with a time at which it is cancelled if still
    // waiting then.
    rng random{seed};
    std::vector<std::size_t> order(count);
    for (std::size_t i = 0; i < count; ++i)
        order[i] = i;
    for (std::size_t i = count - 1; i > 0; --i)
        std::swap(order[i], order[random.below(i + 1)]);
    std::vector<std::pair<time_point, std::size_t>> cancels;
    for (std::size_t k = 0; k < count / 3; ++k) {
        requests[order[k]].to_cancel = true;
        const auto horizon_ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(cancel_horizon).count());
        const auto at =
            std::chrono::milliseconds{static_cast<std::int64_t>(random.below(horizon_ms))};
        cancels.emplace_back(t0 + at, order[k]);
    }
    std::sort(cancels.begin(), cancels.end());

    backlog_outcome out;
    std::unordered_map<drl::ticket_id, std::size_t> request_of;
    request_of.reserve(count);
    struct transfer {
        time_point due;
        std::size_t request;
        server_type::reply reply;
    };
    std::deque<transfer> to_server;
    std::deque<transfer> to_client;
    time_point now = t0;

    const auto on_grant = [&](std::size_t i) {
        backlog_request& q = requests[i];
        if (q.state == request_state::cancelled) {
            ++out.granted_cancelled;
            return;
        }
        if (q.state != request_state::waiting) {
            ++out.granted_twice;
            return;
        }
        if (q.to_cancel) { // granted before its cancellation came: cancelled before it is sent
            if (engine.cancel(q.ticket, now))
                ++out.cancel_refused;
            q.state = request_state::cancelled;
            ++out.cancelled_granted;
            return;
        }
        q.state = request_state::in_flight;
        q.sent = true;
        to_server.push_back(transfer{now + half_trip, i, {}});
    };

    for (std::size_t i = 0; i < count; ++i) {
        const auto r = engine.acquire(routes[requests[i].channel], t0);
        if (r.status == drl::acquire_status::failed) {
            requests[i].state = request_state::failed;
            ++out.failed;
            continue;
        }
        requests[i].ticket = r.ticket;
        request_of.emplace(r.ticket, i);
    }
    // Granted at once: only now, so that every ticket is known when `advance` names one.
    for (std::size_t i = 0; i < count; ++i)
        if (requests[i].state == request_state::waiting &&
            engine.acquire(requests[i].ticket, t0).granted())
            on_grant(i);

    std::vector<std::pair<drl::ticket_id, bool>> ready; // ticket, granted
    std::size_t next_cancel = 0;
    std::size_t still_turns = 0;
    for (;;) {
        std::optional<time_point> next = engine.next_wakeup();
        const auto earlier = [&](time_point t) {
            next = next ? std::min(*next, t) : t;
        };
        if (!to_server.empty())
            earlier(to_server.front().due);
        if (!to_client.empty())
            earlier(to_client.front().due);
        if (next_cancel < cancels.size())
            earlier(cancels[next_cancel].first);
        if (!next)
            break; // nothing left to happen
        // A wake-up at the same instant again and again without any event is a spin.
        still_turns = *next <= now ? still_turns + 1 : 0;
        if (still_turns > 1000) {
            out.hung = true;
            break;
        }
        now = std::max(now, *next);
        for (; next_cancel < cancels.size() && cancels[next_cancel].first <= now; ++next_cancel) {
            backlog_request& q = requests[cancels[next_cancel].second];
            if (q.state != request_state::waiting)
                continue; // granted (and cancelled then) already
            if (engine.cancel(q.ticket, now))
                ++out.cancel_refused;
            q.state = request_state::cancelled;
            ++out.cancelled_waiting;
        }
        while (!to_server.empty() && to_server.front().due <= now) {
            transfer t = std::move(to_server.front());
            to_server.pop_front();
            t.reply = server.handle(routes[requests[t.request].channel], now);
            t.due = now + half_trip;
            to_client.push_back(std::move(t));
        }
        while (!to_client.empty() && to_client.front().due <= now) {
            const transfer t = std::move(to_client.front());
            to_client.pop_front();
            backlog_request& q = requests[t.request];
            const auto c =
                engine.complete(q.ticket, t.reply.status, t.reply.headers, t.reply.body, now);
            if (c.status == drl::completion_status::done) {
                if (q.state != request_state::in_flight)
                    ++out.completed_twice;
                q.state = request_state::completed;
                ++out.completed;
            } else if (c.status == drl::completion_status::retry) {
                q.state = request_state::waiting; // the engine grants it again
                ++out.retries;
            } else {
                q.state = request_state::failed;
                ++out.failed;
            }
            out.last_event = now;
        }
        ready.clear();
        engine.advance(now, [&](drl::ticket_id id, const drl::acquire_result<clock_type>& r) {
            ready.emplace_back(id, r.granted());
        });
        for (const auto& [id, granted] : ready) {
            const auto it = request_of.find(id);
            if (it == request_of.end()) {
                ++out.unknown_tickets;
            } else if (granted) {
                on_grant(it->second);
            } else {
                requests[it->second].state = request_state::failed;
                ++out.failed;
            }
        }
    }
    for (const backlog_request& q : requests)
        if (q.state == request_state::waiting || q.state == request_state::in_flight)
            out.hung = true; // lost: neither ended nor reported
    server_seen = server.seen();
    return out;
}

TEST_CASE("100,000 requests queued over 10,000 buckets, a third cancelled: the rest complete and "
          "the heap goes back to the empty engine's after idle eviction",
          "[load]")
{
    const std::uint32_t channels = 10'000 / load_divisor();
    constexpr std::uint32_t per_channel = 10;
    const std::size_t count = std::size_t{channels} * per_channel;

    engine_type::config_type config;
    engine_type engine{config};
    const std::size_t baseline = heap_counter::live_bytes();

    server_type::counters seen;
    // The harness and the server live in the run's scope: after it, the engine alone holds heap.
    const backlog_outcome out = run_backlog(engine, channels, per_channel, 20261129, seen);
    const auto at_end = engine.stats(out.last_event);

    // Past `bucket_idle` after the last response, at an eviction sweep: every bucket goes, and
    // the engine gives its ticket storage back. The learned hash of the one route stays until
    // `route_idle` (an hour). No Catch assertion runs before the last reading: their results
    // take heap too.
    const auto swept = out.last_event + config.registry.bucket_idle + config.eviction_interval;
    engine.advance(swept, [](drl::ticket_id, const auto&) {});
    const std::size_t after_buckets = heap_counter::live_bytes();
    const auto at_swept = engine.stats(swept);
    const auto forgotten = swept + config.registry.route_idle + config.eviction_interval;
    engine.advance(forgotten, [](drl::ticket_id, const auto&) {});
    const std::size_t after_routes = heap_counter::live_bytes();
    const auto at_forgotten = engine.stats(forgotten);

    CHECK_FALSE(out.hung);
    CHECK(out.failed == 0);
    CHECK(out.granted_twice == 0);
    CHECK(out.granted_cancelled == 0);
    CHECK(out.completed_twice == 0);
    CHECK(out.cancel_refused == 0);
    CHECK(out.unknown_tickets == 0);
    CHECK(out.retries == 0);
    CHECK(out.cancelled_waiting + out.cancelled_granted == count / 3);
    CHECK(out.cancelled_waiting > 0);
    CHECK(out.cancelled_granted > 0);
    CHECK(out.completed == count - count / 3);
    // The honest server saw every request that was sent, once, and never answered 429.
    CHECK(seen.rate_limited() == 0);
    CHECK(seen.requests == out.completed);
    CHECK(seen.ok == out.completed);

    CHECK(at_end.succeeded == out.completed);
    CHECK(at_end.cancelled == count / 3);
    CHECK(at_end.failed == 0);
    CHECK(at_end.rate_limited_total() == 0);
    CHECK(at_end.live_tickets == 0);

    CHECK(at_swept.buckets == 0);
    CHECK(at_swept.routes == 1);
    CHECK(at_swept.live_tickets == 0);
    CHECK(at_forgotten.buckets == 0);
    CHECK(at_forgotten.routes == 0);
    CHECK(at_forgotten.live_tickets == 0);
    // What `release_idle_memory` keeps by design, not per bucket or ticket: scratch vectors of
    // at most 64 elements and hash tables of at most 64 buckets (3.5 KB here; the benchmarks call
    // an engine within 4 KiB of its empty self "back to empty").
    INFO("baseline " << baseline << " B, after eviction of the buckets " << after_buckets
                     << " B, after the route's too " << after_routes << " B");
    CHECK(after_routes >= baseline);
    CHECK(after_routes - baseline <= kept_scratch);
}

// ---- a million channels over hours of virtual time -----------------------------------------

/// A ring of fixed capacity, allocated up front: the harness of the million channels allocates
/// nothing while it runs, so every byte the counter sees come and go is the engine's.
template <class T>
class fixed_ring {
public:
    explicit fixed_ring(std::size_t capacity)
        : items_(capacity)
    {
    }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    /// False when full (the run then fails: the ring was sized too small).
    bool push(const T& item) noexcept
    {
        if (size_ == items_.size())
            return false;
        items_[(first_ + size_++) % items_.size()] = item;
        return true;
    }
    const T& front() const noexcept { return items_[first_]; }
    void pop() noexcept
    {
        first_ = (first_ + 1) % items_.size();
        --size_;
    }

private:
    std::vector<T> items_;
    std::size_t first_ = 0;
    std::size_t size_ = 0;
};

/// A decimal number in a buffer of its own, for header values that allocate nothing.
struct number_text {
    std::array<char, 32> chars{};
    std::size_t size = 0;
    std::string_view view() const noexcept { return {chars.data(), size}; }
    void set(std::uint64_t value) noexcept
    {
        size = static_cast<std::size_t>(
            std::to_chars(chars.data(), chars.data() + chars.size(), value).ptr - chars.data());
    }
    /// `ms` milliseconds as seconds with three decimals, as Discord writes Reset-After.
    void set_seconds(std::uint64_t ms) noexcept
    {
        set(ms / 1000);
        chars[size++] = '.';
        chars[size++] = static_cast<char>('0' + ms / 100 % 10);
        chars[size++] = static_cast<char>('0' + ms / 10 % 10);
        chars[size++] = static_cast<char>('0' + ms % 10);
    }
};

/// Discord's rules for `POST /channels/{id}/messages` of many channels, kept in fixed memory: 5
/// per 5 s per channel (a window opens at its first arrival), 50 per rolling second in all. A
/// channel's window is found by its id modulo the table's size; two channels whose windows are
/// open at once in one entry are counted as `collisions` (the table was sized too small).
class honest_channels {
public:
    static constexpr std::uint32_t limit = 5;
    static constexpr duration window = 5s;
    static constexpr std::uint32_t global_limit = 50;
    static constexpr duration global_window = 1s;

    struct answer {
        int status = 200;
        std::uint32_t remaining = 0;
        std::uint64_t reset_after_ms = 0;
        bool global = false;
    };

    honest_channels()
        : windows_(1U << 16U)
        , arrivals_(1024)
    {
    }

    answer handle(std::uint64_t channel, time_point now)
    {
        while (!arrivals_.empty() && arrivals_.front() <= now - global_window)
            arrivals_.pop();
        if (arrivals_.size() >= global_limit) {
            ++rate_limited;
            return {429, 0, 1000, true};
        }
        if (!arrivals_.push(now))
            ++collisions;
        channel_window& w = windows_[channel % windows_.size()];
        if (w.channel != channel) {
            if (w.end > now)
                ++collisions;
            w = {channel, time_point{}, 0};
        }
        if (now >= w.end)
            w = {channel, now + window, 0};
        const auto reset_after_ms = static_cast<std::uint64_t>(
            std::chrono::ceil<std::chrono::milliseconds>(w.end - now).count());
        if (w.used >= limit) {
            ++rate_limited;
            return {429, 0, reset_after_ms, false};
        }
        ++w.used;
        ++ok;
        return {200, limit - w.used, reset_after_ms, false};
    }

    std::uint64_t ok = 0;
    std::uint64_t rate_limited = 0;
    std::uint64_t collisions = 0;

private:
    struct channel_window {
        std::uint64_t channel = ~std::uint64_t{0};
        time_point end{};
        std::uint32_t used = 0;
    };
    std::vector<channel_window> windows_;
    fixed_ring<time_point> arrivals_;
};

/// An answer's headers as views into buffers of their own, rewritten for each answer.
class answer_headers {
public:
    answer_headers() { fields_.reserve(8); }

    const std::vector<std::pair<std::string_view, std::string_view>>&
    of(const honest_channels::answer& a)
    {
        limit_.set(honest_channels::limit);
        remaining_.set(a.remaining);
        reset_after_.set_seconds(a.reset_after_ms);
        fields_.clear();
        fields_.emplace_back("via", "1.1 google");
        if (!a.global) {
            fields_.emplace_back("x-ratelimit-bucket", "c0ffee5a1e");
            fields_.emplace_back("x-ratelimit-limit", limit_.view());
            fields_.emplace_back("x-ratelimit-remaining", remaining_.view());
            fields_.emplace_back("x-ratelimit-reset-after", reset_after_.view());
        }
        if (a.status == 429) {
            fields_.emplace_back("x-ratelimit-scope", a.global ? "global" : "user");
            fields_.emplace_back("retry-after", reset_after_.view());
        }
        return fields_;
    }

private:
    number_text limit_;
    number_text remaining_;
    number_text reset_after_;
    std::vector<std::pair<std::string_view, std::string_view>> fields_;
};

struct explosion_outcome {
    std::size_t completed = 0;
    std::size_t failed = 0;
    std::size_t retries = 0;
    std::size_t unknown_tickets = 0;
    std::size_t harness_full = 0; ///< a ring or table of the harness was too small
    std::size_t peak_buckets = 0;
    std::size_t peak_bytes = 0; ///< above the baseline
    bool hung = false;
    time_point last_event{};
};

TEST_CASE("a million channels over hours of virtual time: the engine's heap stays under its bound "
          "and goes back to the empty engine's",
          "[load]")
{
    // Under the sanitizers a tenth: still 70 minutes of virtual time, ten times `bucket_idle`.
    const std::uint64_t channels = 1'000'000 / load_divisor();
    constexpr std::uint32_t per_channel = 2; // a probe, and one request that waits for its answer
    constexpr duration spacing = 50ms;       // a new channel every 50 ms: 40 requests a second
    constexpr duration half_trip = 25ms;

    engine_type::config_type config;
    engine_type engine{config};
    honest_channels server;
    answer_headers headers;
    struct on_wire {
        time_point due;
        drl::ticket_id ticket;
        std::uint64_t channel;
        honest_channels::answer answer;
    };
    fixed_ring<on_wire> to_server{4096};
    fixed_ring<on_wire> to_client{4096};
    // Waiting tickets by the engine's slot (the ticket id's low half): the engine reuses slots,
    // so the table needs only as many entries as tickets are ever alive at once.
    struct waiting_ticket {
        drl::ticket_id ticket = 0;
        std::uint64_t channel = 0;
    };
    std::vector<waiting_ticket> waiting(1U << 16U);
    std::vector<std::pair<drl::ticket_id, bool>> ready;
    ready.reserve(4096);

    const std::size_t baseline = heap_counter::live_bytes();
    heap_counter::reset_peak();

    explosion_outcome out;
    time_point now = t0;
    const auto send = [&](drl::ticket_id ticket, std::uint64_t channel) {
        if (!to_server.push(on_wire{now + half_trip, ticket, channel, {}}))
            ++out.harness_full;
    };
    const auto wait_for_grant = [&](drl::ticket_id ticket, std::uint64_t channel) {
        const std::size_t slot = ticket & 0xFFFF'FFFFULL;
        if (slot < waiting.size())
            waiting[slot] = {ticket, channel};
        else
            ++out.harness_full;
    };
    std::uint64_t submitted = 0;
    std::size_t still_turns = 0;
    for (;;) {
        std::optional<time_point> next = engine.next_wakeup();
        const auto earlier = [&](time_point t) {
            next = next ? std::min(*next, t) : t;
        };
        if (submitted < channels)
            earlier(t0 + spacing * static_cast<std::int64_t>(submitted));
        if (!to_server.empty())
            earlier(to_server.front().due);
        if (!to_client.empty())
            earlier(to_client.front().due);
        if (!next)
            break;
        still_turns = *next <= now ? still_turns + 1 : 0;
        if (still_turns > 1000) {
            out.hung = true;
            break;
        }
        now = std::max(now, *next);
        for (; submitted < channels && t0 + spacing * static_cast<std::int64_t>(submitted) <= now;
             ++submitted) {
            const drl::route r = message_route(submitted);
            for (std::uint32_t k = 0; k < per_channel; ++k) {
                const auto a = engine.acquire(r, now);
                if (a.granted())
                    send(a.ticket, submitted);
                else if (a.status == drl::acquire_status::waiting)
                    wait_for_grant(a.ticket, submitted);
                else
                    ++out.failed;
            }
        }
        while (!to_server.empty() && to_server.front().due <= now) {
            on_wire w = to_server.front();
            to_server.pop();
            w.answer = server.handle(w.channel, now);
            w.due = now + half_trip;
            if (!to_client.push(w))
                ++out.harness_full;
        }
        while (!to_client.empty() && to_client.front().due <= now) {
            const on_wire w = to_client.front();
            to_client.pop();
            const std::string_view body =
                w.answer.status == 429 ? std::string_view{R"({"message": "You are being rate )"
                                                          R"(limited.", "retry_after": 1.0})"}
                                       : std::string_view{};
            const auto c =
                engine.complete(w.ticket, w.answer.status, headers.of(w.answer), body, now);
            if (c.status == drl::completion_status::done) {
                ++out.completed;
            } else if (c.status == drl::completion_status::retry) {
                ++out.retries;
                wait_for_grant(w.ticket, w.channel);
            } else {
                ++out.failed;
            }
            out.last_event = now;
        }
        ready.clear();
        engine.advance(now, [&](drl::ticket_id id, const drl::acquire_result<clock_type>& a) {
            if (ready.size() < ready.capacity())
                ready.emplace_back(id, a.granted());
            else
                ++out.harness_full;
        });
        for (const auto& [id, granted] : ready) {
            const std::size_t slot = id & 0xFFFF'FFFFULL;
            if (slot >= waiting.size() || waiting[slot].ticket != id) {
                ++out.unknown_tickets;
                continue;
            }
            waiting[slot].ticket = 0;
            if (granted)
                send(id, waiting[slot].channel);
            else
                ++out.failed;
        }
        out.peak_buckets = std::max(out.peak_buckets, engine.registry().bucket_count());
    }
    out.peak_bytes = heap_counter::peak_bytes() - baseline;
    const auto at_end = engine.stats(out.last_event);

    const auto swept = out.last_event + config.registry.bucket_idle + config.eviction_interval;
    engine.advance(swept, [](drl::ticket_id, const auto&) {});
    const auto forgotten = swept + config.registry.route_idle + config.eviction_interval;
    engine.advance(forgotten, [](drl::ticket_id, const auto&) {});
    const std::size_t after = heap_counter::live_bytes();
    const auto at_forgotten = engine.stats(forgotten);

    CHECK_FALSE(out.hung);
    CHECK(out.failed == 0);
    CHECK(out.retries == 0);
    CHECK(out.unknown_tickets == 0);
    CHECK(out.harness_full == 0);
    CHECK(server.collisions == 0);
    CHECK(server.rate_limited == 0);
    CHECK(out.completed == channels * per_channel);
    CHECK(server.ok == out.completed);
    CHECK(at_end.succeeded == out.completed);
    CHECK(at_end.live_tickets == 0);

    // The bound. A bucket is alive from its channel's first request until the first eviction
    // sweep at least `bucket_idle` after its last use: at most `bucket_idle + eviction_interval
    // + active` of submissions, `active` (5 s) covering a channel's requests and their answers.
    // Each costs at most 144 B: its 112-byte slot, at most 18 B of index (4-byte entries and
    // their metadata at a load of 0.44 or more, the old array too while it rehashes) and 8 B of
    // free list. Fixed: 256 KiB for all that does not grow with the buckets (the tickets and
    // timers of the requests in flight, the slab's last partial chunk, scratch vectors).
    constexpr duration active = 5s;
    const auto alive_at_once = static_cast<std::size_t>(
        (config.registry.bucket_idle + config.eviction_interval + active) / spacing + 1);
    constexpr std::size_t bytes_per_bucket = 144;
    constexpr std::size_t fixed_bytes = 256 * 1024;
    const std::size_t bound =
        std::min<std::size_t>(alive_at_once, channels) * bytes_per_bucket + fixed_bytes;
    INFO(
        "channels " << channels << ", virtual time "
                    << std::chrono::duration_cast<std::chrono::seconds>(out.last_event - t0).count()
                    << " s, peak buckets " << out.peak_buckets << " (bound " << alive_at_once
                    << "), peak heap above the empty engine " << out.peak_bytes << " B (bound "
                    << bound << " B), after eviction " << after - baseline << " B");
    CHECK(out.peak_buckets <= alive_at_once);
    CHECK(out.peak_bytes <= bound);
    CHECK(at_forgotten.buckets == 0);
    CHECK(at_forgotten.routes == 0);
    CHECK(at_forgotten.live_tickets == 0);
    CHECK(after >= baseline);
    CHECK(after - baseline <= kept_scratch);
}

// ---- 100,000 waiters ended by shutdown() --------------------------------------------------------

struct shutdown_clock_tag {};
using shutdown_clock = drl::basic_manual_clock<shutdown_clock_tag>;

TEST_CASE("shutdown() ends 100,000 waiters held by the global limit in well under a second",
          "[load]")
{
    // Rule 5, on the wall clock (the unit tests count the work instead): every waiter sits in one
    // bucket with room for a million, held by the global limit, where a cancel that walks the rest
    // of the queue made shutdown quadratic (about 2 minutes for these 100,000).
    const std::size_t n = 100'000 / load_divisor();
    shutdown_clock::reset();
    boost::asio::io_context ctx;
    drl::engine_config<shutdown_clock> config;
    config.global_limit = 2;
    drl::basic_rate_limiter<shutdown_clock> limiter{ctx.get_executor(), config};
    const auto route = drl::make_route("POST", "/channels/100/messages");
    std::vector<drl::permit> permits;
    const auto keep = [&](boost::system::error_code ec, drl::permit p) {
        if (!ec)
            permits.push_back(p);
    };
    limiter.async_acquire(route, keep); // the bucket's probe
    limiter.async_acquire(drl::make_route("GET", "/guilds/1"), keep);
    ctx.poll();
    ctx.restart();
    REQUIRE(permits.size() == 2);
    std::size_t shut_down = 0;
    for (std::size_t i = 0; i < n; ++i)
        limiter.async_acquire(route, [&](boost::system::error_code ec, drl::permit) {
            if (ec == drl::error::shut_down)
                ++shut_down;
        });
    (void)limiter.complete(permits[0], 200,
                           test_support::bucket_headers(1'000'000, 999'999, "60", "big"), "{}");
    ctx.poll();
    ctx.restart();
    REQUIRE(limiter.tracked_tickets() == n);

    const auto started = std::chrono::steady_clock::now();
    limiter.shutdown();
    ctx.poll();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    shutdown_clock::reset();

    INFO(n << " waiters ended in " << took.count() << " s");
    CHECK(shut_down == n);
    CHECK(took < 2s);
}

} // namespace
