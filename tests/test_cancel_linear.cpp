// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Rule 5, "cancelling is linear": ending N waiting requests (one by one, through cancellation
// slots, by `shutdown` or by destroying the limiter) costs O(N), not O(N^2). Counted, not timed:
// `engine_stats::queue_steps` counts every step of the engine's queue walks, and each test bounds
// it by a small multiple of N. A walk of the rest of the queue for each cancel (the old cost)
// makes N^2 / 2 steps: 500,000 for N = 1,000, far above any bound here.

#include <discord_ratelimit/asio/rate_limiter.hpp>
#include <discord_ratelimit/asio/virtual_time.hpp>
#include <discord_ratelimit/engine.hpp>

#include "catch.hpp"
#include "engine_test_support.hpp"
#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace drl = discord_ratelimit;

namespace {

using engine_test::engine_type;
using engine_test::t0;
using test_support::bucket_headers;

/// Steps of queue walks allowed per cancelled waiter (the fixed engine makes none).
constexpr std::uint64_t steps_per_waiter = 4;

/// A bucket of a big limit whose waiters are all held by the global limit: the case where a walk
/// of its queue is long. Its waiters queue behind its probe first (cheap: an unknown bucket lets
/// nothing past its probe), then the probe's answer teaches the limit while the global limit is
/// full: one walk of the queue, as in a real backlog.
std::string channel_path(std::size_t channel)
{
    return "/channels/" + std::to_string(1000 + channel) + "/messages";
}

/// Fills the global limit (`global_limit` probes on `buckets` channels and other guilds), queues
/// `waiters` requests round-robin on the channels, then answers the probes: every channel's
/// bucket has room for a million, and every waiter waits for the global limit.
std::vector<drl::ticket_id> queue_behind_global_limit(engine_type& e, std::size_t buckets,
                                                      std::size_t waiters)
{
    std::vector<drl::ticket_id> probes;
    for (std::size_t b = 0; b < buckets; ++b) {
        const auto probe = e.acquire(drl::make_route("POST", channel_path(b)), t0);
        REQUIRE(probe.granted());
        probes.push_back(probe.ticket);
    }
    for (std::size_t g = buckets; g < e.config().global_limit; ++g)
        REQUIRE(e.acquire(drl::make_route("GET", "/guilds/" + std::to_string(g + 1)), t0).granted());
    std::vector<drl::ticket_id> waiting;
    waiting.reserve(waiters);
    for (std::size_t i = 0; i < waiters; ++i) {
        const auto r = e.acquire(drl::make_route("POST", channel_path(i % buckets)), t0);
        REQUIRE(r.status == drl::acquire_status::waiting);
        waiting.push_back(r.ticket);
    }
    for (std::size_t b = 0; b < buckets; ++b)
        (void)e.complete(probes[b], 200,
                         bucket_headers(1'000'000, 999'999, "60", "big"), "{}", t0);
    CHECK(engine_test::granted_by_advance(e, t0).empty()); // the global limit is full
    return waiting;
}

engine_type::config_type global_of(std::uint32_t limit)
{
    engine_type::config_type config;
    config.global_limit = limit;
    return config;
}

/// Cancels `ids` one by one in this order and returns the queue steps it took.
std::uint64_t cancel_each(engine_type& e, const std::vector<drl::ticket_id>& ids)
{
    const auto before = e.stats(t0).queue_steps;
    for (const auto id : ids)
        REQUIRE_FALSE(e.cancel(id, t0));
    return e.stats(t0).queue_steps - before;
}

} // namespace

TEST_CASE("rule 5: cancelling waiters held by the global limit one by one is linear", "[engine]")
{
    for (const std::size_t n : {std::size_t{1'000}, std::size_t{10'000}}) {
        for (const bool oldest_first : {true, false}) {
            engine_type e{global_of(2)};
            auto waiting = queue_behind_global_limit(e, 1, n);
            if (!oldest_first)
                std::reverse(waiting.begin(), waiting.end());
            INFO(n << " waiters, " << (oldest_first ? "oldest" : "newest") << " first");
            CHECK(cancel_each(e, waiting) <= steps_per_waiter * n);
            CHECK(e.stats(t0).live_tickets == 1); // the other guild's permit
        }
    }
}

TEST_CASE("rule 5: cancelling waiters spread over many buckets one by one is linear", "[engine]")
{
    constexpr std::size_t buckets = 50;
    for (const std::size_t n : {std::size_t{1'000}, std::size_t{10'000}}) {
        engine_type e{global_of(buckets)};
        const auto waiting = queue_behind_global_limit(e, buckets, n);
        INFO(n << " waiters over " << buckets << " buckets");
        CHECK(cancel_each(e, waiting) <= steps_per_waiter * n);
        CHECK(e.stats(t0).live_tickets == 0);
    }
}

TEST_CASE("rule 5: cancelling waiters of an exhausted bucket or behind a probe stays linear, and "
          "the next waiter still goes at the reset",
          "[engine]")
{
    constexpr std::size_t n = 10'000;
    const auto route = drl::make_route("POST", channel_path(0));
    SECTION("behind an unknown bucket's probe")
    {
        engine_type e;
        const auto probe = e.acquire(route, t0);
        REQUIRE(probe.granted());
        std::vector<drl::ticket_id> waiting;
        for (std::size_t i = 0; i < n; ++i)
            waiting.push_back(e.acquire(route, t0).ticket);
        const auto last = e.acquire(route, t0);
        REQUIRE(last.status == drl::acquire_status::waiting);
        CHECK(cancel_each(e, waiting) <= steps_per_waiter * n);
        (void)e.complete(probe.ticket, 200, bucket_headers(5, 4, "1", "known"), "{}", t0);
        CHECK(engine_test::granted_by_advance(e, t0) == std::vector{last.ticket});
    }
    SECTION("in an exhausted bucket")
    {
        engine_type e;
        const auto first = e.acquire(route, t0);
        (void)e.complete(first.ticket, 200, bucket_headers(1, 0, "10", "known"), "{}", t0);
        std::vector<drl::ticket_id> waiting;
        for (std::size_t i = 0; i < n; ++i)
            waiting.push_back(e.acquire(route, t0).ticket);
        const auto last = e.acquire(route, t0);
        REQUIRE(last.status == drl::acquire_status::waiting);
        CHECK(cancel_each(e, waiting) <= steps_per_waiter * n);
        CHECK(engine_test::granted_by_advance(e, t0 + std::chrono::seconds{9}).empty());
        CHECK(engine_test::granted_by_advance(e, t0 + std::chrono::seconds{10}) ==
              std::vector{last.ticket});
    }
}

TEST_CASE("rule 5: a waiter left alone by cancels goes as soon as the global limit lets it",
          "[engine]")
{
    // The cancels do not walk the queue; the waiter that stays is still found when a global slot
    // frees (the global window is one second).
    engine_type e{global_of(2)};
    const auto waiting = queue_behind_global_limit(e, 1, 1'000);
    std::vector<drl::ticket_id> cancelled(waiting.begin(), waiting.end() - 1);
    std::reverse(cancelled.begin(), cancelled.end());
    (void)cancel_each(e, cancelled);
    CHECK(engine_test::granted_by_advance(e, t0 + std::chrono::milliseconds{999}).empty());
    CHECK(engine_test::granted_by_advance(e, t0 + std::chrono::seconds{1}) ==
          std::vector{waiting.back()});
}

TEST_CASE("rule 5: cancelling a batch decides once: linear, and what it frees goes to the others",
          "[engine]")
{
    constexpr std::size_t n = 10'000;
    engine_type e{global_of(2)};
    const auto waiting = queue_behind_global_limit(e, 1, n);
    std::vector<drl::ticket_id> batch(waiting.begin(), waiting.end() - 1);
    batch.push_back(batch.front()); // already ended when its turn comes: skipped
    batch.push_back(drl::ticket_id{12345});
    const auto before = e.stats(t0).queue_steps;
    CHECK(e.cancel(std::span<const drl::ticket_id>{batch}, t0) == n - 1);
    CHECK(e.stats(t0).queue_steps - before <= steps_per_waiter * n);
    CHECK(e.stats(t0).cancelled == n - 1);
    CHECK(e.stats(t0).live_tickets == 2);
    CHECK(engine_test::granted_by_advance(e, t0 + std::chrono::seconds{1}) ==
          std::vector{waiting.back()});
}

// ---- the Asio layer ------------------------------------------------------------------------------

namespace {

struct cancel_clock_tag {};
using vclock = drl::basic_manual_clock<cancel_clock_tag>;
using limiter_type = drl::basic_rate_limiter<vclock>;

struct fresh_clock {
    fresh_clock() { vclock::reset(); }
    ~fresh_clock() { vclock::reset(); }
};

/// How the limiter's acquisitions ended.
struct tally {
    std::size_t granted = 0;
    std::size_t aborted = 0;
    std::size_t shut_down = 0;
    std::size_t other = 0;

    auto handler()
    {
        return [this](boost::system::error_code ec, drl::permit) {
            if (!ec)
                ++granted;
            else if (ec == asio::error::operation_aborted)
                ++aborted;
            else if (ec == drl::error::shut_down)
                ++shut_down;
            else
                ++other;
        };
    }
};

/// As `queue_behind_global_limit`, through a limiter (global limit 2, one channel): `n` waiters
/// on a bucket of a million, held by the global limit. With `signals`, each waiter's handler is
/// bound to a cancellation slot of its own.
void fill_limiter(limiter_type& limiter, asio::io_context& ctx, tally& ended, std::size_t n,
                  std::vector<std::unique_ptr<asio::cancellation_signal>>* signals)
{
    const auto route = drl::make_route("POST", channel_path(0));
    std::optional<drl::permit> probe;
    std::optional<drl::permit> other;
    limiter.async_acquire(route, [&](boost::system::error_code ec, drl::permit p) {
        if (!ec)
            probe = p;
    });
    limiter.async_acquire(drl::make_route("GET", "/guilds/1"),
                          [&](boost::system::error_code ec, drl::permit p) {
                              if (!ec)
                                  other = p;
                          });
    ctx.poll();
    ctx.restart();
    REQUIRE(probe);
    REQUIRE(other);
    for (std::size_t i = 0; i < n; ++i) {
        if (signals) {
            signals->push_back(std::make_unique<asio::cancellation_signal>());
            limiter.async_acquire(route,
                                  asio::bind_cancellation_slot(signals->back()->slot(),
                                                               ended.handler()));
        } else {
            limiter.async_acquire(route, ended.handler());
        }
    }
    (void)limiter.complete(*probe, 200, bucket_headers(1'000'000, 999'999, "60", "big"), "{}");
    ctx.poll();
    ctx.restart();
    REQUIRE(ended.granted + ended.aborted + ended.shut_down + ended.other == 0);
    REQUIRE(limiter.tracked_tickets() == n);
}

limiter_type::engine_type::config_type limiter_config()
{
    limiter_type::engine_type::config_type config;
    config.global_limit = 2;
    return config;
}

} // namespace

TEST_CASE("rule 5: shutdown() ends 100,000 waiters of one bucket in linear work", "[asio]")
{
    constexpr std::size_t n = 100'000;
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor(), limiter_config()};
    tally ended;
    fill_limiter(limiter, ctx, ended, n, nullptr);
    const auto before = limiter.stats().queue_steps;
    limiter.shutdown();
    CHECK(limiter.stats().queue_steps - before <= steps_per_waiter * n);
    ctx.poll();
    CHECK(ended.shut_down == n);
    CHECK(ended.granted + ended.aborted + ended.other == 0);
    CHECK(limiter.tracked_tickets() == 0);
    CHECK(limiter.stats().live_tickets == 1); // the other guild's permit, still in flight
}

TEST_CASE("rule 5: destroying the limiter ends its waiters in linear work", "[asio]")
{
    constexpr std::size_t n = 10'000;
    fresh_clock c;
    asio::io_context ctx;
    tally ended;
    {
        limiter_type limiter{ctx.get_executor(), limiter_config()};
        fill_limiter(limiter, ctx, ended, n, nullptr);
        // What the destructor does, counted: it calls `shutdown`.
        const auto before = limiter.stats().queue_steps;
        limiter.shutdown();
        CHECK(limiter.stats().queue_steps - before <= steps_per_waiter * n);
    }
    ctx.poll();
    CHECK(ended.shut_down == n);
}

TEST_CASE("rule 5: cancelling waiters one by one through their cancellation slots is linear",
          "[asio]")
{
    for (const std::size_t n : {std::size_t{1'000}, std::size_t{10'000}}) {
        for (const bool oldest_first : {true, false}) {
            fresh_clock c;
            asio::io_context ctx;
            limiter_type limiter{ctx.get_executor(), limiter_config()};
            tally ended;
            std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
            fill_limiter(limiter, ctx, ended, n, &signals);
            if (!oldest_first)
                std::reverse(signals.begin(), signals.end());
            INFO(n << " waiters, " << (oldest_first ? "oldest" : "newest") << " first");
            const auto before = limiter.stats().queue_steps;
            for (auto& signal : signals)
                signal->emit(asio::cancellation_type::terminal);
            CHECK(limiter.stats().queue_steps - before <= steps_per_waiter * n);
            ctx.poll();
            CHECK(ended.aborted == n);
            CHECK(limiter.tracked_tickets() == 0);
            CHECK(limiter.stats().live_tickets == 1);
        }
    }
}
