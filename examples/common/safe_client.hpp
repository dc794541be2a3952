// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// What every program of the project that talks to Discord does to keep the bot token safe, in one
// place: the token comes from the environment or a file, never from the command line; a token is
// sent in clear text only to this machine; a certificate must name the host in its subject
// alternative names. (OpenSSL for the last part: link OpenSSL::SSL.)
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace safe_client {

/// Why a token is never taken from the command line, for `--help` and the refusal.
inline constexpr std::string_view token_on_command_line =
    "--token is refused: every local user can read a program's command line (ps, "
    "/proc/PID/cmdline). Set DISCORD_TOKEN, or pass --token-file PATH (- for standard input).";

/// The longest token file (or line of standard input) read; a bot token is about 72 characters.
inline constexpr std::size_t max_token_size = 4096;

/// The bot token, or why there is none; never the token in the message.
struct token_result {
    std::string token;
    std::string error; ///< empty on success
};

/// Checks a token's form: not empty, no space or control character, no "Bot " prefix.
inline token_result checked_token(std::string token)
{
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
        token.pop_back();
    if (token.empty())
        return {{}, "the token is empty"};
    for (const char c : token) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= ' ' || byte == 0x7F)
            return {{}, "the token has spaces or control characters (give it without the \"Bot \" "
                        "prefix)"};
    }
    return {std::move(token), {}};
}

/// Reads the first line of `in`, at most `max_token_size` bytes.
inline token_result read_token_line(std::istream& in, std::string_view what)
{
    std::string line;
    char c = 0;
    while (in.get(c) && c != '\n') {
        if (line.size() == max_token_size)
            return {{}, std::string{what} + ": the first line is too long for a token"};
        line += c;
    }
    if (line.empty() && !in)
        return {{}, std::string{what} + ": no token in it"};
    return checked_token(std::move(line));
}

/// The token from `token_file` when given (`-`: the first line of standard input), else from the
/// environment variable DISCORD_TOKEN.
inline token_result bot_token(const std::string* token_file)
{
    if (token_file == nullptr) {
        const char* from_environment = std::getenv("DISCORD_TOKEN");
        if (from_environment == nullptr || *from_environment == '\0')
            return {{}, "no token: set DISCORD_TOKEN, or pass --token-file PATH (- for standard "
                        "input)"};
        return checked_token(from_environment);
    }
    if (*token_file == "-")
        return read_token_line(std::cin, "standard input");
    std::ifstream file{*token_file, std::ios::binary};
    if (!file)
        return {{}, "--token-file: cannot open the file"};
    return read_token_line(file, "--token-file");
}

/// True for a loopback address: 127.0.0.0/8, ::1 (and ::ffff:127.x). Never a name, not even
/// `localhost`: a name is looked up, and a resolver that does not read /etc/hosts for it (or a
/// hostile one, for `localhost.`) may answer with any address.
inline bool is_loopback(std::string_view host)
{
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string{host}, ec);
    if (ec)
        return false;
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
            .is_loopback();
    return address.is_loopback();
}

/// Why plain `http://` to `host` is refused, or empty when it is allowed: to a loopback address,
/// or when the user said `--insecure-http`.
inline std::string plain_http_refusal(std::string_view host, bool insecure_http_allowed)
{
    if (is_loopback(host) || insecure_http_allowed)
        return {};
    return "http:// to anything but a loopback address (127.0.0.1, [::1]) sends the bot token in "
           "clear text: use https://, or pass --insecure-http if you mean it";
}

/// Makes OpenSSL check, while it verifies the chain, that the server's certificate names `host`
/// in its subject alternative names: a DNS name (no partial wildcards) or, for an address, an IP
/// entry. Never the subject's common name, which browsers stopped reading long ago. Returns false
/// when OpenSSL refused the host (then do not connect).
inline bool require_host_in_subject_alt_names(X509_VERIFY_PARAM* param, const std::string& host)
{
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
                                               X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    boost::system::error_code not_an_address;
    boost::asio::ip::make_address(host, not_an_address);
    if (!not_an_address)
        return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
    return X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

/// Looks `host` up, giving up after `timeout` with `boost::asio::error::timed_out`. Asio looks
/// names up on a thread of its own, where a cancel cannot stop a lookup in progress: the timer
/// answers instead, and a late answer is dropped.
inline boost::asio::awaitable<
    std::pair<boost::system::error_code, boost::asio::ip::tcp::resolver::results_type>>
resolve_within(boost::asio::ip::tcp::resolver& resolver, const std::string& host,
               const std::string& port, std::chrono::steady_clock::duration timeout)
{
    using results_type = boost::asio::ip::tcp::resolver::results_type;
    struct lookup {
        lookup(const boost::asio::any_io_executor& ex, std::chrono::steady_clock::duration t)
            : timer{ex, t}
        {
        }
        boost::asio::steady_timer timer;
        bool done = false;
        boost::system::error_code ec = boost::asio::error::timed_out;
        results_type results;
    };
    const auto state = std::make_shared<lookup>(resolver.get_executor(), timeout);
    resolver.async_resolve(host, port,
                           [state](const boost::system::error_code& ec, results_type results) {
                               if (state->done)
                                   return;
                               state->done = true;
                               state->ec = ec;
                               state->results = std::move(results);
                               state->timer.cancel();
                           });
    boost::system::error_code ignored; // the timer's end, or its cancel by the answer
    co_await state->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable,
                                                                 ignored));
    state->done = true;
    co_return std::pair{state->ec, std::move(state->results)};
}

} // namespace safe_client
