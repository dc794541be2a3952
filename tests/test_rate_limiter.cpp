#include <discord_ratelimit/asio/rate_limiter.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <discord_ratelimit/asio/virtual_time.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace drl = discord_ratelimit;

namespace {

struct limiter_clock_tag {};
using vclock = drl::basic_manual_clock<limiter_clock_tag>;
using limiter_type = drl::basic_rate_limiter<vclock>;
using test_support::bucket_headers;
using test_support::headers_type;

const auto send_message = [] {
    return drl::make_route("POST", "/channels/100/messages");
};

/// A recorded completion of async_acquire.
struct outcome {
    bool done = false;
    boost::system::error_code ec;
    drl::permit p;
    vclock::time_point at{};
};

auto record(outcome& o)
{
    return [&o](boost::system::error_code ec, drl::permit p) {
        o.done = true;
        o.ec = ec;
        o.p = p;
        o.at = vclock::now();
    };
}

/// Spends the channel's bucket: limit 1, resets `reset_after` after now.
void exhaust(limiter_type& limiter, asio::io_context& ctx, const std::string& reset_after)
{
    outcome first;
    limiter.async_acquire(send_message(), record(first));
    ctx.poll();
    ctx.restart();
    REQUIRE(first.done);
    REQUIRE_FALSE(first.ec);
    limiter.complete(first.p, 200, bucket_headers(1, 0, reset_after), "{}");
}

struct fresh_clock {
    fresh_clock() { vclock::reset(); }
    ~fresh_clock() { vclock::reset(); }
};

} // namespace

TEST_CASE("async_acquire completes a callback, never inline", "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    outcome o;
    limiter.async_acquire(send_message(), record(o));
    CHECK_FALSE(o.done); // posted, not invoked inside the initiating call
    ctx.run();
    CHECK(o.done);
    CHECK_FALSE(o.ec);
    CHECK(o.p.ticket != 0);
}

TEST_CASE("async_acquire waits on the virtual clock until the bucket resets", "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    exhaust(limiter, ctx, "30");
    outcome o;
    limiter.async_acquire(send_message(), record(o));
    drl::run_virtual<vclock>(ctx);
    CHECK(o.done);
    CHECK_FALSE(o.ec);
    CHECK(o.at == vclock::time_point{} + 30s);
}

TEST_CASE("async_acquire works with use_future", "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    auto f = limiter.async_acquire(send_message(), asio::use_future);
    ctx.run();
    CHECK(f.get().ticket != 0);
}

TEST_CASE("async_acquire works with deferred and as_tuple", "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    auto op = limiter.async_acquire(send_message(), asio::deferred);
    outcome o;
    std::move(op)(record(o));
    ctx.run();
    CHECK(o.done);
    ctx.restart();
    bool tuple_ok = false;
    limiter.async_acquire(drl::make_route("GET", "/guilds/1"),
                          asio::as_tuple([&](std::tuple<boost::system::error_code, drl::permit> t) {
                              tuple_ok = !std::get<0>(t) && std::get<1>(t).ticket != 0;
                          }));
    ctx.run();
    CHECK(tuple_ok);
}

TEST_CASE("async_acquire works in a coroutine with use_awaitable", "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    std::vector<vclock::time_point> sent;
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 3; ++i) {
                const auto p = co_await limiter.async_acquire(send_message(), asio::use_awaitable);
                sent.push_back(vclock::now());
                limiter.complete(p, 200, bucket_headers(1, 0, "5"), "{}");
            }
            auto [ec, p] =
                co_await limiter.async_acquire(send_message(), asio::as_tuple(asio::use_awaitable));
            CHECK_FALSE(ec);
            limiter.cancel(p);
        },
        asio::detached);
    drl::run_virtual<vclock>(ctx);
    REQUIRE(sent.size() == 3);
    CHECK(sent[0] == vclock::time_point{});
    CHECK(sent[1] == vclock::time_point{} + 5s);
    CHECK(sent[2] == vclock::time_point{} + 10s);
}

TEST_CASE("a cancelled wait completes with operation_aborted at once and the next waiter moves up",
          "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    exhaust(limiter, ctx, "10");
    asio::cancellation_signal signal;
    outcome cancelled;
    outcome next;
    limiter.async_acquire(send_message(),
                          asio::bind_cancellation_slot(signal.slot(), record(cancelled)));
    limiter.async_acquire(send_message(), record(next));
    ctx.poll();
    ctx.restart();
    CHECK_FALSE(cancelled.done);
    signal.emit(asio::cancellation_type::terminal);
    ctx.poll();
    ctx.restart();
    CHECK(cancelled.done);
    CHECK(cancelled.ec == asio::error::operation_aborted);
    CHECK(cancelled.at == vclock::time_point{});
    drl::run_virtual<vclock>(ctx);
    CHECK(next.done);
    CHECK(next.at == vclock::time_point{} + 10s);
    CHECK(limiter.stats().live_tickets == 1); // only `next`'s permit
}

TEST_CASE("partial cancellation also ends a wait on the global limit", "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    drl::engine_config<vclock> config;
    config.global_limit = 2;
    limiter_type limiter{ctx.get_executor(), config};
    std::vector<outcome> first(2);
    for (int i = 0; i < 2; ++i)
        limiter.async_acquire(drl::make_route("GET", "/guilds/" + std::to_string(i + 1)),
                              record(first[static_cast<std::size_t>(i)]));
    asio::cancellation_signal signal;
    outcome waiting;
    limiter.async_acquire(drl::make_route("GET", "/guilds/99"),
                          asio::bind_cancellation_slot(signal.slot(), record(waiting)));
    ctx.poll();
    ctx.restart();
    CHECK_FALSE(waiting.done);
    signal.emit(asio::cancellation_type::partial);
    ctx.poll();
    CHECK(waiting.ec == asio::error::operation_aborted);
}

TEST_CASE("a retry waiting for its backoff can be cancelled", "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    drl::engine_config<vclock> config;
    config.retry.initial_backoff = 10s; // a backoff drawn from [0, 10 s]: never 0 for this seed
    limiter_type limiter{ctx.get_executor(), config};
    outcome first;
    limiter.async_acquire(drl::make_route("GET", "/guilds/1"), record(first));
    ctx.poll();
    ctx.restart();
    const auto retry = limiter.complete(first.p, 500, headers_type{}, "");
    REQUIRE(retry.status == drl::completion_status::retry);
    REQUIRE(*retry.retry_at > vclock::now());
    asio::cancellation_signal signal;
    outcome again;
    limiter.async_acquire(first.p, asio::bind_cancellation_slot(signal.slot(), record(again)));
    ctx.poll();
    ctx.restart();
    REQUIRE_FALSE(again.done);
    signal.emit(asio::cancellation_type::terminal);
    ctx.poll();
    CHECK(again.ec == asio::error::operation_aborted);
    CHECK(again.at == vclock::time_point{});
    CHECK(limiter.stats().live_tickets == 0);
}

TEST_CASE("shutdown completes every waiter with shut_down; later acquisitions fail at once",
          "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    exhaust(limiter, ctx, "60");
    std::vector<outcome> waiting(5);
    for (auto& o : waiting)
        limiter.async_acquire(send_message(), record(o));
    ctx.poll();
    ctx.restart();
    limiter.shutdown();
    ctx.poll();
    ctx.restart();
    for (const auto& o : waiting) {
        CHECK(o.done);
        CHECK(o.ec == drl::error::shut_down);
    }
    outcome late;
    limiter.async_acquire(send_message(), record(late));
    ctx.poll();
    CHECK(late.ec == drl::error::shut_down);
}

TEST_CASE("destroying the limiter completes its waiters; nothing hangs", "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    outcome o;
    {
        limiter_type limiter{ctx.get_executor()};
        exhaust(limiter, ctx, "60");
        limiter.async_acquire(send_message(), record(o));
        ctx.poll();
        ctx.restart();
    }
    drl::run_virtual<vclock>(ctx);
    CHECK(o.ec == drl::error::shut_down);
    CHECK(vclock::now() == vclock::time_point{}); // its timer was cancelled, not waited out
}

TEST_CASE("waiters of one bucket are granted in FIFO order; other buckets never wait for them",
          "[asio]")
{
    fresh_clock c;
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    exhaust(limiter, ctx, "5");
    std::vector<int> order;
    for (int i = 0; i < 3; ++i)
        limiter.async_acquire(send_message(), [&, i](boost::system::error_code ec, drl::permit p) {
            REQUIRE_FALSE(ec);
            order.push_back(i);
            limiter.complete(p, 200, bucket_headers(1, 0, "5"), "{}");
        });
    outcome other;
    limiter.async_acquire(drl::make_route("POST", "/channels/200/messages"), record(other));
    ctx.poll();
    ctx.restart();
    CHECK(other.done); // not behind the first channel's queue
    drl::run_virtual<vclock>(ctx);
    CHECK(order == std::vector{0, 1, 2});
    CHECK(vclock::now() == vclock::time_point{} + 15s);
}

TEST_CASE("many threads acquire and complete at once", "[asio][threads]")
{
    fresh_clock c;
    asio::io_context ctx;
    drl::engine_config<vclock> config;
    config.global_limit = 10'000; // the fake clock stands still here: no request may wait for time
    limiter_type limiter{ctx.get_executor(), config};
    auto work = asio::make_work_guard(ctx);
    std::vector<std::thread> runners;
    for (int i = 0; i < 2; ++i)
        runners.emplace_back([&] { ctx.run(); });
    std::atomic<int> done{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
        clients.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                // Distinct channels: every first request on a route is granted without waiting.
                const auto r =
                    drl::make_route("GET", "/channels/" + std::to_string(1000 * (t + 1) + i));
                auto p = limiter.async_acquire(r, asio::use_future).get();
                limiter.complete(p, 200,
                                 headers_type{{"x-ratelimit-limit", "5"},
                                              {"x-ratelimit-remaining", "4"},
                                              {"x-ratelimit-reset-after", "1"},
                                              {"x-ratelimit-bucket", "b"}},
                                 "{}");
                ++done;
            }
        });
    for (auto& t : clients)
        t.join();
    work.reset();
    for (auto& t : runners)
        t.join();
    CHECK(done == 200);
    CHECK(limiter.stats().succeeded == 200);
}

namespace {

/// A limiter whose first request on GET /guilds/1 was granted and answered 500: the permit waits
/// for its retry, 0 to 10 s of backoff away (never 0 for the seeded jitter).
struct retrying_permit {
    retrying_permit()
        : limiter{ctx.get_executor(), config()}
    {
        outcome first;
        limiter.async_acquire(drl::make_route("GET", "/guilds/1"), record(first));
        ctx.poll();
        ctx.restart();
        REQUIRE_FALSE(first.ec);
        p = first.p;
        const auto c = limiter.complete(p, 500, headers_type{}, "");
        REQUIRE(c.status == drl::completion_status::retry);
        REQUIRE(*c.retry_at > vclock::now());
    }

    static drl::engine_config<vclock> config()
    {
        drl::engine_config<vclock> c;
        c.retry.initial_backoff = 10s;
        return c;
    }

    /// Nothing of any request is left: no ticket in the engine, no entry in the limiter's tables.
    void require_empty()
    {
        CHECK(limiter.stats().live_tickets == 0);
        CHECK(limiter.tracked_tickets() == 0);
    }

    fresh_clock clock;
    asio::io_context ctx;
    limiter_type limiter;
    drl::permit p;
};

} // namespace

TEST_CASE("rule: every handler completes once: a second async_acquire for one permit completes "
          "with already_waiting, the first still completes",
          "[asio]")
{
    retrying_permit f;
    outcome first;
    outcome second;
    SECTION("while the first waits")
    {
        f.limiter.async_acquire(f.p, record(first));
        f.limiter.async_acquire(f.p, record(second));
    }
    SECTION("after the first was granted at once")
    {
        drl::run_virtual<vclock>(f.ctx); // past the backoff: the retry is granted to nobody yet
        f.ctx.restart();
        f.limiter.async_acquire(f.p, record(first));
        f.limiter.async_acquire(f.p, record(second));
    }
    drl::run_virtual<vclock>(f.ctx);
    REQUIRE(second.done);
    CHECK(second.ec == drl::error::already_waiting);
    REQUIRE(first.done);
    CHECK_FALSE(first.ec);
    CHECK(first.p == f.p);
    CHECK(f.limiter.stats().granted == 2); // the first grant and the retry's, not a third
    f.limiter.complete(first.p, 200, bucket_headers(5, 4, "1"), "{}");
    f.require_empty();
}

TEST_CASE("rule: every handler completes once: a retry the caller abandons leaves no entry behind",
          "[asio]")
{
    retrying_permit f;
    SECTION("its acquisition is cancelled while it waits")
    {
        asio::cancellation_signal signal;
        outcome again;
        f.limiter.async_acquire(f.p, asio::bind_cancellation_slot(signal.slot(), record(again)));
        f.ctx.poll();
        f.ctx.restart();
        signal.emit(asio::cancellation_type::terminal);
        f.ctx.poll();
        CHECK(again.ec == asio::error::operation_aborted);
    }
    SECTION("its deferred acquisition is destroyed without being started")
    {
        {
            auto op = f.limiter.async_acquire(f.p, asio::deferred);
            (void)op;
        }
        drl::run_virtual<vclock>(f.ctx);
    }
    SECTION("its acquisition in a coroutine is never awaited")
    {
        {
            auto never_awaited = f.limiter.async_acquire(f.p, asio::use_awaitable);
            (void)never_awaited;
        }
        drl::run_virtual<vclock>(f.ctx);
    }
    SECTION("it is cancelled after the engine failed it while nobody asked")
    {
        // A Cloudflare ban on another route fails every waiting ticket, the sleeping retry too.
        outcome other;
        f.limiter.async_acquire(drl::make_route("GET", "/guilds/2"), record(other));
        f.ctx.poll();
        f.ctx.restart();
        REQUIRE_FALSE(other.ec);
        f.limiter.complete(other.p, 429, headers_type{}, "<html>You are being blocked</html>");
        f.ctx.poll();
        f.ctx.restart();
        CHECK_FALSE(f.limiter.cancel(f.p)); // ended now, as the caller asked
    }
    SECTION("it is cancelled before its acquisition is started")
    {
        CHECK_FALSE(f.limiter.cancel(f.p));
    }
    f.require_empty();
}

TEST_CASE("rule: a stale acquisition of a permit does not end its next retry", "[asio]")
{
    retrying_permit f;
    auto first = f.limiter.async_acquire(f.p, asio::deferred);
    std::optional<decltype(f.limiter.async_acquire(f.p, asio::deferred))> stale;
    stale.emplace(f.limiter.async_acquire(f.p, asio::deferred)); // never started
    outcome o1;
    std::move(first)(record(o1));
    drl::run_virtual<vclock>(f.ctx);
    f.ctx.restart();
    REQUIRE(o1.done);
    REQUIRE_FALSE(o1.ec);
    const auto c = f.limiter.complete(f.p, 500, headers_type{}, "");
    REQUIRE(c.status == drl::completion_status::retry);
    stale.reset(); // the never-started acquisition of the first retry goes away
    outcome o2;
    f.limiter.async_acquire(f.p, record(o2));
    drl::run_virtual<vclock>(f.ctx);
    REQUIRE(o2.done);
    CHECK_FALSE(o2.ec);
}

TEST_CASE("rule: a retry granted before anyone asked for it waits out a global 429 learned since",
          "[asio]")
{
    retrying_permit f;
    drl::run_virtual<vclock>(f.ctx); // past the backoff: the engine granted it, to nobody yet
    f.ctx.restart();
    outcome other;
    f.limiter.async_acquire(drl::make_route("GET", "/guilds/2"), record(other));
    f.ctx.poll();
    f.ctx.restart();
    REQUIRE_FALSE(other.ec);
    const headers_type global_headers{{"retry-after", "5"},
                                      {"x-ratelimit-global", "true"},
                                      {"x-ratelimit-scope", "global"},
                                      {"via", "1.1 google"}};
    const auto c = f.limiter.complete(
        other.p, 429, global_headers,
        R"({"global": true, "message": "You are being rate limited.", "retry_after": 5.0})");
    REQUIRE(c.status == drl::completion_status::retry);
    const auto paused_until = *c.retry_at;
    outcome again;
    f.limiter.async_acquire(f.p, record(again));
    f.ctx.poll();
    f.ctx.restart();
    CHECK_FALSE(again.done);
    drl::run_virtual<vclock>(f.ctx);
    REQUIRE(again.done);
    CHECK_FALSE(again.ec);
    CHECK(vclock::now() >= paused_until);
}
