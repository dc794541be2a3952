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

drl::http_response reply(int status, std::vector<std::pair<std::string, std::string>> headers,
                         std::string body = "{}")
{
    headers.push_back(via);
    return {status, std::move(headers), std::move(body)};
}

/// A send function that answers from a script after 100 ms of virtual latency; an entry with a
/// transport error fails instead. Counts the attempts.
struct scripted_send {
    struct step {
        boost::system::error_code ec;
        drl::http_response res;
    };
    asio::io_context& ctx;
    std::shared_ptr<std::deque<step>> script;
    std::shared_ptr<std::vector<vclock::time_point>> attempts;

    template <class Handler>
    void operator()(Handler&& handler)
    {
        attempts->push_back(vclock::now());
        auto timer = std::make_shared<timer_type>(ctx, 100ms);
        step next = script->front();
        script->pop_front();
        timer->async_wait(
            [timer, next, h = std::forward<Handler>(handler)](boost::system::error_code) mutable {
                std::move(h)(next.ec, next.res);
            });
    }
};

struct fixture {
    fixture() { vclock::reset(); }
    ~fixture() { vclock::reset(); }
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    std::shared_ptr<std::deque<scripted_send::step>> script =
        std::make_shared<std::deque<scripted_send::step>>();
    std::shared_ptr<std::vector<vclock::time_point>> attempts =
        std::make_shared<std::vector<vclock::time_point>>();
    boost::system::error_code ec;
    drl::http_response res;
    bool done = false;

    void run(const drl::route& r)
    {
        drl::async_send(limiter, r, scripted_send{ctx, script, attempts},
                        [this](boost::system::error_code e, drl::http_response rr) {
                            done = true;
                            ec = e;
                            res = std::move(rr);
                        });
        drl::run_virtual<vclock>(ctx);
    }
    std::chrono::nanoseconds attempt_at(std::size_t i) const
    {
        return (*attempts)[i].time_since_epoch();
    }
};

const auto ok = [] {
    return reply(200, {{"x-ratelimit-limit", "5"},
                       {"x-ratelimit-remaining", "4"},
                       {"x-ratelimit-reset-after", "5"},
                       {"x-ratelimit-bucket", "b"}});
};

} // namespace

TEST_CASE("async_send retries a user 429 after its retry_after", "[send]")
{
    fixture f;
    f.script->push_back(
        {{},
         reply(
             429,
             {{"x-ratelimit-scope", "user"}, {"x-ratelimit-remaining", "0"}, {"retry-after", "3"}},
             R"({"message": "You are being rate limited.", "retry_after": 2.5, "global": false})")});
    f.script->push_back({{}, ok()});
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
    f.script->push_back(
        {{},
         reply(
             429,
             {{"x-ratelimit-global", "true"},
              {"x-ratelimit-scope", "global"},
              {"retry-after", "1"}},
             R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.661})")});
    f.script->push_back({{}, ok()});
    f.run(drl::make_route("GET", "/guilds/1"));
    CHECK_FALSE(f.ec);
    REQUIRE(f.attempts->size() == 2);
    CHECK(f.attempt_at(1) == 100ms + 661ms);
}

TEST_CASE("async_send waits out a shared 429 without counting it invalid", "[send]")
{
    fixture f;
    f.script->push_back(
        {{},
         reply(
             429,
             {{"x-ratelimit-scope", "shared"},
              {"x-ratelimit-limit", "10"},
              {"x-ratelimit-remaining", "9"},
              {"x-ratelimit-reset-after", "64.57"},
              {"retry-after", "2"}},
             R"({"message": "The resource is being rate limited.", "retry_after": 1.5, "global": false})")});
    f.script->push_back({{}, ok()});
    f.run(drl::make_route("POST", "/channels/1/messages"));
    CHECK_FALSE(f.ec);
    CHECK(f.attempt_at(1) == 1600ms);
    CHECK(f.limiter.stats().invalid_requests_10min == 0);
}

TEST_CASE("async_send retries a 5xx with backoff", "[send]")
{
    fixture f;
    f.script->push_back({{}, reply(502, {})});
    f.script->push_back({{}, reply(500, {})});
    f.script->push_back({{}, ok()});
    f.run(drl::make_route("GET", "/channels/1/messages"));
    CHECK_FALSE(f.ec);
    CHECK(f.attempts->size() == 3);
}

TEST_CASE("async_send does not resend a POST that timed out", "[send]")
{
    fixture f;
    f.script->push_back({asio::error::timed_out, {}});
    f.script->push_back({{}, ok()});
    f.run(drl::make_route("POST", "/channels/1/messages"));
    CHECK(f.ec == drl::error::not_resent);
    CHECK(f.attempts->size() == 1);
}

TEST_CASE("async_send stops at a ban and fails with banned", "[send]")
{
    fixture f;
    drl::http_response ban{429, {}, "<html>You are being blocked</html>"};
    f.script->push_back({{}, ban});
    f.run(drl::make_route("GET", "/guilds/1"));
    CHECK(f.ec == drl::error::banned);
    CHECK(f.attempts->size() == 1);
}

TEST_CASE("async_send fails a 404 at once", "[send]")
{
    fixture f;
    f.script->push_back({{}, reply(404, {})});
    f.run(drl::make_route("POST", "/webhooks/1/token"));
    CHECK(f.ec == drl::error::not_found);
    CHECK(f.res.status == 404);
}

TEST_CASE("cancelling async_send while it waits for a permit ends it with operation_aborted",
          "[send]")
{
    fixture f;
    f.script->push_back({{},
                         reply(200, {{"x-ratelimit-limit", "1"},
                                     {"x-ratelimit-remaining", "0"},
                                     {"x-ratelimit-reset-after", "60"},
                                     {"x-ratelimit-bucket", "b"}})});
    f.run(drl::make_route("POST", "/channels/1/messages"));
    REQUIRE_FALSE(f.ec);
    asio::cancellation_signal signal;
    bool done = false;
    boost::system::error_code ec;
    vclock::time_point ended{};
    drl::async_send(f.limiter, drl::make_route("POST", "/channels/1/messages"),
                    scripted_send{f.ctx, f.script, f.attempts},
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
