// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ASIO_SEND_ERROR_HPP
#define DISCORD_RATELIMIT_ASIO_SEND_ERROR_HPP

/// @file
/// What a send function's error says about the request: `not_sent(cause)` marks an attempt that
/// wrote no byte of the request (a failed connect, TLS handshake or wait for a pooled connection),
/// so that `async_send` may send a POST again; `is_certificate_rejection` recognizes a server
/// certificate that failed verification, which no retry can pass.
///
/// An error code alone cannot say whether a request was written: `host_unreachable` comes from a
/// `connect` that never reached the server, and also from an established connection whose
/// retransmissions of the written request timed out. Only the send function knows which step
/// failed, so it says so with `not_sent`.

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace discord_ratelimit {

namespace detail {

/// The category of `not_sent(cause)`: the cause's category, marked. The value stays the cause's,
/// its message gets a "not sent: " prefix, and it compares equal to the cause's conditions
/// (`not_sent(connection_refused) == errc::connection_refused`).
class not_sent_category final : public boost::system::error_category {
public:
    explicit not_sent_category(const boost::system::error_category& cause) noexcept
        : cause_{cause}
    {
    }

    const char* name() const noexcept override { return "discord_ratelimit.not_sent"; }

    std::string message(int value) const override { return "not sent: " + cause_.message(value); }

    boost::system::error_condition default_error_condition(int value) const noexcept override
    {
        return cause_.default_error_condition(value);
    }

    bool equivalent(int value,
                    const boost::system::error_condition& condition) const noexcept override
    {
        return cause_.equivalent(value, condition);
    }

    /// Always a failure, whatever the cause's value.
    bool failed(int /*value*/) const noexcept override { return true; }

    const boost::system::error_category& cause() const noexcept { return cause_; }

private:
    const boost::system::error_category& cause_;
};

/// The marked twin of `cause`: made on first use, one per cause category, kept for the life of the
/// program (an error code refers to its category for as long as it exists). Few categories ever
/// fail a connect: the search is linear, under a lock, on the error path only.
inline const not_sent_category& not_sent_category_for(const boost::system::error_category& cause)
{
    // Never destroyed: an error code in a static object may still name its twin at exit.
    static std::mutex& mutex = *new std::mutex;
    static auto& made = *new std::vector<std::unique_ptr<const not_sent_category>>;
    const std::lock_guard lock{mutex};
    for (const auto& c : made)
        if (c->cause() == cause)
            return *c;
    made.push_back(std::make_unique<const not_sent_category>(cause));
    return *made.back();
}

} // namespace detail

/// True when `ec` is `not_sent(cause)`: the attempt wrote nothing. A pure function: safe to call
/// concurrently (as are `not_sent_cause` and `is_certificate_rejection`).
inline bool is_not_sent(const boost::system::error_code& ec) noexcept
{
    return dynamic_cast<const detail::not_sent_category*>(&ec.category()) != nullptr;
}

/// The error a send function reports when its attempt wrote no byte of the request: the
/// connection could not be made (resolve, connect, TLS handshake), or the wait for a pooled
/// connection was aborted. `async_send` then reports `transport_error::connect_failed` to the
/// engine, which may send even a POST again. Never use it once any byte may have been written.
///
/// The result keeps the cause's value and conditions; `not_sent_cause` gives the cause back. A
/// cause that is already `not_sent`, or no error at all, is returned as it is.
///
/// @par Thread Safety
/// Safe to call concurrently.
inline boost::system::error_code not_sent(const boost::system::error_code& cause)
{
    if (!cause || is_not_sent(cause))
        return cause;
    return {cause.value(), detail::not_sent_category_for(cause.category())};
}

/// The cause that `not_sent` wrapped; any other code as it is.
inline boost::system::error_code not_sent_cause(const boost::system::error_code& ec) noexcept
{
    if (const auto* marked = dynamic_cast<const detail::not_sent_category*>(&ec.category()))
        return {ec.value(), marked->cause()};
    return ec;
}

/// True when `ec` (or the cause of a `not_sent` code) says that the server's TLS certificate failed
/// verification: an error of Boost.Asio's `asio.ssl` category whose OpenSSL reason is
/// `SSL_R_CERTIFICATE_VERIFY_FAILED` (an untrusted or expired certificate, or one for another host
/// name under `ssl::host_name_verification`).
///
/// OpenSSL's packed error code is decoded here with OpenSSL's published constants (library
/// `ERR_LIB_SSL` = 20, reason 134), in the packing of OpenSSL 3 and of 1.1, so that this header
/// needs neither OpenSSL's headers nor its libraries, and means the same in every translation unit.
inline bool is_certificate_rejection(const boost::system::error_code& ec) noexcept
{
    const auto cause = not_sent_cause(ec);
    // Compared by name: Asio's category object would pull OpenSSL's libraries into the link.
    if (!cause || std::strcmp(cause.category().name(), "asio.ssl") != 0)
        return false;
    // Asio stores `ERR_get_error()` cast to int: undo the cast before unpacking it.
    const auto packed = static_cast<std::uint32_t>(cause.value());
    constexpr std::uint32_t lib_ssl = 20;
    constexpr std::uint32_t certificate_verify_failed = 134;
    constexpr std::uint32_t system_flag = 0x8000'0000U; // OpenSSL 3: an errno, not a library error
    const bool openssl_3 = (packed & system_flag) == 0 && ((packed >> 23U) & 0xFFU) == lib_ssl &&
                           (packed & 0x7F'FFFFU) == certificate_verify_failed;
    const bool openssl_1_1 =
        (packed >> 24U) == lib_ssl && (packed & 0xFFFU) == certificate_verify_failed;
    return openssl_3 || openssl_1_1;
}

} // namespace discord_ratelimit

#endif
