// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_TESTS_INTEGRATION_FAULT_CLIENT_HPP
#define DISCORD_RATELIMIT_TESTS_INTEGRATION_FAULT_CLIENT_HPP

/// @file
/// What the fault tests need around the fake Discord: an asynchronous Beast client whose every
/// attempt has a deadline (connect, write and read together) and plugs into `async_send`, and a
/// batch runner that sends many requests through one real `rate_limiter` on the real steady clock,
/// records how each ended, and fails instead of hanging (a watchdog timer).

#include "fake_discord_server.hpp"

#include <discord_ratelimit/asio/beast_send.hpp>
#include <discord_ratelimit/asio/rate_limiter.hpp>
#include <discord_ratelimit/asio/send.hpp>
#include <discord_ratelimit/route.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fault_tests {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace drl = discord_ratelimit;

using request_message = http::request<http::string_body>;
using response_message = http::response<http::string_body>;

/// Sends each attempt on a connection of its own (`Connection: close`), so that a reset or a
/// timeout never touches another request, with a deadline on the whole attempt. A timeout
/// completes with `beast::error::timeout` (a `transport_error::timeout` for the engine); a reset
/// or a cut-off answer with the socket's or the parser's error (a `transport_error::network`).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe (it holds only constants).
class fault_client {
public:
    fault_client(asio::any_io_executor ex, std::uint16_t port, std::chrono::milliseconds timeout)
        : executor_{std::move(ex)}
        , endpoint_{asio::ip::make_address("127.0.0.1"), port}
        , timeout_{timeout}
    {
    }

    /// `method /api/v10<path>` with a bot token and, for POST and PATCH, `body` as JSON.
    static request_message make_request(std::string_view method, std::string_view path,
                                        std::string_view body = {})
    {
        request_message req;
        req.method_string(method);
        req.target("/api/v10" + std::string{path});
        req.version(11);
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::user_agent, "DiscordBot (fault-tests, 0.1)");
        req.set(http::field::authorization, "Bot fault-test-token");
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");
            req.body() = std::string{body};
        }
        req.keep_alive(false);
        req.prepare_payload();
        return req;
    }

    /// Starts one attempt; `handler(error_code, response_message)` runs when it ends.
    template <class Handler>
    void async_exchange(const request_message& req, Handler&& handler) const
    {
        asio::async_compose<Handler, void(boost::system::error_code, response_message)>(
            exchange{std::make_unique<attempt>(executor_, req), endpoint_, timeout_}, handler,
            executor_);
    }

private:
    /// What one attempt owns, at a stable address while its operations run.
    struct attempt {
        attempt(const asio::any_io_executor& ex, const request_message& r)
            : stream{ex}
            , req{r}
        {
        }
        beast::tcp_stream stream;
        request_message req;
        beast::flat_buffer buffer;
        response_message res;
    };

    struct exchange {
        std::unique_ptr<attempt> a;
        asio::ip::tcp::endpoint endpoint;
        std::chrono::milliseconds timeout;
        enum class stage { connect, write, read, done } next = stage::connect;

        template <class Self>
        void operator()(Self& self, boost::system::error_code ec = {}, std::size_t = 0)
        {
            if (ec)
                return finish(self, ec);
            switch (next) {
            case stage::connect:
                next = stage::write;
                a->stream.expires_after(timeout); // one deadline for the whole attempt
                return a->stream.async_connect(endpoint, std::move(self));
            case stage::write:
                next = stage::read;
                return http::async_write(a->stream, a->req, std::move(self));
            case stage::read:
                next = stage::done;
                return http::async_read(a->stream, a->buffer, a->res, std::move(self));
            case stage::done: return finish(self, {});
            }
        }

        template <class Self>
        void finish(Self& self, boost::system::error_code ec)
        {
            boost::system::error_code ignored;
            a->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            a->stream.close();
            response_message res = ec ? response_message{} : std::move(a->res);
            a.reset();
            self.complete(ec, std::move(res));
        }
    };

    asio::any_io_executor executor_;
    asio::ip::tcp::endpoint endpoint_;
    std::chrono::milliseconds timeout_;
};

/// One request of a batch.
struct planned_request {
    std::string method;
    std::string path; ///< relative to `/api/v10`
    std::string body; ///< for POST and PATCH
    /// Submitted when the request with this index (an earlier one) has ended, as a bot does
    /// things one after another; otherwise `submit_at` after the batch started.
    std::optional<std::size_t> after;
    std::chrono::milliseconds submit_at{0};
};

/// How one request of a batch ended.
struct request_result {
    bool ended = false;
    boost::system::error_code ec;
    int status = 0; ///< the final response's status (the last one received when it failed)
};

/// Something a test does while a batch runs: when request `after` has ended (before the
/// requests waiting for it are submitted), or else `at` after the batch started.
struct scheduled_action {
    std::optional<std::size_t> after;
    std::chrono::milliseconds at{0};
    std::function<void()> action;
};

/// Runs batches through one limiter on the real steady clock against a fake Discord.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe (one test thread runs it).
class batch_runner {
public:
    /// How long a batch may take before the watchdog fails it (generous: a loaded machine).
    static constexpr std::chrono::seconds default_watchdog{30};

    batch_runner(const fake_discord::server& server, std::chrono::milliseconds attempt_timeout,
                 drl::engine_config<std::chrono::steady_clock> config = {})
        : client_{ioc_.get_executor(), server.port(), attempt_timeout}
        , limiter_{ioc_.get_executor(), std::move(config)}
    {
    }

    drl::rate_limiter& limiter() noexcept { return limiter_; }

    /// Submits the requests (the limiter alone decides order and timing), runs the actions, and
    /// returns when each request has ended or the watchdog fired (then the limiter is shut down,
    /// and `watchdog_fired()` is true). One result per request, in order. Several batches may run
    /// one after another through the same limiter, but none after the watchdog fired (handlers of
    /// the abandoned batch are still queued).
    std::vector<request_result> run(const std::vector<planned_request>& plan,
                                    const std::vector<scheduled_action>& actions = {},
                                    std::chrono::seconds watchdog = default_watchdog)
    {
        batch b{*this, plan, actions};
        ioc_.restart();
        auto& guard = b.add_timer(watchdog);
        guard.async_wait([this, &b](boost::system::error_code ec) {
            if (ec)
                return;
            watchdog_fired_ = true;
            limiter_.shutdown(); // every waiting request ends with shut_down
            b.stop();
        });
        for (const scheduled_action& a : actions) {
            if (a.after)
                continue;
            b.add_timer(a.at).async_wait([&a](boost::system::error_code ec) {
                if (!ec)
                    a.action();
            });
        }
        for (std::size_t i = 0; i < plan.size(); ++i) {
            if (plan[i].after)
                continue;
            if (plan[i].submit_at <= std::chrono::milliseconds::zero()) {
                b.submit(i);
                continue;
            }
            b.add_timer(plan[i].submit_at).async_wait([&b, i](boost::system::error_code ec) {
                if (!ec)
                    b.submit(i);
            });
        }
        if (plan.empty())
            b.stop();
        ioc_.run();
        return std::move(b.results);
    }

    bool watchdog_fired() const noexcept { return watchdog_fired_; }

private:
    /// One `run`: its results and timers.
    struct batch {
        batch_runner& runner;
        const std::vector<planned_request>& plan;
        const std::vector<scheduled_action>& actions;
        std::vector<request_result> results = std::vector<request_result>(plan.size());
        std::size_t pending = plan.size();
        std::vector<std::unique_ptr<asio::steady_timer>> timers{};

        asio::steady_timer& add_timer(asio::steady_timer::duration after)
        {
            return *timers.emplace_back(std::make_unique<asio::steady_timer>(runner.ioc_, after));
        }

        void stop()
        {
            for (auto& t : timers)
                t->cancel();
            runner.ioc_.stop(); // the limiter may keep a timer for its housekeeping
        }

        void submit(std::size_t i)
        {
            const planned_request& p = plan[i];
            auto req = std::make_shared<request_message>(
                fault_client::make_request(p.method, p.path, p.body));
            drl::async_send<response_message>(
                runner.limiter_, drl::make_route(p.method, p.path),
                [client = &runner.client_, req](auto handler) {
                    client->async_exchange(*req, std::move(handler));
                },
                [this, i](boost::system::error_code ec, response_message res) {
                    ended(i, ec, static_cast<int>(res.result_int()));
                });
        }

        void ended(std::size_t i, boost::system::error_code ec, int status)
        {
            results[i] = {true, ec, status};
            for (const scheduled_action& a : actions)
                if (a.after == i)
                    a.action();
            for (std::size_t next = 0; next < plan.size(); ++next)
                if (plan[next].after == i)
                    submit(next);
            if (--pending == 0)
                stop();
        }
    };

    asio::io_context ioc_{1};
    fault_client client_;
    drl::rate_limiter limiter_;
    bool watchdog_fired_ = false;
};

} // namespace fault_tests

#endif
