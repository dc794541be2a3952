// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ASIO_BEAST_READ_HPP
#define DISCORD_RATELIMIT_ASIO_BEAST_READ_HPP

/// @file
/// `async_read_response`: reads the final HTTP response to a request with Boost.Beast, the way a
/// Discord client must on a network it does not trust. Unlike `http::async_read`:
/// - it skips interim responses (`100 Continue`, `103 Early Hints`...): the response whose
///   headers the limiter must see is the final one, and a POST answered `100` then `200` has
///   succeeded;
/// - it bounds what one response may make the reader hold: its header, its body, and the bytes
///   buffered but not yet parsed. Beast's parser bounds the header and the body, but not a chunk
///   line whose extension never ends nor the trailer after the last chunk: those grow the buffer
///   until memory runs out. Here they end the read with `http::error::buffer_overflow`.
///
/// A deadline is not its job: set one on the stream (`beast::tcp_stream::expires_after`).

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace discord_ratelimit {

/// How much one response may make `async_read_response` hold. Discord's largest answers (a page
/// of 1,000 guild members, 100 messages with embeds) are a few MiB at most.
struct response_limits {
    /// The status line and fields of each response, interim ones included
    /// (`http::error::header_limit`).
    std::uint32_t header = 16 * 1024;
    /// The body, after any chunked encoding is removed (`http::error::body_limit`).
    std::uint64_t body = 8 * 1024 * 1024;
    /// Bytes received but not yet parsed: a header in progress, a chunk-size line with its
    /// extensions, a trailer (`http::error::buffer_overflow`). The buffer never holds more.
    std::size_t buffered = 64 * 1024;
    /// Interim (1xx) responses skipped before the final one; more fail the read
    /// (`http::error::bad_status`).
    unsigned interim = 8;
};

namespace detail {

/// The state of one `async_read_response`.
template <class Stream, class DynamicBuffer, class Body, class Allocator>
class read_response_op : boost::asio::coroutine {
public:
    using message_type =
        boost::beast::http::response<Body, boost::beast::http::basic_fields<Allocator>>;
    using parser_type = boost::beast::http::response_parser<Body, Allocator>;

    read_response_op(Stream& stream, DynamicBuffer& buffer, message_type& response,
                     const response_limits& limits)
        : stream_{stream}
        , buffer_{buffer}
        , response_{response}
        , limits_{limits}
    {
    }

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t received = 0)
    {
        namespace http = boost::beast::http;
        BOOST_ASIO_CORO_REENTER(*this)
        {
            new_parser();
            for (;;) {
                // Parse what the buffer holds, as far as it goes.
                while (!ec && buffer_.size() != 0 && !parser_->is_done()) {
                    const auto used = parser_->put(buffer_.data(), ec);
                    buffer_.consume(used);
                    if (ec == http::error::need_more || (!ec && used == 0)) {
                        ec = {};
                        break; // the parser wants more bytes than the buffer has
                    }
                    if (!ec && parser_->is_done())
                        ec = final_or_next();
                    if (!ec && parser_->is_done())
                        break; // the final response
                }
                if (ec || parser_->is_done())
                    break;
                // Read more, never holding more than the bound of unparsed bytes. Asio's own
                // reads (and `http::async_read_some`) would keep reading while the parser
                // consumes nothing: an endless chunk line would fill memory.
                if (buffer_.size() >= limits_.buffered) {
                    ec = http::error::buffer_overflow;
                    break;
                }
                read_ = true;
                BOOST_ASIO_CORO_YIELD stream_.async_read_some(
                    buffer_.prepare(std::min<std::size_t>(limits_.buffered - buffer_.size(),
                                                          64 * 1024)),
                    std::move(self));
                buffer_.commit(received);
                if (ec == boost::asio::error::eof) {
                    // The end of the connection ends a body read until then; otherwise the
                    // response is cut short (`http::error::partial_message`).
                    ec = {};
                    parser_->put_eof(ec);
                    if (!ec && parser_->is_done())
                        ec = final_or_next();
                    if (!ec && !parser_->is_done())
                        ec = http::error::partial_message;
                    break;
                }
                if (ec)
                    break;
            }
            if (!ec)
                response_ = parser_->release();
            parser_.reset();
            if (!read_) {
                // Completed from the buffer alone: never call the handler from inside the
                // initiating function (a strand, a callback that starts the next read).
                BOOST_ASIO_CORO_YIELD boost::asio::post(
                    stream_.get_executor(), boost::asio::append(std::move(self), ec, 0));
            }
            self.complete(ec);
        }
    }

private:
    /// After a complete response: a final one stays in the parser; an interim one is skipped and
    /// a new parser waits for the next (an error past the bound of interim responses).
    boost::system::error_code final_or_next()
    {
        const unsigned status = parser_->get().result_int();
        if (status < 100 || status >= 200 || status == 101)
            return {};
        if (++interim_ > limits_.interim)
            return boost::beast::http::error::bad_status;
        new_parser(); // an interim response has no body
        return {};
    }

    void new_parser()
    {
        parser_ = std::make_unique<parser_type>();
        parser_->header_limit(limits_.header);
        parser_->body_limit(limits_.body);
    }

    Stream& stream_;
    DynamicBuffer& buffer_;
    message_type& response_;
    response_limits limits_;
    std::unique_ptr<parser_type> parser_; // a parser can be neither moved nor reused
    unsigned interim_ = 0;
    bool read_ = false; ///< an operation was started on the stream
};

} // namespace detail

/// Reads the final response to one request from `stream` into `response`, skipping interim
/// (1xx) responses other than `101 Switching Protocols`, within `limits`. Bytes after the
/// response stay in `buffer` (keep it for the next read of a kept-alive connection).
///
/// Completion signature: `void(boost::system::error_code)`. On error (Beast's parse and limit
/// errors, the stream's errors) `response` is left as it was and the connection's state is
/// unknown: close it.
///
/// @par Per-Operation Cancellation
/// What the stream's `async_read_some` supports (terminal, for Asio's sockets and Beast's
/// streams): the read in progress is cancelled and the operation completes with its error
/// (`operation_aborted`); the connection's state is then unknown.
///
/// @par Thread Safety
/// As the stream: one read at a time, on the stream's executor.
template <class AsyncReadStream, class DynamicBuffer, class Body, class Allocator,
          class CompletionToken>
auto async_read_response(
    AsyncReadStream& stream, DynamicBuffer& buffer,
    boost::beast::http::response<Body, boost::beast::http::basic_fields<Allocator>>& response,
    const response_limits& limits, CompletionToken&& token)
{
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code)>(
        detail::read_response_op<AsyncReadStream, DynamicBuffer, Body, Allocator>{
            stream, buffer, response, limits},
        token, stream);
}

/// `async_read_response` with the default `response_limits`.
template <class AsyncReadStream, class DynamicBuffer, class Body, class Allocator,
          class CompletionToken>
auto async_read_response(
    AsyncReadStream& stream, DynamicBuffer& buffer,
    boost::beast::http::response<Body, boost::beast::http::basic_fields<Allocator>>& response,
    CompletionToken&& token)
{
    return async_read_response(stream, buffer, response, response_limits{},
                               std::forward<CompletionToken>(token));
}

} // namespace discord_ratelimit

#endif
