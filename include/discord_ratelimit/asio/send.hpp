// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ASIO_SEND_HPP
#define DISCORD_RATELIMIT_ASIO_SEND_HPP

/// @file
/// `async_send`: acquire -> send -> complete -> wait and retry as the policy says -> the final
/// response or a clear error. Any HTTP client that can start a request with a completion token
/// becomes rate-limited with it.

#include <discord_ratelimit/asio/rate_limiter.hpp>
#include <discord_ratelimit/asio/send_error.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace discord_ratelimit {

/// A plain HTTP response for send functions that have no response type of their own.
struct http_response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// How `async_send` reads a response type: `status(r)`, `headers(r)` (a `header_source`) and
/// `body(r)`. Specialize it for your HTTP client's response type.
template <class Response>
struct response_traits;

template <>
struct response_traits<http_response> {
    static int status(const http_response& r) noexcept { return r.status; }
    static const auto& headers(const http_response& r) noexcept { return r.headers; }
    static std::string_view body(const http_response& r) noexcept { return r.body; }
};

/// How a send function's error maps to the engine's transport errors. Only a send function knows
/// whether its request was written; from the error code alone:
/// - `not_sent(cause)` (see `send_error.hpp`): nothing was sent, `connect_failed`;
/// - a server certificate that failed verification (`is_certificate_rejection`): it fails in the
///   TLS handshake, before the request, `connect_failed` (`async_send` does not retry it at all);
/// - `connection_refused`, `host_not_found`, `host_not_found_try_again`: only a connect or a name
///   lookup fails so, `connect_failed`;
/// - `timed_out` (and Beast's `beast::error::timeout`, which a `tcp_stream` deadline gives):
///   `timeout`, the request may have arrived;
/// - anything else may have arrived, `network`. That includes `host_unreachable` and
///   `network_unreachable`, which Linux also reports on an established connection whose written
///   request could not be delivered, and TLS errors other than a certificate rejection. A send
///   function whose connect or handshake failed says so with `not_sent`.
inline transport_error transport_error_of(const boost::system::error_code& ec) noexcept
{
    namespace errc = boost::system::errc;
    if (is_not_sent(ec) || is_certificate_rejection(ec))
        return transport_error::connect_failed;
    if (ec == errc::timed_out || ec == boost::asio::error::timed_out ||
        ec == boost::beast::error::timeout)
        return transport_error::timeout;
    if (ec == errc::connection_refused || ec == boost::asio::error::host_not_found ||
        ec == boost::asio::error::host_not_found_try_again)
        return transport_error::connect_failed;
    return transport_error::network;
}

namespace detail {

template <class Limiter, class Send, class Response>
struct send_operation {
    Limiter& limiter;
    route r;
    typename Limiter::options_type options;
    std::unique_ptr<Send> send; ///< stable while the operation moves into the send's handler
    permit p{};
    Response last{}; ///< the last response received, for every later failure

    template <class Self>
    void operator()(Self& self)
    {
        self.reset_cancellation_state(boost::asio::enable_total_cancellation());
        limiter.async_acquire(r, options, std::move(self));
    }

    /// Granted (or failed): send.
    template <class Self>
    void operator()(Self& self, boost::system::error_code ec, permit granted)
    {
        if (ec)
            return self.complete(ec, std::move(last));
        if (self.cancelled() != boost::asio::cancellation_type::none) {
            limiter.cancel(granted); // cancelled while its grant was on its way: never sent
            return self.complete(boost::asio::error::operation_aborted, std::move(last));
        }
        p = granted;
        (*send)(std::move(self)); // `*send` is evaluated before the handler is moved
    }

    /// The response, or the transport's error: ask the engine what it means.
    template <class Self>
    void operator()(Self& self, boost::system::error_code ec, Response res)
    {
        using traits = response_traits<Response>;
        if (ec && ends_unsent(ec)) {
            // Nothing was sent, and sending again cannot help: the permit goes back unused.
            limiter.cancel(p);
            return self.complete(
                is_certificate_rejection(ec)
                    ? boost::system::error_code{make_error_code(error::certificate_rejected)}
                    : boost::system::error_code{boost::asio::error::operation_aborted},
                std::move(last));
        }
        const auto c =
            ec ? limiter.complete(p, transport_error_of(ec))
               : limiter.complete(p, traits::status(res), traits::headers(res), traits::body(res));
        switch (c.status) {
        case completion_status::done: return self.complete({}, std::move(res));
        case completion_status::failed:
            // After a transport error `res` is empty: the last response received is the answer.
            return self.complete(c.error, ec ? std::move(last) : std::move(res));
        case completion_status::retry:
            if (self.cancelled() != boost::asio::cancellation_type::none) {
                limiter.cancel(p);
                return self.complete(boost::asio::error::operation_aborted,
                                     ec ? std::move(last) : std::move(res));
            }
            if (!ec)
                last = std::move(res);
            return limiter.async_acquire(p, std::move(self));
        }
    }

    /// A send error after which the request ends unsent, without asking the engine: a certificate
    /// that failed verification (no retry can pass), or an attempt aborted before it wrote
    /// anything.
    static bool ends_unsent(const boost::system::error_code& ec) noexcept
    {
        return is_certificate_rejection(ec) ||
               (is_not_sent(ec) && not_sent_cause(ec) == boost::asio::error::operation_aborted);
    }
};

} // namespace detail

/// Sends one request on `r` through `limiter`, retrying as the engine's policy says.
///
/// `send` is a callable that starts the HTTP request once per attempt: `send(handler)` must
/// eventually call `handler(boost::system::error_code, Response)` (it is a completion handler:
/// pass it to your client's async operation). `Response` is any type `response_traits` knows;
/// `http_response` by default. An attempt that wrote no byte of the request (its connect or TLS
/// handshake failed) should complete with `not_sent(ec)`: it is sent again, even a POST (see
/// `transport_error_of`). A `not_sent(operation_aborted)` ends the request unsent.
///
/// @par Completion Signature
/// `void(boost::system::error_code ec, Response res)`: on success `ec` is clear and `res` is the
/// 2xx (or 3xx) response. Otherwise `ec` says why: an `error` from the engine (the request's
/// `max_wait` or `deadline`, a ban, retries exhausted, `not_resent` for a POST that may have
/// arrived, 4xx as `unauthorized`, `forbidden`, `not_found`, `client_error`),
/// `certificate_rejected` at once when the server's TLS certificate failed verification (never
/// retried), `operation_aborted` when cancelled or when the send function reported
/// `not_sent(operation_aborted)`; and `res` holds the last response received, if any.
///
/// @par Per-Operation Cancellation
/// Terminal, partial and total. While waiting for a permit, the wait ends at once with
/// `operation_aborted` and its place in the queue is given up. While sending, the cancellation is
/// passed on to the send function's operation; its outcome is reported to the engine, and the
/// request is not retried.
///
/// @par Thread Safety
/// The limiter must outlive the operation. Start it from any thread.
template <class Response = http_response, class Clock, class Executor, class Send,
          class CompletionToken>
auto async_send(basic_rate_limiter<Clock, Executor>& limiter, const route& r, Send&& send,
                const request_options<Clock>& options, CompletionToken&& token)
{
    using limiter_type = basic_rate_limiter<Clock, Executor>;
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, Response)>(
        detail::send_operation<limiter_type, std::decay_t<Send>, Response>{
            limiter, r, options, std::make_unique<std::decay_t<Send>>(std::forward<Send>(send))},
        token, limiter.get_executor());
}

/// `async_send` with default request options.
template <class Response = http_response, class Clock, class Executor, class Send,
          class CompletionToken>
auto async_send(basic_rate_limiter<Clock, Executor>& limiter, const route& r, Send&& send,
                CompletionToken&& token)
{
    return async_send<Response>(limiter, r, std::forward<Send>(send), request_options<Clock>{},
                                std::forward<CompletionToken>(token));
}

} // namespace discord_ratelimit

#endif
