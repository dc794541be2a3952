// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// discord-bulk: sends the Discord API requests read from standard input, one a line, as fast as
// Discord's rate limits allow, over a small pool of keep-alive HTTP/1.1 or HTTPS connections, and
// ends with a one-line JSON summary.
//
//     DISCORD_TOKEN=... discord-bulk [OPTIONS] API_BASE <requests.txt
//
// It reads its input as it sends, holding a bounded window of requests; each goes through
// discord_ratelimit::async_send: one rate_limiter decides which goes when and which to send again.
// Built for a hostile network: every response is read within bounds, the token never appears on
// the command line or in a message, and no wait is longer than --max-wait.

#include "../common/safe_client.hpp"

#include <discord_ratelimit/asio/beast_read.hpp>
#include <discord_ratelimit/asio/beast_send.hpp>
#include <discord_ratelimit/detail/json_scanner.hpp>
#include <discord_ratelimit/route.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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
#include <list>
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

/// The longest wait a rate limit may impose before the requests it holds fail (`--max-wait`).
constexpr auto default_max_wait = std::chrono::minutes{15};
/// The longest valid `Retry-After` is a week; a bound above it bounds nothing.
constexpr std::size_t max_max_wait_s = 7 * 24 * 3600;
/// Requests read from the input and not yet ended, at most (`--window`).
constexpr std::size_t default_window = 10'000;
constexpr std::size_t max_window = 1'000'000;
/// The longest input line: a request with a body of up to Discord's limits, and some room.
constexpr std::size_t max_line = 1 << 20;
/// How often the progress line is written: redrawn on a terminal, appended to a log.
constexpr auto progress_on_terminal = std::chrono::seconds{1};
constexpr auto default_progress_in_log = std::chrono::seconds{30};

constexpr std::string_view usage = R"(usage: discord-bulk [OPTIONS] API_BASE <requests.txt

Sends the Discord API requests read from standard input, one a line, within Discord's rate limits:
    METHOD PATH [JSON-BODY]        e.g.  POST /channels/123/messages {"content":"hi"}
PATH is relative to API_BASE/v10. Blank lines and lines starting with '#' are ignored.
The last line on standard output is a JSON summary; failures are listed on standard error, with
webhook and interaction tokens in paths hidden.

The bot token comes from the environment variable DISCORD_TOKEN, or from a file:
  --token-file PATH  read the token from the first line of PATH; "-": the first line of standard
                     input, before the requests. There is no --token: every local user can read
                     a program's command line (ps, /proc/PID/cmdline).

  --connections N    keep-alive connections at most, 1 to 256 (default 8)
  --max-wait S       a request fails instead of waiting longer than S seconds for one rate limit
                     (a 429's Retry-After may ask for up to a week); waiting behind earlier
                     requests does not count. 0 to 604800, default 900 (15 minutes)
  --window N         requests read ahead of those finished, 1 to 1000000 (default 10000): the
                     input is read as requests are sent, never all at once
  --quiet            no progress line (by default one on standard error: redrawn every second on
                     a terminal, a plain line every 30 seconds otherwise)
  --progress S       seconds between two plain progress lines, 1 to 3600 (default 30)
  --insecure-http    allow http:// to anything but a loopback address, 127.0.0.1 or [::1] (the
                     token then crosses the network in clear text); https:// is required otherwise
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
    std::optional<std::string> token_file;
    std::size_t connections = default_connections;
    std::chrono::seconds max_wait = default_max_wait;
    std::size_t window = default_window;
    bool quiet = false;
    std::chrono::seconds progress = default_progress_in_log;
    bool insecure_http = false;
    api_endpoint api;
    bool help = false;
};

/// The arguments, or why they are bad usage. Messages name arguments by position and never
/// repeat them: a mistyped option may hold the token.
std::variant<arguments, std::string> parse_arguments(int argc, char** argv)
{
    arguments args;
    std::optional<std::string_view> api_base;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const std::string where = "argument " + std::to_string(i) + ": ";
        if (arg == "-h" || arg == "--help") {
            args.help = true;
            return args;
        }
        if (arg == "--token" || arg.starts_with("--token="))
            return std::string{safe_client::token_on_command_line};
        if (arg == "--quiet") {
            args.quiet = true;
        } else if (arg == "--insecure-http") {
            args.insecure_http = true;
        } else if (arg == "--token-file" || arg == "--connections" || arg == "--max-wait" ||
                   arg == "--window" || arg == "--progress") {
            if (i + 1 == argc)
                return where + std::string{arg} + " needs a value";
            const std::string_view value = argv[++i];
            const auto n = parse_number(value);
            if (arg == "--token-file") {
                args.token_file = std::string{value};
            } else if (arg == "--connections") {
                if (!n || *n < 1 || *n > max_connections)
                    return where + "--connections takes a number from 1 to 256";
                args.connections = *n;
            } else if (arg == "--max-wait") {
                if (!n || *n > max_max_wait_s)
                    return where + "--max-wait takes a number of seconds from 0 to 604800";
                args.max_wait = std::chrono::seconds{*n};
            } else if (arg == "--progress") {
                if (!n || *n < 1 || *n > 3600)
                    return where + "--progress takes a number of seconds from 1 to 3600";
                args.progress = std::chrono::seconds{*n};
            } else {
                if (!n || *n < 1 || *n > max_window)
                    return where + "--window takes a number from 1 to 1000000";
                args.window = *n;
            }
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
    if (!args.api.tls)
        if (auto refusal = safe_client::plain_http_refusal(args.api.host, args.insecure_http);
            !refusal.empty())
            return "API_BASE: " + refusal;
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

/// Standard input, a line at a time, read as the requests are sent rather than all at once.
/// A pipe, a terminal or a socket is read asynchronously; a regular file (which Linux's epoll
/// cannot wait for, and which never blocks for long) is read directly. Holds at most one line
/// and one read's worth of bytes.
class line_source {
public:
    /// A line without its end of line, or a line too long to be a request.
    struct line {
        std::string text;
        bool too_long = false;
    };

    line_source(const asio::any_io_executor& ex, int fd)
        : fd_{fd}
        , descriptor_{ex}
    {
        struct stat status {};
        if (::fstat(fd, &status) == 0 && S_ISREG(status.st_mode))
            return; // a regular file: read directly, from where it stands
        // Asio makes its descriptor non-blocking. A duplicate would share that flag with the
        // terminal's other descriptors (standard output and error too: writes to a paused
        // terminal would fail): a pipe or a terminal is opened afresh instead.
        // O_NONBLOCK: a named FIFO whose writer has gone would block the open itself.
        int own = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(),
                         O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (own < 0) { // a socket: share it, and give its flags back at the end
            flags_ = ::fcntl(fd, F_GETFL);
            own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        }
        boost::system::error_code ec;
        if (own >= 0)
            descriptor_.assign(own, ec);
        if (own >= 0 && ec)
            ::close(own); // read directly
    }
    line_source(const line_source&) = delete;
    line_source& operator=(const line_source&) = delete;
    ~line_source()
    {
        if (flags_ != -1)
            ::fcntl(fd_, F_SETFL, flags_);
    }

    /// The next line, or nothing at the end of the input (or after `cancel`, or a read error).
    asio::awaitable<std::optional<line>> next()
    {
        line result;
        for (;;) {
            const auto newline = buffer_.find('\n', scanned_);
            const auto end = newline == std::string::npos ? buffer_.size() : newline;
            if (!result.too_long && result.text.size() + (end - scanned_) > max_line)
                result.too_long = true; // keep skipping until the end of the line
            if (!result.too_long)
                result.text.append(buffer_, scanned_, end - scanned_);
            if (newline != std::string::npos) {
                scanned_ = newline + 1; // the rest of the buffer is the next lines
                co_return result;
            }
            buffer_.clear();
            scanned_ = 0;
            if (ended_ || !co_await fill())
                break;
        }
        ended_ = true;
        if (result.text.empty() && !result.too_long)
            co_return std::nullopt;
        co_return result; // the last line, without its end of line
    }

    /// Stops reading: a pending `next` ends with nothing, and so do later ones.
    void cancel()
    {
        ended_ = true;
        if (descriptor_.is_open())
            descriptor_.cancel();
    }

private:
    /// Reads more into `buffer_`; false at the end of the input or on an error.
    asio::awaitable<bool> fill()
    {
        std::array<char, 64 * 1024> bytes; // NOLINT: filled before use
        std::size_t n = 0;
        if (descriptor_.is_open()) {
            boost::system::error_code ec;
            n = co_await descriptor_.async_read_some(asio::buffer(bytes),
                                                     asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                co_return false;
        } else {
            ssize_t got = 0;
            do
                got = ::read(fd_, bytes.data(), bytes.size());
            while (got < 0 && errno == EINTR);
            if (got <= 0)
                co_return false;
            n = static_cast<std::size_t>(got);
        }
        if (ended_)
            co_return false;
        buffer_.append(bytes.data(), n);
        co_return true;
    }

    int fd_;
    int flags_ = -1; ///< the flags of a shared descriptor, to give back
    asio::posix::stream_descriptor descriptor_;
    std::string buffer_;
    std::size_t scanned_ = 0; ///< where the next line of `buffer_` begins
    bool ended_ = false;
};

// ---- Connections --------------------------------------------------------------------------------

/// An attempt's transport error, or its response. An attempt that wrote no byte of its request
/// (the connection could not be opened, or the pool stopped before it got one) says so with
/// `drl::not_sent`: the library may send it again, even a POST. (A failed write may have sent
/// part of it: Asio's TLS stream reports 0 bytes written after any error.)
struct exchange_result {
    boost::system::error_code error;
    response_message response;
};

/// Writes `request` and reads its final response, within `io_timeout`.
template <class Stream>
asio::awaitable<exchange_result> round_trip(Stream& stream, beast::flat_buffer& buffer,
                                            const request_message& request)
{
    exchange_result result;
    beast::get_lowest_layer(stream).expires_after(io_timeout);
    co_await http::async_write(stream, request,
                               asio::redirect_error(asio::use_awaitable, result.error));
    // The final response, within drl::response_limits (16 KiB of header, 8 MiB of body, 64 KiB
    // buffered unparsed), past any interim 1xx.
    if (!result.error)
        co_await drl::async_read_response(stream, buffer, result.response,
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
        const auto [failed, endpoints] =
            co_await safe_client::resolve_within(resolver_, api_.host, api_.port, io_timeout);
        if (failed)
            co_return failed;
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
        // The certificate must name the host in its subject alternative names, never only in its
        // common name.
        if (!safe_client::require_host_in_subject_alt_names(SSL_get0_param(tls->native_handle()),
                                                            api_.host))
            co_return boost::system::error_code{asio::error::invalid_argument};
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
    std::size_t sent = 0; ///< requests submitted (malformed lines are not)
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

/// A duration for people: "45s", "3m 20s", "2h 5m", "6d 23h".
std::string for_people(std::chrono::seconds d)
{
    const auto s = d.count();
    if (s < 60)
        return std::to_string(s) + "s";
    if (s < 3600)
        return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
    if (s < 86400)
        return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
    return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
}

/// What the limiter last made a request wait for, for the progress line. Called by the engine
/// with the limiter's lock held: it only records.
class wait_watcher final : public drl::engine_observer {
public:
    void on_waited(const drl::route&, std::chrono::nanoseconds waited, drl::wait_reason why) override
    {
        if (waited >= std::chrono::milliseconds{100})
            last_reason = why;
    }
    drl::wait_reason last_reason = drl::wait_reason::none;
};

/// Reads requests from the input as it sends them, at most `--window` at a time, each through
/// `drl::async_send`: the limiter lets each attempt go, an attempt runs on a pooled connection,
/// and the limiter decides from its outcome whether the request is done, sent again or failed.
/// The first SIGINT or SIGTERM stops reading and stops both (requests waiting for a permit or for
/// a connection fail unsent, those on the wire finish); a second one aborts those too.
class bulk_sender {
public:
    bulk_sender(drl::rate_limiter& limiter, connection_pool& pool, line_source& input,
                const arguments& args, std::string authorization, std::size_t first_line,
                const wait_watcher& watcher)
        : limiter_{limiter}
        , pool_{pool}
        , input_{input}
        , args_{args}
        , authorization_{std::move(authorization)}
        , line_number_{first_line}
        , watcher_{watcher}
        , signals_{limiter.get_executor(), SIGINT, SIGTERM}
        , room_{limiter.get_executor()}
        , progress_{limiter.get_executor()}
        , terminal_{::isatty(STDERR_FILENO) == 1}
    {
    }

    void start()
    {
        started_ = std::chrono::steady_clock::now();
        wait_for_signal();
        if (!args_.quiet)
            show_progress_later();
        asio::co_spawn(limiter_.get_executor(), feed(), [](std::exception_ptr failure) {
            if (failure) // a bug or no memory left: let it end io_context::run
                std::rethrow_exception(failure);
        });
    }

    const summary& result() const noexcept { return summary_; }
    /// Interrupted, or stopped by a wait longer than --max-wait for every request.
    bool stopped() const noexcept { return stopping_; }
    std::size_t malformed() const noexcept { return malformed_; }

private:
    /// A request from its submission to its end. Its address is stable while it lives.
    struct tracked {
        request_line line;
        asio::cancellation_signal cancel;
        bool on_wire = false;
        bool ended = false;  ///< `async_send` completed; it leaves `live_` soon
        std::string refused; ///< why the tool failed it itself, if it did
    };
    using tracked_list = std::list<tracked>;

    /// Reads the input and submits each request, keeping at most `--window` of them unfinished.
    asio::awaitable<void> feed()
    {
        for (;; ++line_number_) {
            while (live_.size() >= args_.window && !stopping_) {
                room_.expires_at(asio::steady_timer::time_point::max());
                boost::system::error_code woken; // `room_.cancel()`
                co_await room_.async_wait(asio::redirect_error(asio::use_awaitable, woken));
            }
            if (stopping_)
                break;
            auto input_line = co_await input_.next();
            if (!input_line || stopping_)
                break;
            if (input_line->too_long) {
                report_malformed("longer than 1 MiB");
                continue;
            }
            const std::string_view text{input_line->text};
            const auto line = trim(text.substr(0, text.find_last_not_of('\r') + 1));
            if (line.empty() || line.starts_with('#'))
                continue;
            auto parsed = parse_request(line, args_.api, authorization_);
            if (auto* request = std::get_if<request_line>(&parsed))
                submit(std::move(*request));
            else
                report_malformed(std::get<std::string_view>(parsed));
        }
        input_ended_ = true;
        maybe_all_ended();
    }

    void report_malformed(std::string_view why)
    {
        ++malformed_;
        print_above_progress("line " + std::to_string(line_number_) + ": skipped: " +
                             std::string{why});
    }

    void submit(request_line request)
    {
        auto& t = live_.emplace_back();
        const auto it = std::prev(live_.end());
        t.line = std::move(request);
        t.line.number = line_number_;
        ++summary_.sent;
        drl::rate_limiter::options_type options;
        options.max_rate_limit_wait = args_.max_wait;
        drl::async_send<response_message>(
            limiter_, t.line.route,
            [this, &t](auto handler) { send_attempt(t, std::move(handler)); }, options,
            asio::bind_cancellation_slot(
                t.cancel.slot(),
                [this, it](const boost::system::error_code& ec, const response_message& res) {
                    request_ended(it, ec, res);
                }));
    }

    /// One attempt, once the limiter lets the request go: `handler` gets its outcome.
    template <class Handler>
    void send_attempt(tracked& t, Handler handler)
    {
        // The library sends again after a 429 only when it retries it.
        if (t.line.last.status == 429)
            ++summary_.retried_429;
        t.on_wire = true;
        ++on_wire_;
        asio::co_spawn(pool_.get_executor(), pool_.exchange(t.line.message),
                       [this, &t, handler = std::move(handler)](std::exception_ptr failure,
                                                                exchange_result r) mutable {
                           if (failure) // a bug or no memory left: let it end io_context::run
                               std::rethrow_exception(failure);
                           t.on_wire = false;
                           --on_wire_;
                           // One the pool stopped before it had a connection never began.
                           if (!drl::is_not_sent(r.error) ||
                               drl::not_sent_cause(r.error) != asio::error::operation_aborted)
                               t.line.last = {r.error, r.error ? 0U : r.response.result_int()};
                           if (!r.error && r.response.result_int() == 429)
                               check_wait(t, r.response);
                           std::move(handler)(r.error, std::move(r.response));
                       });
    }

    /// A 429 asking for more than --max-wait: the engine fails this request, and refuses the
    /// others as they ask again; those of the same route already waiting are failed here, and a
    /// global one stops everything: none of them would go before the bound.
    void check_wait(tracked& t, const response_message& res)
    {
        // Read as the engine reads it: the body's exact retry_after, else Retry-After (in
        // milliseconds before API v8), and the scope.
        const auto answer = drl::response::parse(429, res, res.body(),
                                                 t.line.route.retry_after_in_milliseconds());
        const auto scope = drl::classify(answer);
        const auto asked = drl::retry_after(answer);
        if (scope == drl::outcome::cloudflare_429 || !asked || *asked <= args_.max_wait)
            return; // a ban fails every request by itself
        const bool global = scope == drl::outcome::global_429;
        const std::string why =
            "Discord asked to wait " +
            for_people(std::chrono::ceil<std::chrono::seconds>(*asked)) +
            (global ? " for every request" : "") + ", longer than --max-wait (" +
            for_people(args_.max_wait) + ")";
        t.refused = why;
        if (global)
            return stop("stopping: " + why);
        // A cancelled request may end at once, but it leaves `live_` later (see `request_ended`):
        // the loop sees the whole list.
        for (auto& other : live_)
            if (&other != &t && !other.on_wire && !other.ended &&
                other.line.route.key == t.line.route.key &&
                other.line.route.major == t.line.route.major) {
                other.refused = why;
                other.cancel.emit(asio::cancellation_type::terminal);
            }
    }

    /// How `async_send` ended the request.
    void request_ended(tracked_list::iterator it, const boost::system::error_code& ec,
                       const response_message& res)
    {
        tracked& t = *it;
        t.ended = true;
        if (!t.refused.empty() &&
            (ec == drl::error::rate_limited || ec == asio::error::operation_aborted ||
             ec == drl::error::shut_down))
            failed(t, failure_reason(t.refused, t.line.last));
        else if (ec == asio::error::operation_aborted) // interrupted waiting for a connection
            failed(t, failure_reason("interrupted before it was sent", t.line.last));
        else if (ec) // shut down, banned, not resent, retries exhausted, 4xx...
            failed(t, failure_reason(ec.message(), t.line.last));
        else if (http::to_status_class(res.result()) != http::status_class::successful)
            failed(t, failure_reason("not a 2xx response", t.line.last));
        else
            ++summary_.ok;
        // Later: `async_send` may still be unwinding the operation that holds `t`'s lambdas.
        asio::post(limiter_.get_executor(), [this, it] {
            live_.erase(it);
            room_.cancel(); // the reader may read on
            maybe_all_ended();
        });
    }

    void failed(const tracked& t, const std::string& reason)
    {
        ++summary_.failed;
        // The path as given, with any webhook or interaction token in it hidden.
        print_above_progress("line " + std::to_string(t.line.number) + ": " + t.line.method + ' ' +
                             drl::redact_path(t.line.path) + ": " + reason);
    }

    void maybe_all_ended()
    {
        if (!input_ended_ || !live_.empty() || ended_)
            return;
        ended_ = true;
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
        summary_.elapsed_s = elapsed.count();
        signals_.cancel();
        progress_.cancel();
        if (terminal_ && progress_shown_)
            std::cerr << "\r\x1b[K" << std::flush;
        // The limiter may still have a timer armed for a wake-up no request needs any more: stop
        // it, so that io_context::run returns now.
        limiter_.shutdown();
    }

    /// Stops taking lines and ends every request not on the wire.
    void stop(const std::string& why)
    {
        if (stopping_)
            return;
        stopping_ = true;
        print_above_progress("discord-bulk: " + why + "; line " + std::to_string(line_number_) +
                             " and those after it are not read");
        input_.cancel();
        room_.cancel();
        limiter_.shutdown(); // those waiting for a permit
        pool_.stop();        // those granted, waiting for a connection
    }

    void wait_for_signal()
    {
        signals_.async_wait([this](const boost::system::error_code& ec, int /*signal*/) {
            if (ec)
                return; // every request ended
            if (!interrupted_) {
                interrupted_ = true;
                stop("interrupted: requests not sent yet fail, requests on the wire finish "
                     "(interrupt again to abort them)");
                wait_for_signal();
            } else {
                print_above_progress("discord-bulk: aborting the requests on the wire");
                pool_.close();
            }
        });
    }

    // ---- Progress ----

    void show_progress_later()
    {
        progress_.expires_after(terminal_ ? progress_on_terminal
                                          : std::chrono::steady_clock::duration{args_.progress});
        progress_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || ended_)
                return;
            show_progress();
            show_progress_later();
        });
    }

    /// "12,000 done (11,990 ok, 10 failed), 9,500 waiting (last wait: bucket_exhausted), 8 on the
    /// wire; about 4m 10s left for the lines read so far".
    void show_progress()
    {
        const auto done = summary_.ok + summary_.failed;
        const auto waiting = live_.size() - on_wire_;
        std::string line = "discord-bulk: " + std::to_string(done) + " done (" +
                           std::to_string(summary_.ok) + " ok, " +
                           std::to_string(summary_.failed) + " failed), " +
                           std::to_string(waiting) + " waiting";
        if (waiting != 0 && watcher_.last_reason != drl::wait_reason::none)
            line += " (last wait: " + std::string{drl::to_string(watcher_.last_reason)} + ")";
        line += ", " + std::to_string(on_wire_) + " on the wire";
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
        if (done != 0 && !live_.empty()) {
            const double left = static_cast<double>(live_.size()) * elapsed.count() /
                                static_cast<double>(done);
            line += "; about " + for_people(std::chrono::seconds{static_cast<std::int64_t>(
                                     std::min(left, 1e9))}) +
                    " left" + (input_ended_ ? "" : " for the lines read so far");
        }
        progress_shown_ = true;
        if (terminal_)
            std::cerr << '\r' << line << "\x1b[K" << std::flush;
        else
            std::cerr << line << '\n';
    }

    /// A line of its own on stderr, above the progress line of a terminal, which is redrawn.
    void print_above_progress(const std::string& text)
    {
        if (terminal_ && progress_shown_)
            std::cerr << "\r\x1b[K";
        std::cerr << text << '\n';
        if (terminal_ && progress_shown_ && !ended_)
            show_progress();
    }

    drl::rate_limiter& limiter_;
    connection_pool& pool_;
    line_source& input_;
    const arguments& args_;
    std::string authorization_;
    std::size_t line_number_;
    const wait_watcher& watcher_;
    asio::signal_set signals_;
    asio::steady_timer room_;     ///< the reader waits on it for room in the window
    asio::steady_timer progress_; ///< the next progress line
    bool terminal_;
    bool progress_shown_ = false;
    tracked_list live_; ///< submitted, not ended
    std::size_t on_wire_ = 0;
    std::size_t malformed_ = 0;
    summary summary_;
    std::chrono::steady_clock::time_point started_;
    bool input_ended_ = false;
    bool ended_ = false;
    bool stopping_ = false;
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
        asio::io_context io{1};
        line_source input{io.get_executor(), STDIN_FILENO};

        // The token: from DISCORD_TOKEN, a file, or the first line of standard input.
        safe_client::token_result token;
        std::size_t first_line = 1;
        if (args.token_file && *args.token_file == "-") {
            std::optional<line_source::line> line;
            asio::co_spawn(io, input.next(), [&](std::exception_ptr e, auto l) {
                if (e)
                    std::rethrow_exception(e);
                line = std::move(l);
            });
            io.run();
            io.restart();
            token = !line ? safe_client::token_result{{}, "standard input: no token in it"}
                    : line->too_long
                        ? safe_client::token_result{{}, "standard input: the first line is too "
                                                        "long for a token"}
                        : safe_client::checked_token(std::move(line->text));
            first_line = 2;
        } else {
            token = safe_client::bot_token(args.token_file ? &*args.token_file : nullptr);
        }
        if (!token.error.empty()) {
            std::cerr << "discord-bulk: " << token.error << "\n\n" << usage;
            return 2;
        }

        std::optional<ssl::context> tls;
        if (args.api.tls)
            tls.emplace(make_tls_context());
        wait_watcher watcher;
        drl::engine_config<std::chrono::steady_clock> config;
        config.observer = &watcher;
        drl::rate_limiter limiter{io.get_executor(), config};
        connection_pool pool{io.get_executor(), args.api, tls ? &*tls : nullptr, args.connections};
        bulk_sender sender{limiter, pool, input, args, "Bot " + token.token, first_line, watcher};
        sender.start();
        io.run();

        print_summary(sender.result());
        return sender.malformed() == 0 && sender.result().failed == 0 && !sender.stopped() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "discord-bulk: " << e.what() << '\n';
        return 1;
    }
}
