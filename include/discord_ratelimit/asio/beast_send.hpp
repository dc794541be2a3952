// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ASIO_BEAST_SEND_HPP
#define DISCORD_RATELIMIT_ASIO_BEAST_SEND_HPP

/// @file
/// `async_send` with Boost.Beast: `response_traits` for `http::response<Body, Fields>` whose body
/// is text in one piece (`http::string_body`, `http::basic_string_body<...>`, or any body whose
/// value converts to `std::string_view`), so that `async_send<http::response<http::string_body>>`
/// reads Beast's responses with nothing more to write.

#include <discord_ratelimit/asio/send.hpp>
#include <discord_ratelimit/beast_headers.hpp>

#include <boost/beast/http/message.hpp>

#include <concepts>
#include <string_view>

namespace discord_ratelimit {

/// Reads a Beast response: its status, its fields (see `beast_headers.hpp`) and its body.
///
/// @par Thread Safety
/// Stateless.
template <class Body, class Fields>
requires std::convertible_to<const typename Body::value_type&, std::string_view>
struct response_traits<boost::beast::http::message<false, Body, Fields>> {
    using message_type = boost::beast::http::message<false, Body, Fields>;
    static int status(const message_type& r) noexcept { return static_cast<int>(r.result_int()); }
    static const message_type& headers(const message_type& r) noexcept { return r; }
    static std::string_view body(const message_type& r) noexcept { return r.body(); }
};

} // namespace discord_ratelimit

#endif
