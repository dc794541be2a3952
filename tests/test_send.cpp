#include <discord_ratelimit/asio/send.hpp>

#include "catch.hpp"

#include <discord_ratelimit/asio/virtual_time.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace drl = discord_ratelimit;

namespace {

struct send_clock_tag {};
using vclock = drl::basic_manual_clock<send_clock_tag>;
using limiter_type = drl::basic_rate_limiter<vclock>;
using timer_type = drl::waitable_timer_for<vclock>;

const std::pair<std::string, std::string> via{"via", "1.1 google"};

using server_type = drl::testing::simulated_discord<vclock>;

/// Sends to the simulated Discord: 50 ms of virtual latency each way. A queued transport fault
/// makes an attempt fail after it reached the server (a timeout, a reset). Counts the attempts.
struct simulated_send {
    asio::io_context& ctx;
    server_type& server;
    drl::route r;
    std::shared_ptr<std::deque<boost::system::error_code>> faults;
    std::shared_ptr<std::vector<vclock::time_point>> attempts;

    template <class Handler>
    void operator()(Handler&& handler)
    {
        attempts->push_back(vclock::now());
        auto timer = std::make_shared<timer_type>(ctx, 50ms);
        // This function object lives in the operation, which moves: capture values, not `this`.
        timer->async_wait([server = &server, r = r, faults = faults, timer,
                           h = std::forward<Handler>(handler)](boost::system::error_code) mutable {
            const auto reply = server->handle(r, vclock::now());
            boost::system::error_code fault;
            if (!faults->empty()) {
                fault = faults->front();
                faults->pop_front();
            }
            timer->expires_after(50ms);
            timer->async_wait([timer, fault,
                               res = drl::http_response{reply.status, reply.headers, reply.body},
                               h = std::move(h)](boost::system::error_code) mutable {
                std::move(h)(fault, fault ? drl::http_response{} : std::move(res));
            });
        });
    }
};

struct fixture {
    fixture() { vclock::reset(); }
    ~fixture() { vclock::reset(); }
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    server_type server{};
    std::shared_ptr<std::deque<boost::system::error_code>> faults =
        std::make_shared<std::deque<boost::system::error_code>>();
    std::shared_ptr<std::vector<vclock::time_point>> attempts =
        std::make_shared<std::vector<vclock::time_point>>();
    boost::system::error_code ec;
    drl::http_response res;
    bool done = false;

    simulated_send sender(const drl::route& r)
    {
        return simulated_send{ctx, server, r, faults, attempts};
    }

    void run(const drl::route& r)
    {
        drl::async_send(limiter, r, sender(r),
                        [this](boost::system::error_code e, drl::http_response rr) {
                            done = true;
                            ec = e;
                            res = std::move(rr);
                        });
        drl::run_virtual<vclock>(ctx);
    }
    void inject(int status, std::vector<std::pair<std::string, std::string>> headers,
                std::string body = "{}")
    {
        server.inject(server_type::reply{status, std::move(headers), std::move(body)});
    }
    /// One successful send that leaves channel 1's bucket spent for 60 s.
    void spend_channel_bucket()
    {
        inject(200, {via,
                     {"x-ratelimit-limit", "1"},
                     {"x-ratelimit-remaining", "0"},
                     {"x-ratelimit-reset-after", "60"},
                     {"x-ratelimit-bucket", "b"}});
        run(drl::make_route("POST", "/channels/1/messages"));
        REQUIRE_FALSE(ec);
    }
    std::chrono::nanoseconds attempt_at(std::size_t i) const
    {
        return (*attempts)[i].time_since_epoch();
    }
};

} // namespace

TEST_CASE("async_send retries a user 429 after its retry_after", "[send]")
{
    fixture f;
    f.inject(
        429,
        {via, {"x-ratelimit-scope", "user"}, {"x-ratelimit-remaining", "0"}, {"retry-after", "3"}},
        R"({"message": "You are being rate limited.", "retry_after": 2.5, "global": false})");
    f.run(drl::make_route("POST", "/channels/1/messages"));
    CHECK(f.done);
    CHECK_FALSE(f.ec);
    CHECK(f.res.status == 200);
    REQUIRE(f.attempts->size() == 2);
    CHECK(f.attempt_at(1) == 100ms + 2500ms); // the body's float, counted from the response
}

TEST_CASE("async_send waits out a global 429", "[send]")
{
    fixture f;
    f.inject(429,
             {via,
              {"x-ratelimit-global", "true"},
              {"x-ratelimit-scope", "global"},
              {"retry-after", "1"}},
             R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.661})");
    f.run(drl::make_route("GET", "/guilds/1"));
    CHECK_FALSE(f.ec);
    REQUIRE(f.attempts->size() == 2);
    CHECK(f.attempt_at(1) == 100ms + 661ms);
}

TEST_CASE("async_send waits out a shared 429 without counting it invalid", "[send]")
{
    fixture f;
    f.inject(
        429,
        {via,
         {"x-ratelimit-scope", "shared"},
         {"x-ratelimit-limit", "10"},
         {"x-ratelimit-remaining", "9"},
         {"x-ratelimit-reset-after", "64.57"},
         {"retry-after", "2"}},
        R"({"message": "The resource is being rate limited.", "retry_after": 1.5, "global": false})");
    f.run(drl::make_route("POST", "/channels/1/messages"));
    CHECK_FALSE(f.ec);
    REQUIRE(f.attempts->size() == 2);
    CHECK(f.attempt_at(1) == 1600ms);
    CHECK(f.limiter.stats().invalid_requests_10min == 0);
}

TEST_CASE("async_send retries a 5xx with backoff", "[send]")
{
    fixture f;
    f.inject(502, {});
    f.inject(500, {via});
    f.run(drl::make_route("GET", "/channels/1/messages"));
    CHECK_FALSE(f.ec);
    CHECK(f.attempts->size() == 3);
    CHECK(f.server.seen().ok == 1);
}

TEST_CASE("async_send does not resend a POST that timed out", "[send]")
{
    fixture f;
    f.faults->push_back(asio::error::timed_out);
    f.run(drl::make_route("POST", "/channels/1/messages"));
    CHECK(f.ec == drl::error::not_resent);
    CHECK(f.attempts->size() == 1);
    CHECK(f.server.seen().requests == 1); // it did arrive: resending would have posted twice
}

TEST_CASE("async_send resends an idempotent request after a connection reset", "[send]")
{
    fixture f;
    f.faults->push_back(asio::error::connection_reset);
    f.run(drl::make_route("DELETE", "/channels/1/messages/5"));
    CHECK_FALSE(f.ec);
    CHECK(f.attempts->size() == 2);
}

TEST_CASE("async_send stops at a ban and fails with banned", "[send]")
{
    fixture f;
    f.server.inject(server_type::reply{429, {}, "<html>You are being blocked</html>"});
    f.run(drl::make_route("GET", "/guilds/1"));
    CHECK(f.ec == drl::error::banned);
    CHECK(f.attempts->size() == 1);
}

TEST_CASE("async_send fails a 404 at once", "[send]")
{
    fixture f;
    f.inject(404, {via});
    f.run(drl::make_route("POST", "/webhooks/1/token"));
    CHECK(f.ec == drl::error::not_found);
    CHECK(f.res.status == 404);
}

TEST_CASE("async_send fails at once when the known wait exceeds the request's maximum wait",
          "[send]")
{
    fixture f;
    f.spend_channel_bucket();
    drl::request_options<vclock> options;
    options.max_wait = 10s;
    boost::system::error_code ec;
    const auto r = drl::make_route("POST", "/channels/1/messages");
    drl::async_send(f.limiter, r, f.sender(r), options,
                    [&](boost::system::error_code e, drl::http_response) { ec = e; });
    drl::run_virtual<vclock>(f.ctx);
    CHECK(ec == drl::error::rate_limited);
    CHECK(f.attempts->size() == 1);
}

TEST_CASE("cancelling async_send while it waits for a permit ends it with operation_aborted",
          "[send]")
{
    fixture f;
    f.spend_channel_bucket();
    asio::cancellation_signal signal;
    bool done = false;
    boost::system::error_code ec;
    vclock::time_point ended{};
    const auto r = drl::make_route("POST", "/channels/1/messages");
    drl::async_send(f.limiter, r, f.sender(r),
                    asio::bind_cancellation_slot(
                        signal.slot(), [&](boost::system::error_code e, drl::http_response) {
                            done = true;
                            ec = e;
                            ended = vclock::now();
                        }));
    f.ctx.restart();
    f.ctx.poll();
    CHECK_FALSE(done);
    signal.emit(asio::cancellation_type::terminal);
    drl::run_virtual<vclock>(f.ctx);
    CHECK(done);
    CHECK(ec == asio::error::operation_aborted);
    CHECK(ended == vclock::time_point{} + 100ms); // at once, not at the reset
    CHECK(f.attempts->size() == 1);
}

TEST_CASE("transport_error_of: deadlines are timeouts, refusals never sent, the rest may have",
          "[send]")
{
    namespace errc = boost::system::errc;
    using drl::transport_error;
    CHECK(drl::transport_error_of(asio::error::timed_out) == transport_error::timeout);
    CHECK(drl::transport_error_of(errc::make_error_code(errc::timed_out)) ==
          transport_error::timeout);
    CHECK(drl::transport_error_of(boost::beast::error::timeout) == transport_error::timeout);
    CHECK(drl::transport_error_of(asio::error::connection_refused) ==
          transport_error::connect_failed);
    CHECK(drl::transport_error_of(asio::error::host_not_found) == transport_error::connect_failed);
    CHECK(drl::transport_error_of(asio::error::connection_reset) == transport_error::network);
    CHECK(drl::transport_error_of(asio::error::eof) == transport_error::network);
}

TEST_CASE("async_send that gives up after transport errors returns the last response received",
          "[send]")
{
    fixture f;
    f.inject(500, {via});
    f.faults->push_back({}); // the first attempt is answered: 500
    for (int i = 0; i < 10; ++i)
        f.faults->push_back(asio::error::connection_reset); // every later one is lost
    f.run(drl::make_route("GET", "/channels/1/messages"));
    CHECK(f.ec == drl::error::retries_exhausted);
    CHECK(f.res.status == 500);
}
