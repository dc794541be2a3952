// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BEAST_HEADERS_HPP
#define DISCORD_RATELIMIT_BEAST_HEADERS_HPP

/// @file
/// Lets `parse_rate_limit_headers` read a Boost.Beast message directly:
/// `parse_rate_limit_headers(response)` for an `http::response<Body>`, an `http::header<false>` or
/// an `http::fields`. The only header of the library that includes Beast.

#include <discord_ratelimit/headers.hpp>

#include <boost/beast/http/fields.hpp>

#include <optional>
#include <string_view>

namespace discord_ratelimit {

namespace detail {

// Declared only: overload resolution on it detects a basic_fields base of any allocator.
template <class Allocator>
void as_beast_fields(const boost::beast::http::basic_fields<Allocator>&) noexcept;

template <class T>
concept beast_fields = requires(const T& message)
{
    detail::as_beast_fields(message);
};

} // namespace detail

/// Header lookup in `boost::beast::http::basic_fields<Allocator>` and every type derived from it
/// (`http::header`, `http::message`, so `http::response<Body>` and `http::request<Body>`). Beast
/// compares names without case; with repeated fields the first one inserted wins.
///
/// @par Thread Safety
/// Safe to call concurrently on one message as long as nobody modifies it.
template <class T>
requires detail::beast_fields<T>
struct header_traits<T> {
    static std::optional<std::string_view> find(const T& message, std::string_view name) noexcept
    {
        const auto field = message.find(boost::beast::string_view{name.data(), name.size()});
        if (field == message.end())
            return std::nullopt;
        const auto value = field->value();
        return std::string_view{value.data(), value.size()};
    }
};

} // namespace discord_ratelimit

#endif
