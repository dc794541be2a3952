// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// discord-bulk: sends the Discord API requests read from standard input, one a line, as fast as
// Discord's rate limits allow, over a small pool of keep-alive HTTP/1.1 or HTTPS connections, and
// ends with a one-line JSON summary.
//
//     discord-bulk [--token TOKEN] [--connections N] API_BASE <requests.txt
//
// Every request is submitted at once, each through discord_ratelimit::async_send: one rate_limiter
// decides which goes when and which to send again.

#include <discord_ratelimit/asio/beast_send.hpp>
#include <discord_ratelimit/detail/json_scanner.hpp>
#include <discord_ratelimit/route.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <deque>
#include <exception>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace drl = discord_ratelimit;

using request_message = http::request<http::string_body>;
using response_message = http::response<http::string_body>; // a header source: beast_headers.hpp

namespace {

constexpr std::string_view user_agent = "DiscordBot (https://github.com/discord-ratelimit, 0.1)";
constexpr std::string_view api_version_path = "/v10";
constexpr std::size_t default_connections = 8;
constexpr std::size_t max_connections = 256;
/// How long a connect (with its TLS handshake) or one request's write and read may take.
constexpr auto io_timeout = std::chrono::seconds{30};
/// A connection idle for longer is reopened rather than reused, even if it looks open: a request
/// written into a connection the server has dropped fails as one that may have arrived, which the
/// library never resends for a POST. (One the server visibly closed is never reused: see
/// `connection::peer_closed`.)
constexpr auto max_idle = std::chrono::seconds{30};

constexpr std::string_view usage = R"(usage: discord-bulk [--token TOKEN] [--connections N] API_BASE

Sends the Discord API requests read from standard input, one a line, within Discord's rate limits:
    METHOD PATH [JSON-BODY]        e.g.  POST /channels/123/messages {"content":"hi"}
PATH is relative to API_BASE/v10. Blank lines and lines starting with '#' are ignored.
The last line on standard output is a JSON summary; failures are listed on standard error.

  --token TOKEN      the bot token (default: the environment variable DISCORD_TOKEN)
  --connections N    keep-alive connections at most, 1 to 256 (default 8)
  API_BASE           the API root without version, e.g. https://discord.com/api

Exit status: 0 when every request succeeded, 1 otherwise, 2 on bad usage.
)";

/// A number made of digits only, or nothing.
std::optional<std::size_t> parse_number(std::string_view text)
{
    std::size_t value = 0;
    const char* const end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || stop != end)
        return std::nullopt;
    return value;
}

/// True when `text` has a space or a control character.
bool has_space_or_control(std::string_view text)
{
    return std::ranges::any_of(text, [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte <= ' ' || byte == 0x7F;
    });
}

// ---- The API base URL ---------------------------------------------------------------------------

/// Where the API is: what connections dial and what requests carry.
struct api_endpoint {
    bool tls = false;
    std::string host;        ///< for the name lookup, SNI and the certificate check
    std::string port;        ///< digits, as the resolver takes them
    std::string host_header; ///< `host[:port]`, an IPv6 address in brackets
    std::string root;        ///< what every request path is appended to, e.g. "/api/v10"
};

/// Parses `http[s]://HOST[:PORT][/PATH]`. On failure, a reason that does not repeat the input.
std::variant<api_endpoint, std::string_view> parse_api_base(std::string_view url)
{
    api_endpoint api;
    const auto scheme_end = url.find("://");
    if (scheme_end == url.npos)
        return "expected http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH";
    const auto scheme = url.substr(0, scheme_end);
    api.tls = beast::iequals(scheme, "https");
    if (!api.tls && !beast::iequals(scheme, "http"))
        return "the scheme must be http or https";
    url.remove_prefix(scheme_end + 3);

    const auto authority = url.substr(0, url.find('/'));
    std::string_view path = url.substr(authority.size());
    const bool bracketed = authority.starts_with('['); // an IPv6 address
    const auto host_end = bracketed ? authority.find(']') : authority.find(':');
    if (bracketed && host_end == authority.npos)
        return "an IPv6 address needs its closing ']'";
    const auto host_part = authority.substr(0, bracketed ? host_end + 1 : host_end);
    const auto host = bracketed ? host_part.substr(1, host_part.size() - 2) : host_part;
    const auto allowed = bracketed ? std::string_view{"0123456789abcdefABCDEF:."}
                                   : std::string_view{"abcdefghijklmnopqrstuvwxyz"
                                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"};
    if (host.empty() || host.find_first_not_of(allowed) != host.npos)
        return "the host must be a name, an IPv4 address or an IPv6 address in brackets";

    const auto port_part = authority.substr(host_part.size());
    const auto default_port = api.tls ? std::string_view{"443"} : std::string_view{"80"};
    api.port = default_port;
    if (!port_part.empty()) {
        const auto port = parse_number(port_part.substr(1));
        if (!port_part.starts_with(':') || !port || *port == 0 || *port > 65535)
            return "the port must be a number from 1 to 65535";
        api.port = std::to_string(*port);
    }

    if (path.find_first_of("?#") != path.npos || has_space_or_control(path))
        return "the path must have no query, fragment, spaces or control characters";
    while (path.ends_with('/'))
        path.remove_suffix(1);
    const auto last_segment = path.substr(path.rfind('/') + 1); // npos + 1: the whole path
    if (last_segment.starts_with('v') && parse_number(last_segment.substr(1)))
        return "leave the API version out: /v10 is appended";

    api.host = host;
    api.host_header = host_part;
    if (api.port != default_port)
        api.host_header += ':' + api.port;
    api.root = std::string{path} + std::string{api_version_path};
    return api;
}

// ---- The command line ---------------------------------------------------------------------------

struct arguments {
    std::string token;
    std::size_t connections = default_connections;
    api_endpoint api;
    bool help = false;
};

/// The arguments, or why they are bad usage. Messages name arguments by position and never
/// repeat them: a mistyped option may hold the token.
std::variant<arguments, std::string> parse_arguments(int argc, char** argv)
{
    arguments args;
    std::optional<std::string> token;
    std::optional<std::string_view> api_base;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const std::string where = "argument " + std::to_string(i) + ": ";
        if (arg == "-h" || arg == "--help") {
            args.help = true;
            return args;
        }
        if (arg == "--token" || arg == "--connections") {
            if (i + 1 == argc)
                return where + std::string{arg} + " needs a value";
            const std::string_view value = argv[++i];
            if (arg == "--token") {
                token = value;
                continue;
            }
            const auto n = parse_number(value);
            if (!n || *n < 1 || *n > max_connections)
                return where + "--connections takes a number from 1 to 256";
            args.connections = *n;
        } else if (arg.starts_with('-')) {
            return where + "unknown option";
        } else if (api_base) {
            return where + "unexpected: API_BASE was given before";
        } else {
            api_base = arg;
        }
    }
    if (!api_base)
        return "missing API_BASE";
    const auto api = parse_api_base(*api_base);
    if (const auto* problem = std::get_if<std::string_view>(&api))
        return "API_BASE: " + std::string{*problem};
    args.api = std::get<api_endpoint>(api);

    if (!token)
        if (const char* from_environment = std::getenv("DISCORD_TOKEN"))
            token = from_environment;
    if (!token || token->empty())
        return "no token: pass --token TOKEN or set DISCORD_TOKEN";
    if (has_space_or_control(*token))
        return "the token has spaces or control characters (give it without the \"Bot \" prefix)";
    args.token = std::move(*token);
    return args;
}

// ---- The input ----------------------------------------------------------------------------------

/// How the latest attempt of a request ended: a transport error, or a response's status.
struct attempt {
    boost::system::error_code transport;
    unsigned status = 0; ///< 0: no response
};

/// One request of the input, ready to submit.
struct request_line {
    std::size_t number = 0; ///< the line number, for reports
    std::string method;
    std::string path;
    drl::route route;
    request_message message; ///< what every attempt sends
    attempt last;
};

/// Removes spaces and tabs at both ends.
std::string_view trim(std::string_view text)
{
    const auto begin = text.find_first_not_of(" \t");
    if (begin == text.npos)
        return {};
    return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

/// Splits the first word off `text`.
std::string_view next_word(std::string_view& text)
{
    const auto word = text.substr(0, text.find_first_of(" \t"));
    text = trim(text.substr(word.size()));
    return word;
}

/// Parses `METHOD PATH [JSON-BODY]` into a request; on failure, why the line is malformed.
std::variant<request_line, std::string_view>
parse_request(std::string_view line, const api_endpoint& api, const std::string& authorization)
{
    const auto method = drl::parse_http_method(next_word(line));
    if (!method)
        return "unknown method: expected GET, POST, PUT, PATCH or DELETE";
    const auto path = next_word(line);
    if (!path.starts_with('/'))
        return "expected METHOD PATH [JSON-BODY], with PATH starting with '/'";
    if (path == "/api" || path.starts_with("/api/"))
        return "PATH is relative to API_BASE/v10: leave /api/vN out";
    std::string body{line};
    // The library's own validating JSON scanner: false unless the text is exactly one JSON value.
    if (!body.empty() && !drl::detail::json_scan(body, [](std::string_view, const auto&) {}))
        return "the body is not valid JSON";
    if (!body.empty() && !body.starts_with('{') && !body.starts_with('['))
        return "the body must be JSON: an object or an array";
    drl::route_options options;
    options.now = std::chrono::system_clock::now(); // message deletes are limited by message age
    // Renaming a channel (or changing its topic) has a hidden limit of 2 per 10 minutes.
    options.edits_channel_name_or_topic = drl::body_edits_channel_name_or_topic(body);
    const auto route = drl::parse_route(*method, path, options);
    if (!route)
        return route.reason;
    if (body.empty() && (*method == drl::http_method::post || *method == drl::http_method::patch))
        body = "{}"; // Discord reads the body of every POST and PATCH as JSON

    request_line request;
    request.method = drl::to_string(*method);
    request.path = path;
    request.route = route.value;
    auto& message = request.message;
    message.method(http::string_to_verb(request.method));
    message.target(api.root + request.path);
    message.set(http::field::host, api.host_header);
    message.set(http::field::user_agent, user_agent);
    message.set(http::field::authorization, authorization);
    if (!body.empty())
        message.set(http::field::content_type, "application/json");
    message.body() = std::move(body);
    message.prepare_payload(); // Content-Length, also 0 for a bodiless PUT, as Discord wants
    return request;
}

/// Reads every request of `in`. Reports malformed lines on stderr and counts them.
std::vector<request_line> read_requests(std::istream& in, const api_endpoint& api,
                                        const std::string& authorization, std::size_t& malformed)
{
    std::vector<request_line> requests;
    std::string text;
    for (std::size_t number = 1; std::getline(in, text); ++number) {
        const auto line = trim(std::string_view{text}.substr(0, text.find_last_not_of('\r') + 1));
        if (line.empty() || line.starts_with('#'))
            continue;
        auto parsed = parse_request(line, api, authorization);
        if (auto* request = std::get_if<request_line>(&parsed)) {
            request->number = number;
            requests.push_back(std::move(*request));
        } else {
            std::cerr << "line " << number << ": skipped: " << std::get<std::string_view>(parsed)
                      << '\n';
            ++malformed;
        }
    }
    return requests;
}

// ---- Connections --------------------------------------------------------------------------------

/// An attempt's transport error, or its response. An attempt that wrote no byte of its request
/// (the connection could not be opened, or the pool stopped before it got one) says so with
/// `drl::not_sent`: the library may send it again, even a POST. (A failed write may have sent
/// part of it: Asio's TLS stream reports 0 bytes written after any error.)
struct exchange_result {
    boost::system::error_code error;
    response_message response;
};

/// Writes `request` and reads its response, within `io_timeout`.
template <class Stream>
asio::awaitable<exchange_result> round_trip(Stream& stream, beast::flat_buffer& buffer,
                                            const request_message& request)
{
    exchange_result result;
    beast::get_lowest_layer(stream).expires_after(io_timeout);
    co_await http::async_write(stream, request,
                               asio::redirect_error(asio::use_awaitable, result.error));
    if (!result.error)
        co_await http::async_read(stream, buffer, result.response,
                                  asio::redirect_error(asio::use_awaitable, result.error));
    co_return result;
}

/// One keep-alive connection to the API host, over TCP or TLS, carrying one request at a time.
/// It is opened on first use, and opened again after an error or a `Connection: close` dropped it.
class connection {
public:
    connection(const asio::any_io_executor& ex, const api_endpoint& api, ssl::context* tls)
        : api_{api}
        , tls_context_{tls}
        , resolver_{ex}
    {
    }

    /// Sends `request`, opening the connection first if needed, and reads the response.
    asio::awaitable<exchange_result> exchange(const request_message& request)
    {
        exchange_result result;
        if (is_open() &&
            (std::chrono::steady_clock::now() - idle_since_ > max_idle || peer_closed()))
            close();
        if (!is_open())
            if (const auto failed = co_await open())
                result.error = drl::not_sent(failed); // before the request: nothing written
        if (!result.error) {
            if (auto* tls = std::get_if<tls_stream>(&stream_))
                result = co_await round_trip(*tls, buffer_, request);
            else
                result = co_await round_trip(std::get<plain_stream>(stream_), buffer_, request);
        }
        // After an error the connection's state is unknown: start afresh next time.
        if (result.error || !result.response.keep_alive())
            close();
        idle_since_ = std::chrono::steady_clock::now();
        co_return result;
    }

    bool is_open() noexcept { return tcp() != nullptr && tcp()->socket().is_open(); }

    /// Closes the connection; an operation in progress ends with `operation_aborted`. No TLS
    /// close_notify: the server loses nothing without it, and waiting for its answer would slow
    /// every drop.
    void close()
    {
        resolver_.cancel();
        if (auto* stream = tcp())
            stream->close();
    }

private:
    using plain_stream = beast::tcp_stream;
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;

    /// True when the idle connection must not carry a request: the server closed or reset it, or
    /// sent something unasked (a TLS close_notify, leftover bytes). A non-blocking peek reads
    /// nothing: asking costs no duplicate, whereas writing into it would fail the request as one
    /// that may have arrived.
    bool peer_closed()
    {
        if (buffer_.size() != 0)
            return true;
        if (auto* tls = std::get_if<tls_stream>(&stream_)) {
            SSL* const ssl = tls->native_handle(); // records read from the socket, not yet used
            if (SSL_has_pending(ssl) == 1 || BIO_pending(SSL_get_rbio(ssl)) > 0)
                return true;
        }
        char byte = 0;
        const auto n = ::recv(tcp()->socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0)
            return true; // bytes on an idle connection (for TLS, likely a close_notify)
        if (n == 0)
            return true;                                // the server closed it
        return errno != EAGAIN && errno != EWOULDBLOCK; // EAGAIN: open, nothing to read
    }

    asio::awaitable<boost::system::error_code> open()
    {
        boost::system::error_code ec;
        const auto endpoints = co_await resolver_.async_resolve(
            api_.host, api_.port, asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return ec;
        // A TLS stream cannot be reused after an error: every open starts a new one.
        if (tls_context_ != nullptr)
            stream_.emplace<tls_stream>(resolver_.get_executor(), *tls_context_);
        else
            stream_.emplace<plain_stream>(resolver_.get_executor());
        buffer_.clear();
        tcp()->expires_after(io_timeout);
        co_await tcp()->async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
        auto* tls = std::get_if<tls_stream>(&stream_);
        if (ec || tls == nullptr)
            co_return ec;

        boost::system::error_code not_an_address;
        asio::ip::make_address(api_.host, not_an_address);
        // SNI carries host names only, never addresses.
        if (not_an_address &&
            SSL_set_tlsext_host_name(tls->native_handle(), api_.host.c_str()) != 1)
            co_return boost::system::error_code{static_cast<int>(::ERR_get_error()),
                                                asio::error::get_ssl_category()};
        tls->set_verify_callback(ssl::host_name_verification{api_.host});
        co_await tls->async_handshake(ssl::stream_base::client,
                                      asio::redirect_error(asio::use_awaitable, ec));
        co_return ec;
    }

    /// The TCP layer, or nullptr before the first open.
    beast::tcp_stream* tcp() noexcept
    {
        if (auto* tls = std::get_if<tls_stream>(&stream_))
            return &tls->next_layer();
        return std::get_if<plain_stream>(&stream_);
    }

    const api_endpoint& api_;
    ssl::context* tls_context_; ///< nullptr for plain HTTP
    asio::ip::tcp::resolver resolver_;
    std::variant<std::monostate, plain_stream, tls_stream> stream_;
    beast::flat_buffer buffer_;
    std::chrono::steady_clock::time_point idle_since_;
};

/// At most N connections, each opened when first needed. A request takes a free connection, an
/// open one first so that few are opened, or waits for one, first come first served.
class connection_pool {
public:
    connection_pool(const asio::any_io_executor& ex, const api_endpoint& api, ssl::context* tls,
                    std::size_t size)
        : executor_{ex}
    {
        for (std::size_t i = 0; i < size; ++i) {
            connections_.push_back(std::make_unique<connection>(ex, api, tls));
            free_.push_back(connections_.back().get());
        }
    }

    const asio::any_io_executor& get_executor() const noexcept { return executor_; }

    /// One attempt: sends `request` on a pooled connection and reads its response.
    asio::awaitable<exchange_result> exchange(request_message request);

    /// Hands out no connection any more: the requests waiting for one end unsent
    /// (`not_sent(operation_aborted)`), and so do later ones. Requests on the wire finish.
    void stop()
    {
        stopped_ = true;
        for (auto& waiter : waiting_)
            hand_over(std::move(waiter), asio::error::operation_aborted, nullptr);
        waiting_.clear();
    }

    /// Stops, and closes every connection, aborting their requests.
    void close()
    {
        stop();
        for (const auto& c : connections_)
            c->close();
    }

private:
    using take_signature = void(boost::system::error_code, connection*);
    using take_handler = asio::any_completion_handler<take_signature>;

    template <class CompletionToken>
    auto async_take(CompletionToken&& token)
    {
        return asio::async_initiate<CompletionToken, take_signature>(
            [this](take_handler handler) {
                if (stopped_) {
                    hand_over(std::move(handler), asio::error::operation_aborted, nullptr);
                } else if (free_.empty()) {
                    waiting_.push_back(std::move(handler));
                } else {
                    hand_over(std::move(handler), {}, free_.back());
                    free_.pop_back();
                }
            },
            token);
    }

    void give_back(connection& c)
    {
        if (stopped_)
            return;
        if (!waiting_.empty()) {
            hand_over(std::move(waiting_.front()), {}, &c);
            waiting_.pop_front();
        } else if (c.is_open()) {
            free_.push_back(&c);
        } else {
            free_.push_front(&c);
        }
    }

    /// Completes a take, never inline: its caller may not be ready for it yet.
    void hand_over(take_handler handler, boost::system::error_code ec, connection* c)
    {
        asio::post(executor_, asio::append(std::move(handler), ec, c));
    }

    asio::any_io_executor executor_;
    std::vector<std::unique_ptr<connection>> connections_;
    std::deque<connection*> free_; ///< open connections at the back, unopened ones at the front
    std::deque<take_handler> waiting_;
    bool stopped_ = false;
};

// Defined here, after async_take, whose return type it needs.
asio::awaitable<exchange_result> connection_pool::exchange(request_message request)
{
    exchange_result result;
    connection* taken =
        co_await async_take(asio::redirect_error(asio::use_awaitable, result.error));
    // A connection handed over (posted) just before the pool stopped is not used either.
    if (!result.error && stopped_)
        result.error = asio::error::operation_aborted;
    if (result.error) {
        result.error = drl::not_sent(result.error);
        co_return result;
    }
    result = co_await taken->exchange(request);
    give_back(*taken);
    co_return result;
}

// ---- Sending ------------------------------------------------------------------------------------

struct summary {
    std::size_t sent = 0;
    std::size_t ok = 0;
    std::size_t failed = 0;
    std::size_t retried_429 = 0;
    double elapsed_s = 0;
};

/// The last line of the output.
void print_summary(const summary& s)
{
    std::cout << "{\"sent\": " << s.sent << ", \"ok\": " << s.ok << ", \"failed\": " << s.failed
              << ", \"retried_429\": " << s.retried_429 << ", \"elapsed_s\": " << std::fixed
              << std::setprecision(3) << s.elapsed_s << "}\n";
}

/// Why a request failed, for its line on stderr: `reason`, then how its last attempt ended.
std::string failure_reason(std::string reason, const attempt& last)
{
    if (last.transport)
        reason += " (last attempt: " + last.transport.message() + ")";
    if (last.status != 0)
        reason += " (HTTP " + std::to_string(last.status) + ")";
    return reason;
}

/// Submits every request at once, each through `drl::async_send`, and counts how they end: the
/// limiter lets each attempt go, an attempt runs on a pooled connection, and the limiter decides
/// from its outcome whether the request is done, sent again or failed. The first SIGINT or SIGTERM
/// stops both (requests waiting for a permit or for a connection fail unsent, those on the wire
/// finish); a second one aborts those too.
class bulk_sender {
public:
    bulk_sender(drl::rate_limiter& limiter, connection_pool& pool)
        : limiter_{limiter}
        , pool_{pool}
        , signals_{limiter.get_executor(), SIGINT, SIGTERM}
    {
    }

    void start(std::vector<request_line>& requests)
    {
        summary_.sent = requests.size();
        outstanding_ = requests.size();
        started_ = std::chrono::steady_clock::now();
        if (requests.empty())
            return all_ended();
        wait_for_signal();
        for (auto& request : requests)
            drl::async_send<response_message>(
                limiter_, request.route,
                [this, &request](auto handler) { send_attempt(request, std::move(handler)); },
                [this, &request](const boost::system::error_code& ec, response_message res) {
                    request_ended(request, ec, res);
                });
    }

    const summary& result() const noexcept { return summary_; }
    bool interrupted() const noexcept { return interrupted_; }

private:
    /// One attempt, once the limiter lets the request go: `handler` gets its outcome.
    template <class Handler>
    void send_attempt(request_line& request, Handler handler)
    {
        // The library sends again after a 429 only when it retries it.
        if (request.last.status == 429)
            ++summary_.retried_429;
        asio::co_spawn(pool_.get_executor(), pool_.exchange(request.message),
                       [&request, handler = std::move(handler)](std::exception_ptr failure,
                                                                exchange_result r) mutable {
                           if (failure) // a bug or no memory left: let it end io_context::run
                               std::rethrow_exception(failure);
                           // One the pool stopped before it had a connection never began.
                           if (!drl::is_not_sent(r.error) ||
                               drl::not_sent_cause(r.error) != asio::error::operation_aborted)
                               request.last = {r.error, r.error ? 0U : r.response.result_int()};
                           std::move(handler)(r.error, std::move(r.response));
                       });
    }

    /// How `async_send` ended the request.
    void request_ended(const request_line& request, const boost::system::error_code& ec,
                       const response_message& res)
    {
        if (ec == asio::error::operation_aborted) // interrupted while waiting for a connection
            return failed(request, failure_reason("interrupted before it was sent", request.last));
        if (ec) // shut down, banned, not resent, retries exhausted, 4xx...
            return failed(request, failure_reason(ec.message(), request.last));
        if (http::to_status_class(res.result()) != http::status_class::successful)
            return failed(request, failure_reason("not a 2xx response", request.last));
        succeeded();
    }

    void succeeded()
    {
        ++summary_.ok;
        one_ended();
    }

    void failed(const request_line& request, const std::string& reason)
    {
        ++summary_.failed;
        std::cerr << "line " << request.number << ": " << request.method << ' ' << request.path
                  << ": " << reason << '\n';
        one_ended();
    }

    void one_ended()
    {
        if (--outstanding_ == 0)
            all_ended();
    }

    void all_ended()
    {
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
        summary_.elapsed_s = elapsed.count();
        signals_.cancel();
        // The limiter may still have a timer armed for a wake-up no request needs any more: stop
        // it, so that io_context::run returns now.
        limiter_.shutdown();
    }

    void wait_for_signal()
    {
        signals_.async_wait([this](const boost::system::error_code& ec, int /*signal*/) {
            if (ec)
                return; // every request ended
            if (!interrupted_) {
                interrupted_ = true;
                std::cerr << "discord-bulk: interrupted: requests not sent yet fail, requests on "
                             "the wire finish (interrupt again to abort them)\n";
                limiter_.shutdown(); // those waiting for a permit
                pool_.stop();        // those granted, waiting for a connection
                wait_for_signal();
            } else {
                std::cerr << "discord-bulk: aborting the requests on the wire\n";
                pool_.close();
            }
        });
    }

    drl::rate_limiter& limiter_;
    connection_pool& pool_;
    asio::signal_set signals_;
    summary summary_;
    std::size_t outstanding_ = 0;
    std::chrono::steady_clock::time_point started_;
    bool interrupted_ = false;
};

/// Verifies servers against the system's certificate authorities.
ssl::context make_tls_context()
{
    ssl::context context{ssl::context::tls_client};
    context.set_default_verify_paths();
    context.set_verify_mode(ssl::verify_peer);
    return context;
}

} // namespace

int main(int argc, char** argv)
{
    const auto parsed = parse_arguments(argc, argv);
    if (const auto* problem = std::get_if<std::string>(&parsed)) {
        std::cerr << "discord-bulk: " << *problem << "\n\n" << usage;
        return 2;
    }
    const auto& args = std::get<arguments>(parsed);
    if (args.help) {
        std::cout << usage;
        return 0;
    }

    try {
        std::size_t malformed = 0;
        auto requests = read_requests(std::cin, args.api, "Bot " + args.token, malformed);

        asio::io_context io{1};
        std::optional<ssl::context> tls;
        if (args.api.tls)
            tls.emplace(make_tls_context());
        drl::rate_limiter limiter{io.get_executor()};
        connection_pool pool{io.get_executor(), args.api, tls ? &*tls : nullptr, args.connections};
        bulk_sender sender{limiter, pool};
        sender.start(requests);
        io.run();

        print_summary(sender.result());
        return malformed == 0 && sender.result().failed == 0 && !sender.interrupted() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "discord-bulk: " << e.what() << '\n';
        return 1;
    }
}
