// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/asio/virtual_time.hpp>

#include "catch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

namespace asio = boost::asio;
using namespace discord_ratelimit;
using namespace std::chrono_literals;

static_assert(std::is_same_v<waitable_timer_for<std::chrono::steady_clock>, asio::steady_timer>);
static_assert(std::is_same_v<wait_traits_for<std::chrono::system_clock>::type,
                             asio::wait_traits<std::chrono::system_clock>>);
static_assert(
    std::is_same_v<wait_traits_for<manual_clock>::type, virtual_wait_traits<manual_clock>>);

namespace {

/// Each test owns a clock, so no test sees another's time or expiry records.
template <class Tag>
struct virtual_test {
    using clock_type = basic_manual_clock<Tag>;
    using timer_type = waitable_timer_for<clock_type>;
    using time_point = typename clock_type::time_point;

    virtual_test() { clock_type::reset(); }

    static time_point at(typename clock_type::duration since_epoch)
    {
        return time_point{since_epoch};
    }

    asio::io_context ctx;
};

} // namespace

TEST_CASE("virtual wait traits answer a zero real-time wait for any expiry")
{
    struct test_tag_traits {};
    using clock_type = basic_manual_clock<test_tag_traits>;
    using traits = virtual_wait_traits<clock_type>;
    clock_type::reset();

    CHECK(traits::to_wait_duration(clock_type::duration{1h}) == clock_type::duration::zero());
    CHECK(traits::to_wait_duration(clock_type::duration{-5s}) == clock_type::duration::zero());
    CHECK(traits::to_wait_duration(clock_type::duration::max()) == clock_type::duration::zero());
    CHECK(traits::to_wait_duration(clock_type::now() + 1h) == clock_type::duration::zero());
    CHECK(clock_type::now() == clock_type::time_point{});
}

TEST_CASE("a one-hour virtual timer fires with the clock at exactly one hour")
{
    struct test_tag_one_hour {};
    virtual_test<test_tag_one_hour> t;
    using clock_type = decltype(t)::clock_type;

    decltype(t)::timer_type timer{t.ctx};
    timer.expires_after(1h);
    std::optional<clock_type::time_point> fired_at;
    boost::system::error_code result = asio::error::would_block;
    timer.async_wait([&](boost::system::error_code ec) {
        result = ec;
        fired_at = clock_type::now();
    });

    CHECK(run_virtual<basic_manual_clock<test_tag_one_hour>>(t.ctx) == 1);
    CHECK(result == boost::system::error_code{});
    CHECK(fired_at == t.at(1h));
    CHECK(clock_type::now() == t.at(1h));
}

TEST_CASE("ten thousand timers fire in expiry order, each at its own expiry")
{
    struct test_tag_many {};
    virtual_test<test_tag_many> t;
    using clock_type = decltype(t)::clock_type;
    using timer_type = decltype(t)::timer_type;
    constexpr std::size_t count = 10'000;

    struct firing {
        clock_type::time_point expiry;
        clock_type::time_point now;
    };
    std::vector<firing> firings;
    firings.reserve(count);
    std::vector<std::unique_ptr<timer_type>> timers;
    std::uint64_t state = 0x9e3779b97f4a7c15u;
    clock_type::time_point latest{};
    for (std::size_t i = 0; i < count; ++i) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        // Up to ten hours, in milliseconds, so that some expiries coincide.
        const auto expiry = t.at(std::chrono::milliseconds{(state >> 33) % (10 * 3600 * 1000)});
        latest = std::max(latest, expiry);
        auto& timer = *timers.emplace_back(std::make_unique<timer_type>(t.ctx, expiry));
        timer.async_wait([&firings, expiry](boost::system::error_code ec) {
            if (!ec)
                firings.push_back({expiry, clock_type::now()});
        });
    }

    CHECK(run_virtual<basic_manual_clock<test_tag_many>>(t.ctx) == count);
    REQUIRE(firings.size() == count);
    std::size_t out_of_order = 0;
    std::size_t early_or_late = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0 && firings[i].expiry < firings[i - 1].expiry)
            ++out_of_order;
        if (firings[i].now != firings[i].expiry)
            ++early_or_late;
    }
    CHECK(out_of_order == 0);
    CHECK(early_or_late == 0);
    CHECK(clock_type::now() == latest);
}

TEST_CASE("a cancelled timer does not advance the clock to its expiry")
{
    struct test_tag_cancel {};
    virtual_test<test_tag_cancel> t;
    using clock_type = decltype(t)::clock_type;

    decltype(t)::timer_type later{t.ctx, t.at(1h)};
    decltype(t)::timer_type sooner{t.ctx, t.at(10min)};
    std::vector<boost::system::error_code> results;
    later.async_wait([&](boost::system::error_code ec) { results.push_back(ec); });
    // Arming `later` first made the reactor report its expiry; cancelling it reports nothing.
    sooner.async_wait([&](boost::system::error_code ec) {
        results.push_back(ec);
        later.cancel();
    });

    CHECK(run_virtual<basic_manual_clock<test_tag_cancel>>(t.ctx) == 2);
    REQUIRE(results.size() == 2);
    CHECK(results[0] == boost::system::error_code{});
    CHECK(results[1] == asio::error::operation_aborted);
    CHECK(clock_type::now() == t.at(10min));
}

TEST_CASE("a timer cancelled before run_virtual leaves the clock where it is")
{
    struct test_tag_cancel_first {};
    virtual_test<test_tag_cancel_first> t;
    using clock_type = decltype(t)::clock_type;

    decltype(t)::timer_type timer{t.ctx, t.at(2h)};
    boost::system::error_code result;
    timer.async_wait([&](boost::system::error_code ec) { result = ec; });
    timer.cancel();

    CHECK(run_virtual<basic_manual_clock<test_tag_cancel_first>>(t.ctx) == 1);
    CHECK(result == asio::error::operation_aborted);
    CHECK(clock_type::now() == t.at(0s));
}

TEST_CASE("a timer re-armed later fires at its new expiry only")
{
    struct test_tag_rearm {};
    virtual_test<test_tag_rearm> t;
    using clock_type = decltype(t)::clock_type;

    decltype(t)::timer_type timer{t.ctx, t.at(1h)};
    decltype(t)::timer_type rearmer{t.ctx, t.at(5min)};
    std::vector<clock_type::time_point> fired;
    std::size_t aborted = 0;
    auto on_timer = [&](boost::system::error_code ec) {
        if (ec == asio::error::operation_aborted)
            ++aborted;
        else
            fired.push_back(clock_type::now());
    };
    timer.async_wait(on_timer);
    rearmer.async_wait([&](boost::system::error_code) {
        timer.expires_at(t.at(3h)); // cancels the wait for 1h
        timer.async_wait(on_timer);
    });

    CHECK(run_virtual<basic_manual_clock<test_tag_rearm>>(t.ctx) == 3);
    CHECK(aborted == 1);
    CHECK(fired == std::vector{t.at(3h)});
    CHECK(clock_type::now() == t.at(3h));
}

TEST_CASE("a periodic timer runs up to `until` and leaves the clock there")
{
    struct test_tag_periodic {};
    virtual_test<test_tag_periodic> t;
    using clock_type = decltype(t)::clock_type;

    decltype(t)::timer_type timer{t.ctx, t.at(1s)};
    std::vector<clock_type::time_point> ticks;
    std::function<void(boost::system::error_code)> tick = [&](boost::system::error_code ec) {
        if (ec)
            return;
        ticks.push_back(clock_type::now());
        timer.expires_at(timer.expiry() + 1s);
        timer.async_wait(tick);
    };
    timer.async_wait(tick);

    CHECK(run_virtual(t.ctx, t.at(10500ms)) == 10);
    REQUIRE(ticks.size() == 10);
    CHECK(ticks.front() == t.at(1s));
    CHECK(ticks.back() == t.at(10s));
    CHECK(clock_type::now() == t.at(10500ms));

    // A tick exactly at `until` runs; the next call carries on from where the clock stopped.
    CHECK(run_virtual(t.ctx, t.at(20s)) == 10);
    CHECK(ticks.back() == t.at(20s));
    CHECK(clock_type::now() == t.at(20s));

    timer.cancel();
    CHECK(run_virtual<basic_manual_clock<test_tag_periodic>>(t.ctx) == 1);
    CHECK(ticks.size() == 20);
    CHECK(clock_type::now() == t.at(20s));
}

TEST_CASE("posted work without timers runs and returns")
{
    struct test_tag_posted {};
    virtual_test<test_tag_posted> t;
    using clock_type = decltype(t)::clock_type;

    std::vector<int> order;
    asio::post(t.ctx, [&] {
        order.push_back(1);
        asio::post(t.ctx, [&] { order.push_back(3); });
    });
    asio::post(t.ctx, [&] { order.push_back(2); });

    CHECK(run_virtual<basic_manual_clock<test_tag_posted>>(t.ctx) == 3);
    CHECK(order == std::vector{1, 2, 3});
    CHECK(clock_type::now() == t.at(0s));

    SECTION("with a finite `until` and nothing pending, the clock still ends at `until`")
    {
        CHECK(run_virtual(t.ctx, t.at(5s)) == 0);
        CHECK(clock_type::now() == t.at(5s));
    }
}

TEST_CASE("work and timers on a strand run in virtual time, one at a time")
{
    struct test_tag_strand {};
    virtual_test<test_tag_strand> t;
    using clock_type = decltype(t)::clock_type;
    using strand_type = asio::strand<asio::io_context::executor_type>;

    strand_type strand = asio::make_strand(t.ctx);
    waitable_timer_for<clock_type, strand_type> timer{strand, t.at(30s)};
    std::vector<int> order;
    bool timer_on_strand = false;
    clock_type::time_point timer_ran_at{};
    for (int i = 0; i < 5; ++i)
        asio::post(strand, [&order, i] { order.push_back(i); });
    timer.async_wait([&](boost::system::error_code ec) {
        REQUIRE(!ec);
        timer_on_strand = strand.running_in_this_thread();
        timer_ran_at = clock_type::now();
        asio::post(strand, [&] { order.push_back(99); });
    });

    CHECK(run_virtual<basic_manual_clock<test_tag_strand>>(t.ctx) >= 2);
    CHECK(order == std::vector{0, 1, 2, 3, 4, 99});
    CHECK(timer_on_strand);
    CHECK(timer_ran_at == t.at(30s));
    CHECK(clock_type::now() == t.at(30s));
}

TEST_CASE("a timer armed inside a handler fires in the same run")
{
    struct test_tag_nested {};
    virtual_test<test_tag_nested> t;
    using clock_type = decltype(t)::clock_type;

    decltype(t)::timer_type first{t.ctx};
    decltype(t)::timer_type second{t.ctx};
    std::vector<clock_type::time_point> fired;
    asio::post(t.ctx, [&] {
        first.expires_after(30min);
        first.async_wait([&](boost::system::error_code) {
            fired.push_back(clock_type::now());
            second.expires_after(15min);
            second.async_wait(
                [&](boost::system::error_code) { fired.push_back(clock_type::now()); });
        });
    });

    CHECK(run_virtual<basic_manual_clock<test_tag_nested>>(t.ctx) == 3);
    CHECK(fired == std::vector{t.at(30min), t.at(45min)});
    CHECK(clock_type::now() == t.at(45min));
}

TEST_CASE("pending real-clock work does not keep run_virtual from returning")
{
    struct test_tag_mixed {};
    virtual_test<test_tag_mixed> t;
    using clock_type = decltype(t)::clock_type;

    waitable_timer_for<std::chrono::steady_clock> real{t.ctx, 24h};
    boost::system::error_code real_result;
    real.async_wait([&](boost::system::error_code ec) { real_result = ec; });
    decltype(t)::timer_type timer{t.ctx, t.at(1h)};
    bool fired = false;
    timer.async_wait([&](boost::system::error_code ec) { fired = !ec; });

    CHECK(run_virtual<basic_manual_clock<test_tag_mixed>>(t.ctx) == 1);
    CHECK(fired);
    CHECK(clock_type::now() == t.at(1h));

    real.cancel();
    CHECK(run_virtual<basic_manual_clock<test_tag_mixed>>(t.ctx) == 1);
    CHECK(real_result == asio::error::operation_aborted);
}

TEST_CASE("a handler that stops the context ends run_virtual, and the next call resumes")
{
    struct test_tag_stop {};
    virtual_test<test_tag_stop> t;
    using clock_type = decltype(t)::clock_type;

    decltype(t)::timer_type first{t.ctx, t.at(1min)};
    decltype(t)::timer_type second{t.ctx, t.at(2min)};
    std::size_t fired = 0;
    first.async_wait([&](boost::system::error_code) {
        ++fired;
        t.ctx.stop();
    });
    second.async_wait([&](boost::system::error_code) { ++fired; });

    CHECK(run_virtual<basic_manual_clock<test_tag_stop>>(t.ctx) == 1);
    CHECK(t.ctx.stopped());
    CHECK(clock_type::now() == t.at(1min));

    CHECK(run_virtual<basic_manual_clock<test_tag_stop>>(t.ctx) == 1);
    CHECK(fired == 2);
    CHECK(clock_type::now() == t.at(2min));
}
