#include <discord_ratelimit/asio/send.hpp>

#include "catch.hpp"

#include <discord_ratelimit/asio/virtual_time.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#ifdef DISCORD_RATELIMIT_TESTS_HAVE_OPENSSL
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/sslerr.h>
#endif

#include <chrono>
#include <cstddef>
#include <system_error>
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

/// A send function that reaches no server: its attempts end with the scripted errors, in order,
/// posted to the context; once they are used up, each attempt is answered 200. Counts the attempts.
struct scripted_errors {
    asio::io_context* ctx;
    std::shared_ptr<std::deque<boost::system::error_code>> errors;
    std::shared_ptr<int> attempts;

    template <class Handler>
    void operator()(Handler&& handler)
    {
        ++*attempts;
        boost::system::error_code ec;
        if (!errors->empty()) {
            ec = errors->front();
            errors->pop_front();
        }
        drl::http_response res;
        if (!ec)
            res = drl::http_response{200, {via}, "{}"};
        asio::post(*ctx, [h = std::forward<Handler>(handler), ec, res = std::move(res)]() mutable {
            std::move(h)(ec, std::move(res));
        });
    }
};

/// The outcome of one `async_send` through `scripted_errors` that fail the first attempts.
struct scripted_outcome {
    boost::system::error_code ec;
    int attempts = 0;
    drl::engine_stats stats;
};

scripted_outcome send_failing(const drl::route& r, std::vector<boost::system::error_code> errors)
{
    vclock::reset();
    asio::io_context ctx;
    limiter_type limiter{ctx.get_executor()};
    auto script =
        std::make_shared<std::deque<boost::system::error_code>>(errors.begin(), errors.end());
    auto attempts = std::make_shared<int>(0);
    scripted_outcome out;
    bool done = false;
    drl::async_send(limiter, r, scripted_errors{&ctx, script, attempts},
                    [&](boost::system::error_code e, drl::http_response) {
                        done = true;
                        out.ec = e;
                    });
    drl::run_virtual<vclock>(ctx);
    REQUIRE(done);
    out.attempts = *attempts;
    out.stats = limiter.stats();
    vclock::reset();
    return out;
}

#ifdef DISCORD_RATELIMIT_TESTS_HAVE_OPENSSL
/// What Boost.Asio reports when OpenSSL's handshake rejects the server's certificate: the code of
/// `ERR_get_error()` in the `asio.ssl` category.
boost::system::error_code certificate_verify_failed()
{
    return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED)),
            asio::error::get_ssl_category()};
}
#endif

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

TEST_CASE("rule: nothing was sent only when nothing was sent: transport_error_of says "
          "connect_failed only when no byte can have been written",
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
    // Linux reports these on an established connection too, after the request was written.
    CHECK(drl::transport_error_of(asio::error::host_unreachable) == transport_error::network);
    CHECK(drl::transport_error_of(asio::error::network_unreachable) == transport_error::network);
    CHECK(drl::transport_error_of(errc::make_error_code(errc::host_unreachable)) ==
          transport_error::network);
    // The send function knows better: what it marks not sent was not.
    CHECK(drl::transport_error_of(drl::not_sent(asio::error::host_unreachable)) ==
          transport_error::connect_failed);
    CHECK(drl::transport_error_of(drl::not_sent(boost::beast::error::timeout)) ==
          transport_error::connect_failed);
    CHECK(drl::transport_error_of(drl::not_sent(asio::error::eof)) ==
          transport_error::connect_failed);
#ifdef DISCORD_RATELIMIT_TESTS_HAVE_OPENSSL
    // A certificate is rejected in the handshake, before the request; other TLS errors may come
    // after it was written.
    CHECK(drl::transport_error_of(certificate_verify_failed()) == transport_error::connect_failed);
    CHECK(drl::transport_error_of(asio::ssl::error::stream_truncated) == transport_error::network);
#endif
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

TEST_CASE("rule: nothing was sent only when nothing was sent: a POST whose host became "
          "unreachable after it was written is not resent",
          "[send]")
{
    for (const boost::system::error_code unreachable :
         {asio::error::host_unreachable, asio::error::network_unreachable}) {
        CAPTURE(unreachable.message());
        const auto out =
            send_failing(drl::make_route("POST", "/channels/1/messages"), {unreachable});
        CHECK(out.ec == drl::error::not_resent);
        CHECK(out.attempts == 1);
    }
}

TEST_CASE("rule: nothing was sent only when nothing was sent: a POST whose attempt said "
          "not_sent is sent again",
          "[send]")
{
    const auto post = drl::make_route("POST", "/channels/1/messages");
    for (const boost::system::error_code cause :
         {asio::error::host_unreachable, asio::error::timed_out, asio::error::connection_reset}) {
        CAPTURE(cause.message());
        const auto out = send_failing(post, {drl::not_sent(cause)});
        CHECK_FALSE(out.ec);
        CHECK(out.attempts == 2);
    }
}

TEST_CASE("rule: nothing was sent only when nothing was sent: an attempt aborted before it wrote "
          "anything ends the request unsent, its permit given back",
          "[send]")
{
    const auto out = send_failing(drl::make_route("POST", "/channels/1/messages"),
                                  {drl::not_sent(asio::error::operation_aborted)});
    CHECK(out.ec == asio::error::operation_aborted);
    CHECK(out.attempts == 1);
    CHECK(out.stats.cancelled == 1);
    CHECK(out.stats.live_tickets == 0);
}

TEST_CASE("rule: nothing was sent only when nothing was sent: not_sent keeps its cause", "[send]")
{
    namespace errc = boost::system::errc;
    const auto marked = drl::not_sent(asio::error::connection_refused);
    CHECK(marked);
    CHECK(drl::is_not_sent(marked));
    CHECK_FALSE(drl::is_not_sent(asio::error::connection_refused));
    CHECK(drl::not_sent_cause(marked) == asio::error::connection_refused);
    CHECK(drl::not_sent_cause(asio::error::eof) == asio::error::eof);
    CHECK(marked == errc::connection_refused); // the cause's conditions still hold
    CHECK(marked.message() ==
          "not sent: " + boost::system::error_code{asio::error::connection_refused}.message());
    CHECK(drl::not_sent(marked) == marked);
    CHECK(drl::not_sent(boost::beast::error::timeout).category() ==
          drl::not_sent(boost::beast::error::timeout).category()); // one category per cause's
}

#ifdef DISCORD_RATELIMIT_TESTS_HAVE_OPENSSL

TEST_CASE("rule: nothing was sent only when nothing was sent: a certificate that fails "
          "verification fails at once with certificate_rejected, for GET and POST",
          "[send]")
{
    for (const char* method : {"GET", "POST"}) {
        for (const bool marked : {false, true}) {
            CAPTURE(method, marked);
            const auto rejected = certificate_verify_failed();
            const auto out = send_failing(drl::make_route(method, "/channels/1/messages"),
                                          {marked ? drl::not_sent(rejected) : rejected});
            CHECK(out.ec == drl::error::certificate_rejected);
            CHECK(out.attempts == 1);
            CHECK(out.stats.retries == 0);
            CHECK(out.stats.live_tickets == 0);
        }
    }
}

TEST_CASE("rule: nothing was sent only when nothing was sent: is_certificate_rejection knows "
          "OpenSSL's verify failure from other TLS errors",
          "[send]")
{
    CHECK(drl::is_certificate_rejection(certificate_verify_failed()));
    CHECK(drl::is_certificate_rejection(drl::not_sent(certificate_verify_failed())));
    const boost::system::error_code wrong_version{
        static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_WRONG_VERSION_NUMBER)),
        asio::error::get_ssl_category()};
    CHECK_FALSE(drl::is_certificate_rejection(wrong_version));
    CHECK_FALSE(drl::is_certificate_rejection(asio::ssl::error::stream_truncated));
    // The same value in another category is not OpenSSL's.
    CHECK_FALSE(drl::is_certificate_rejection(boost::system::error_code{
        certificate_verify_failed().value(), boost::system::system_category()}));
    CHECK_FALSE(drl::is_certificate_rejection({}));
}

#endif

namespace {

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

TEST_CASE("rule: a not_sent code stays valid until the program ends", "[send]")
{
    last_error.ec = drl::not_sent(boost::system::error_code{asio::error::host_unreachable});
    CHECK(last_error.ec.message().rfind("not sent: ", 0) == 0);
}

TEST_CASE("rule: not_sent of no error is no error", "[send]")
{
    const auto none = drl::not_sent(boost::system::error_code{});
    const std::error_code as_std = none;
    CHECK_FALSE(none);
    CHECK_FALSE(as_std);
}
