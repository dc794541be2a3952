// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Rules where the Asio layer meets the engine and the send function: a retry is acquired once, a
// stale acquisition ends no later retry, a grant nobody asked for is decided anew under a pause
// learned since, and `not_sent` codes stay valid to the end of the program.
#include <discord_ratelimit/asio/rate_limiter.hpp>
#include <discord_ratelimit/asio/send.hpp>
#include <discord_ratelimit/asio/send_error.hpp>
#include <discord_ratelimit/asio/virtual_time.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace drl = discord_ratelimit;

namespace {

struct seams_clock_tag {};
using vclock = drl::basic_manual_clock<seams_clock_tag>;
using limiter_type = drl::basic_rate_limiter<vclock>;
using test_support::bucket_headers;
using test_support::headers_type;

struct outcome {
    bool done = false;
    int count = 0;
    boost::system::error_code ec;
    drl::permit p;
};

auto record(outcome& o)
{
    return [&o](boost::system::error_code ec, drl::permit p) {
        o.done = true;
        ++o.count;
        o.ec = ec;
        o.p = p;
    };
}

/// A permit whose request got a 500: `complete` said retry, after a backoff of up to 10 s.
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
    }
    static drl::engine_config<vclock> config()
    {
        drl::engine_config<vclock> c;
        c.retry.initial_backoff = 10s;
        return c;
    }
    struct fresh_clock {
        fresh_clock() { vclock::reset(); }
        ~fresh_clock() { vclock::reset(); }
    } clock;
    asio::io_context ctx;
    limiter_type limiter;
    drl::permit p;
};

/// Holds an error code until the program ends, as a logger's last error would.
struct last_error_log {
    boost::system::error_code ec;
    ~last_error_log()
    {
        // After the tests (no assertion can run here): under AddressSanitizer a category freed
        // before this object would be reported by this read.
        volatile std::size_t length = ec ? ec.message().size() : 0;
        (void)length;
    }
} last_error;

} // namespace

TEST_CASE("rule: a stale acquisition of a permit does not end its next retry", "[asio][seams]")
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
          "[asio][seams]")
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

TEST_CASE("rule: a not_sent code stays valid until the program ends", "[asio][seams]")
{
    last_error.ec = drl::not_sent(boost::system::error_code{asio::error::host_unreachable});
    CHECK(last_error.ec.message().rfind("not sent: ", 0) == 0);
}

TEST_CASE("rule: not_sent of no error is no error", "[asio][seams]")
{
    const auto none = drl::not_sent(boost::system::error_code{});
    const std::error_code as_std = none;
    CHECK_FALSE(none);
    CHECK_FALSE(as_std);
}
