// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// beast_send_messages: a C++20 coroutine sends messages to a Discord channel with Boost.Beast over
// one kept-alive connection (HTTPS, or plain HTTP for a local test server). Every request goes
// through `drl::async_send`, which waits as long as Discord's rate limits require and retries what
// may be retried: the bot never sees a 429 it could have avoided.
//
// usage: DISCORD_TOKEN=... beast_send_messages [--count N] API_BASE CHANNEL_ID
//        beast_send_messages --token-file PATH [--count N] API_BASE CHANNEL_ID
//        (API_BASE like https://discord.com/api; http:// only to this machine, unless
//        --insecure-http; the token never on the command line, where any local user reads it)
#include "common/safe_client.hpp" // the token, http:// and certificate rules of every example

#include <discord_ratelimit/asio/beast_read.hpp> // the final response, within bounds
#include <discord_ratelimit/asio/beast_send.hpp> // async_send, reading Beast's responses as they are

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <sys/socket.h> // recv, to see whether the server closed the idle connection

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace drl = discord_ratelimit;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using namespace std::chrono_literals;

using beast_request = http::request<http::string_body>;
using beast_response = http::response<http::string_body>;

struct api_url {
    bool tls = true;
    std::string host, port, authority, path; // "discord.com", "443", "discord.com", "/api"
};

std::optional<api_url> parse_url(std::string_view url)
{
    api_url u;
    if (url.starts_with("https://"))
        url.remove_prefix(8);
    else if (url.starts_with("http://"))
        u.tls = false, url.remove_prefix(7);
    else
        return std::nullopt;
    const auto slash = url.find('/');
    u.authority = url.substr(0, slash);
    u.path = slash == url.npos ? "" : url.substr(slash);
    while (u.path.ends_with('/'))
        u.path.pop_back();
    // An IPv6 address is in brackets, "[::1]:8080": its colons are not the port's.
    const auto host_end = u.authority.starts_with('[') ? u.authority.find(']') + 1 : 0;
    const auto colon = u.authority.find(':', host_end);
    u.host = u.authority.substr(0, colon);
    if (u.host.starts_with('[') && u.host.ends_with(']'))
        u.host = u.host.substr(1, u.host.size() - 2);
    u.port = colon != std::string::npos ? u.authority.substr(colon + 1) : u.tls ? "443" : "80";
    return u.host.empty() ? std::nullopt : std::optional{u};
}

// One kept-alive connection, plain TCP or TLS, opened again whenever the server closed it.
class connection {
public:
    using result = std::tuple<beast::error_code, beast_response>;

    connection(asio::any_io_executor ex, api_url url)
        : ex_{ex}
        , url_{std::move(url)}
    {
        tls_.set_default_verify_paths(); // the system's CA certificates
        tls_.set_verify_mode(ssl::verify_peer);
    }

    // One HTTP exchange: an error code, or the response. Network errors are returned, not thrown,
    // and never retried here: `async_send` decides (it never resends a POST that may have arrived,
    // and resends one whose connection failed: `connect` marks those errors `not_sent`).
    asio::awaitable<result> exchange(beast_request req)
    {
        if (stream_ && peer_closed())
            stream_.reset(); // reconnect rather than write into a connection the server closed
        auto ec = stream_ ? beast::error_code{} : co_await connect();
        beast_response res;
        if (!ec) {
            tcp().expires_after(30s); // a deadline that passes fails with beast::error::timeout
            std::tie(ec, std::ignore) = co_await std::visit(
                [&](auto& s) { return http::async_write(s, req, use_tuple); }, *stream_);
        }
        // discord-ratelimit: reads the final response (past any "100 Continue"), within bounds
        // (16 KiB of header, 8 MiB of body): a hostile server cannot fill the memory.
        if (!ec)
            std::tie(ec) = co_await std::visit(
                [&](auto& s) { return drl::async_read_response(s, buffer_, res, use_tuple); },
                *stream_);
        if (ec || !res.keep_alive())
            stream_.reset(); // closes the socket; the next request connects again
        co_return result{ec, std::move(res)};
    }

    // The same, completing a handler with (error_code, response): what `async_send` expects.
    template <class Handler>
    void async_exchange(beast_request req, Handler handler)
    {
        asio::co_spawn(ex_, exchange(std::move(req)),
                       [h = std::move(handler)](std::exception_ptr e, result r) mutable {
                           if (e)
                               std::rethrow_exception(e);
                           std::apply(std::move(h), std::move(r));
                       });
    }

private:
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;
    static constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable); // errors as values

    // True when the server closed the idle connection, or sent something unasked (leftover
    // bytes, a TLS close_notify): it must not carry a request. The peek reads nothing.
    bool peer_closed()
    {
        auto* s = std::get_if<tls_stream>(&*stream_);
        SSL* const ssl = s ? s->native_handle() : nullptr; // TLS records read, not yet used
        if (buffer_.size() != 0 ||
            (ssl && (SSL_has_pending(ssl) == 1 || BIO_pending(SSL_get_rbio(ssl)) > 0)))
            return true;
        char byte = 0;
        const auto n = ::recv(tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK); // 0: closed; > 0: unasked
    }

    beast::tcp_stream& tcp()
    {
        return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                          *stream_);
    }

    asio::awaitable<beast::error_code> connect()
    {
        asio::ip::tcp::resolver resolver{ex_};
        auto [ec, endpoints] = co_await safe_client::resolve_within(resolver, url_.host, url_.port,
                                                                    30s);
        if (ec)
            co_return drl::not_sent(ec);
        buffer_.clear();
        if (url_.tls)
            stream_.emplace(std::in_place_type<tls_stream>, ex_, tls_);
        else
            stream_.emplace(std::in_place_type<beast::tcp_stream>, ex_);
        tcp().expires_after(30s);
        std::tie(ec, std::ignore) = co_await tcp().async_connect(endpoints, use_tuple);
        if (auto* s = std::get_if<tls_stream>(&*stream_); s && !ec) {
            // The certificate must name the host in its subject alternative names (never only in
            // its common name); send the name (SNI) unless it is an address.
            if (!safe_client::require_host_in_subject_alt_names(SSL_get0_param(s->native_handle()),
                                                                url_.host))
                ec = asio::error::invalid_argument;
            beast::error_code not_an_address;
            asio::ip::make_address(url_.host, not_an_address);
            if (not_an_address)
                SSL_set_tlsext_host_name(s->native_handle(), url_.host.c_str());
            if (!ec)
                std::tie(ec) = co_await s->async_handshake(ssl::stream_base::client, use_tuple);
        }
        if (ec)
            stream_.reset();
        // Before the request: whatever failed here, nothing of it was written.
        co_return ec ? drl::not_sent(ec) : ec;
    }

    asio::any_io_executor ex_;
    api_url url_;
    ssl::context tls_{ssl::context::tls_client};
    std::optional<std::variant<beast::tcp_stream, tls_stream>> stream_; // empty: not connected
    beast::flat_buffer buffer_;
};

// Failures that every later message would repeat: stop instead of adding invalid requests.
bool dooms_the_rest(beast::error_code ec)
{
    return ec == drl::error::unauthorized || ec == drl::error::banned ||
           ec == drl::error::invalid_request_limit || ec == drl::error::retries_exhausted ||
           ec == drl::error::certificate_rejected;
}

asio::awaitable<int> send_messages(api_url url, std::string token, std::string channel,
                                   drl::route route, int count)
{
    const auto ex = co_await asio::this_coro::executor;
    connection conn{ex, url};

    drl::rate_limiter limiter{ex}; // discord-ratelimit: one limiter per bot token

    int sent = 0, ok = 0;
    for (int i = 1; i <= count; ++i) {
        beast_request req{http::verb::post, url.path + "/v10/channels/" + channel + "/messages",
                          11};
        req.set(http::field::host, url.authority);
        req.set(http::field::authorization, "Bot " + token);
        req.set(http::field::user_agent, "DiscordBot (discord-ratelimit, 0.1)");
        req.set(http::field::content_type, "application/json");
        req.body() = R"({"content":"message )" + std::to_string(i) + " of " +
                     std::to_string(count) + R"("})";
        req.prepare_payload();

        // discord-ratelimit: `async_send` waits until the rate limits let the request go, runs
        // one HTTP attempt, learns from the response, and retries when Discord's answer says so.
        ++sent;
        auto [ec, res] = co_await drl::async_send<beast_response>(
            limiter, route, [&](auto handler) { conn.async_exchange(req, std::move(handler)); },
            asio::as_tuple(asio::use_awaitable));

        if (!ec) {
            ++ok;
            std::printf("message %d of %d: %u\n", i, count, res.result_int());
        } else {
            std::printf("message %d of %d: failed: %s\n", i, count, ec.message().c_str());
            if (dooms_the_rest(ec)) {
                std::printf("stopping: the other messages would fail the same way\n");
                break;
            }
        }
    }
    std::printf("sent %d, ok %d, failed %d\n", sent, ok, sent - ok);
    co_return ok == count ? 0 : 1;
}

int main(int argc, char** argv)
{
    int count = 10;
    bool insecure_http = false;
    std::optional<std::string> token_file;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--token" || arg.starts_with("--token=")) {
            std::fprintf(stderr, "%s\n", safe_client::token_on_command_line.data());
            return 2;
        } else if (arg == "--token-file" && i + 1 < argc) {
            token_file = argv[++i];
        } else if (arg == "--insecure-http") {
            insecure_http = true;
        } else if (arg == "--count" && i + 1 < argc) {
            const std::string_view n = argv[++i];
            if (std::from_chars(n.data(), n.data() + n.size(), count).ptr != n.data() + n.size())
                count = 0;
        } else {
            positional.emplace_back(arg);
        }
    }
    std::optional<api_url> url;
    drl::route_result route; // discord-ratelimit: the bucket key and major parameter (the channel)
    if (positional.size() == 2) {
        url = parse_url(positional[0]);
        route = drl::parse_route("POST", "/channels/" + positional[1] + "/messages");
    }
    if (!url || !route || count < 1) {
        std::fprintf(stderr, "usage: beast_send_messages [--token-file PATH] [--count N] "
                             "[--insecure-http] API_BASE CHANNEL_ID\n  API_BASE like "
                             "https://discord.com/api; the token comes from DISCORD_TOKEN or "
                             "--token-file (- for standard input)\n");
        return 2;
    }
    if (const auto refusal = safe_client::plain_http_refusal(url->host, insecure_http);
        !url->tls && !refusal.empty()) {
        std::fprintf(stderr, "%s\n", refusal.c_str());
        return 2;
    }
    const auto token = safe_client::bot_token(token_file ? &*token_file : nullptr);
    if (!token.error.empty()) {
        std::fprintf(stderr, "%s\n", token.error.c_str());
        return 2;
    }

    asio::io_context ctx;
    int status = 1;
    asio::co_spawn(ctx, send_messages(*url, token.token, positional[1], route.value, count),
                   [&](std::exception_ptr e, int rc) {
                       if (e)
                           std::rethrow_exception(e);
                       status = rc;
                   });
    try {
        ctx.run();
    } catch (const std::exception& e) { // out of memory, or a bug: fail, never abort
        std::fprintf(stderr, "beast_send_messages: %s\n", e.what());
        return 1;
    }
    return status;
}
