// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_FAKE_DISCORD_HTTP_CLIENT_HPP
#define DISCORD_RATELIMIT_FAKE_DISCORD_HTTP_CLIENT_HPP

/// @file
/// A small synchronous HTTP/1.1 client (Boost.Beast) for tests against the fake Discord: one
/// keep-alive connection, opened on first use and again after the server closed it. Every
/// operation has a timeout (a safety net: a broken server fails the test instead of hanging it).

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fake_discord {

/// A response as the client read it (its header fields work with `beast_headers.hpp`).
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// One keep-alive connection to `host:port`.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
class http_client {
public:
    explicit http_client(std::uint16_t port, std::string host = "127.0.0.1",
                         std::chrono::milliseconds timeout = std::chrono::seconds{30})
        : host_{std::move(host)}
        , port_{port}
        , timeout_{timeout}
    {
    }

    /// Sends `method target` (`target` like `/api/v10/channels/1/messages?x=y`) with
    /// `Authorization: Bot <token>` unless `token` is empty and `body` (as JSON) unless it is
    /// empty, and reads the answer. Connects first when not connected; closes after an answer
    /// without keep-alive.
    /// @throws boost::system::system_error on a connection failure or timeout.
    http_response request(std::string_view method, std::string_view target,
                          std::string_view token = {}, std::string_view body = {})
    {
        namespace http = boost::beast::http;
        http::request<http::string_body> req;
        req.method_string(method);
        req.target(target);
        req.version(11);
        req.set(http::field::host, host_ + ":" + std::to_string(port_));
        req.set(http::field::user_agent, "DiscordBot (fake-discord-tests, 0.1)");
        if (!token.empty())
            req.set(http::field::authorization, "Bot " + std::string{token});
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");
            req.body() = std::string{body};
        }
        req.keep_alive(true);
        req.prepare_payload();
        connect();
        run([&](auto handler) { http::async_write(stream(), req, std::move(handler)); });
        return read_response();
    }

    /// Writes `bytes` as they are (malformed requests, pipelining), connecting first if needed.
    void write_raw(std::string_view bytes)
    {
        connect();
        run([&](auto handler) {
            boost::asio::async_write(stream(), boost::asio::buffer(bytes.data(), bytes.size()),
                                     std::move(handler));
        });
    }

    /// Reads one answer; closes the connection when it has no keep-alive.
    /// @throws boost::system::system_error on end of stream, an error or a timeout.
    http_response read_response()
    {
        namespace http = boost::beast::http;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        run([&](auto handler) { http::async_read(stream(), buffer_, parser, std::move(handler)); });
        http_response res = parser.release();
        if (!res.keep_alive())
            close();
        return res;
    }

    /// True when the server closed the connection (reading gets end of stream or a reset), false
    /// when it sent something; waits at most the timeout.
    bool peer_closed()
    {
        if (!stream_)
            return true;
        char byte = 0;
        boost::beast::error_code ec;
        std::size_t n = 0;
        stream_->expires_after(timeout_);
        stream_->async_read_some(boost::asio::buffer(&byte, 1),
                                 [&](boost::beast::error_code e, std::size_t bytes) {
                                     ec = e;
                                     n = bytes;
                                 });
        ioc_.restart();
        ioc_.run();
        if (n > 0)
            return false;
        close();
        return ec != boost::beast::error::timeout;
    }

    /// Closes the connection (the next request opens another).
    void close()
    {
        if (!stream_)
            return;
        boost::beast::error_code ignored;
        stream_->socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        stream_->socket().close(ignored);
        stream_.reset();
        buffer_.clear();
    }

    bool connected() const noexcept { return stream_.has_value(); }

    /// How many connections this client opened.
    std::size_t connections() const noexcept { return connections_; }

private:
    boost::beast::tcp_stream& stream() { return *stream_; }

    void connect()
    {
        if (stream_)
            return;
        stream_.emplace(ioc_);
        const boost::asio::ip::tcp::endpoint endpoint{boost::asio::ip::make_address(host_), port_};
        run([&](auto handler) { stream_->async_connect(endpoint, std::move(handler)); });
        ++connections_;
    }

    /// Starts one operation with a completion handler `void(error_code, ...)` and runs it to its
    /// end (or the timeout); throws on error, closing the connection.
    template <class Start>
    void run(Start&& start)
    {
        boost::beast::error_code ec;
        stream_->expires_after(timeout_);
        std::forward<Start>(start)([&](boost::beast::error_code e, auto&&...) { ec = e; });
        ioc_.restart();
        ioc_.run();
        if (ec) {
            close();
            throw boost::system::system_error{ec};
        }
    }

    boost::asio::io_context ioc_;
    std::optional<boost::beast::tcp_stream> stream_;
    boost::beast::flat_buffer buffer_;
    std::string host_;
    std::uint16_t port_;
    std::chrono::milliseconds timeout_;
    std::size_t connections_ = 0;
};

} // namespace fake_discord

#endif
