// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_FAKE_DISCORD_FAKE_DISCORD_SERVER_HPP
#define DISCORD_RATELIMIT_FAKE_DISCORD_FAKE_DISCORD_SERVER_HPP

/// @file
/// A fake Discord on loopback: a real HTTP/1.1 server (Boost.Beast, keep-alive, many concurrent
/// connections) that answers `/api/v10/...` and `/api/v9/...` requests with the rate-limit rules of
/// `discord_ratelimit::testing::simulated_discord`, on the real monotonic clock. For the
/// integration tests (which start it in-process) and for `fake-discord`, the command-line server.
///
/// Per request: the path, stripped of `/api/vN` and the query string, is parsed with
/// `parse_route`; `Authorization: Bot <token>` names the token (each token has its own global
/// limit; the token is never stored or logged); the body goes along (the channel name/topic edit
/// sub-limit reads it). Answers carry the simulated Discord's headers as they are; 2xx bodies are
/// plausible JSON (a message object for a message sent or edited, 204 No Content for deletes,
/// reactions and interaction callbacks). Requests the simulated Discord never sees: no token on a
/// route that needs one (401), a path that is not a known Discord API path (404), an unknown method
/// (405), a body over `options::body_limit` or chunk metadata over `options::read_buffer_limit`
/// (413), a header over `options::header_limit` (431), malformed HTTP (400); after each of the last
/// three the connection is closed.
///
/// Against a hostile client, each connection's memory and time are bounded (see `options`): the
/// header, the body and the read buffer have limits; answers are written one at a time; a
/// request must arrive whole within `read_timeout` and an answer be taken within `write_timeout`;
/// at most `max_sessions` connections are served at once. An exception (out of memory...) in a
/// connection's handler ends that connection only; the server logs it to stderr (the exception's
/// message, never a request's bytes) and keeps serving.
///
/// Transport faults (`server::inject_fault`): an answer cut off by a connection reset, a reset
/// instead of an answer, or no answer at all; each request concerned was decided (and counted) as
/// usual, as Discord would have before the connection failed.

#include <discord_ratelimit/detail/json_scanner.hpp>
#include <discord_ratelimit/route.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

namespace fake_discord {

/// The clock the server runs the simulated Discord on.
using clock_type = std::chrono::steady_clock;
/// The simulated Discord the server wraps.
using discord_type = discord_ratelimit::testing::simulated_discord<clock_type>;
/// The rate-limit rules (`simulated_discord<steady_clock>::config`).
using rules = discord_type::config;
/// An answer, as injected with `server::inject`.
using reply = discord_type::reply;
/// What the simulated Discord saw.
using discord_counters = discord_type::counters;
/// An entry of `rules::shared_limits`.
using shared_limit_rule = discord_type::shared_limit_rule;
using discord_ratelimit::testing::ban_page;
namespace http = boost::beast::http;

/// Bucket hashes of `realistic_rules()` (32 hex characters, as Discord's look).
namespace hashes {
inline constexpr std::string_view create_message = "80c17d2f203122d936070c88c8d10f33";
inline constexpr std::string_view modify_message = "4f2b9a8c0e1d4e7fa3b6c5d8e9f01a2b";
inline constexpr std::string_view reactions = "b4e1c7a2d9f3086e5a1c2b3d4e5f6a7b";
inline constexpr std::string_view get_messages = "9c0e3b1a7d5f4e2c8b6a0d1f3e5c7a9b";
inline constexpr std::string_view interaction_callback = "e3a7c1f5b9d2486a0c4e8f2b6d1a5c9e";
inline constexpr std::string_view webhook_execute = "2d6f0a4c8e1b5d9f3a7c0e4b8d2f6a1c";
} // namespace hashes

/// Rules shaped like Discord's in 2026: a global limit of 50 per second per token; sending
/// messages 5 per 5 s per channel; reactions 1 per 0.25 s per channel, PUT and DELETE (both are
/// one route key) under one hash; editing and deleting messages 5 per 5 s per channel under one
/// hash; reading messages 5 per 5 s; interaction callbacks 5 per 5 s per interaction (exempt from
/// the global limit); executing webhooks 5 per 2 s; every other route 5 per 5 s under a hash of
/// its own; the channel name/topic edit sub-limit of 2 per 10 minutes.
inline rules realistic_rules()
{
    using namespace std::chrono_literals;
    rules r;
    r.global_limit = 50;
    r.global_window = 1s;
    const auto rule = [](std::string_view hash, std::uint32_t limit, clock_type::duration window) {
        return discord_type::bucket_rule{std::string{hash}, limit, window};
    };
    r.routes["POST /channels/{channel_id}/messages"] = rule(hashes::create_message, 5, 5s);
    r.routes["PUT|DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/{user}"] =
        rule(hashes::reactions, 1, 250ms);
    r.routes["PATCH /channels/{channel_id}/messages/{id}"] = rule(hashes::modify_message, 5, 5s);
    r.routes["DELETE /channels/{channel_id}/messages/{id}"] = rule(hashes::modify_message, 5, 5s);
    r.routes["GET /channels/{channel_id}/messages"] = rule(hashes::get_messages, 5, 5s);
    r.routes["POST /interactions/{interaction_id}/{interaction_token}/callback"] =
        rule(hashes::interaction_callback, 5, 5s);
    r.routes["POST /webhooks/{webhook_id}/{webhook_token}"] = rule(hashes::webhook_execute, 5, 2s);
    r.default_rule = {"", 5, 5s};
    return r;
}

/// How to run the server. The rules, the latency, the skew and the ban can also change at run
/// time (`server::update_rules`, `set_latency`, `set_skew`, `ban`).
///
/// @par Thread Safety
/// A value type.
struct options {
    /// The rate-limit rules. `wall_clock_at_epoch` is overwritten: Discord's wall clock is the
    /// system clock plus `skew`.
    rules discord = realistic_rules();
    std::string address = "127.0.0.1";
    std::uint16_t port = 0; ///< 0: an ephemeral port (see `server::port()`)
    /// How long each answer waits (on a timer) after the request arrived and was decided.
    std::chrono::milliseconds latency{0};
    /// Discord's wall clock minus the system clock: shifts X-RateLimit-Reset (and the timestamps
    /// of message ids), never Reset-After.
    std::chrono::milliseconds skew{0};
    /// Start banned, with this page.
    std::optional<ban_page> ban;
    /// The request log keeps the most recent entries up to this many.
    std::size_t log_limit = 100'000;

    // What one connection may cost. A hostile client (a request that never ends, a client that
    // never reads, one that sends nothing) holds at most these bytes and these seconds of a
    // session; `max_sessions` bounds the sessions. The defaults suit a bot's traffic: Discord's
    // JSON bodies are small.

    /// The request line and header fields, together: a larger header gets 431 and the connection
    /// is closed.
    std::uint32_t header_limit = 16 * 1024;
    /// The body (after de-chunking): a larger `Content-Length` gets 413 at once, chunks adding up
    /// to more get 413 when they do; then the connection is closed.
    std::size_t body_limit = 1024 * 1024;
    /// The most a connection's read buffer holds (at least `header_limit + 1` is used). Bounds
    /// what neither limit above does: a chunk-size line with its extensions and the trailer of a
    /// chunked body (Beast 1.81 bounds neither by `header_limit`); a request that needs more gets
    /// 413 and the connection is closed. Body bytes pass through the buffer without piling up.
    std::size_t read_buffer_limit = 32 * 1024;
    /// After an answer that closes the connection (an error, or `Connection: close`), the server
    /// reads and throws away at most this many more bytes, for at most `read_timeout`, before it
    /// closes: a client still sending the body the server refused can then read the answer
    /// (closing with unread bytes makes the kernel reset the connection, and the answer may be
    /// lost). A client that keeps sending is cut off after that.
    std::size_t linger_limit = 1024 * 1024;
    /// A whole-request deadline: from the moment the server waits for a request (the connection
    /// accepted, or the previous answer written) to the request read whole. A connection that
    /// sends nothing, stays idle between keep-alive requests, or trickles a request (slowloris)
    /// is closed when it passes, without an answer. Not reset by each byte that arrives.
    std::chrono::milliseconds read_timeout{30'000};
    /// An answer must be written whole within this long (after `latency`), or the connection is
    /// closed: a client that never reads (or pipelines requests without reading the answers,
    /// which the server writes one at a time) holds the session no longer.
    std::chrono::milliseconds write_timeout{30'000};
    /// Connections served at once; the server closes any more at once, without an answer.
    std::size_t max_sessions = 1024;
};

/// A transport fault the server can inflict on one answer (`server::inject_fault`). The request
/// is read and decided first: Discord counted it, whatever the client learns.
enum class fault : std::uint8_t {
    /// Writes the status line, the headers and half the body (half the header block when there is
    /// no body), then resets the connection (RST): a connection reset in the middle of a response.
    reset_mid_response,
    /// Resets the connection (RST) instead of answering.
    reset_before_response,
    /// Never answers: the connection stays open, silent, until the client closes it or the server
    /// stops (a server too slow for any client timeout).
    stall,
};

/// One request as the server saw it. Never the token, never the path (paths carry webhook and
/// interaction tokens): the route key only.
///
/// @par Thread Safety
/// A value type.
struct log_entry {
    std::string method;     ///< as sent; empty when the request could not be read (400, 413, 431)
    std::string route;      ///< the route key; empty when the path was not a Discord API path
    int status = 0;         ///< the answer's status (as decided, even when a fault kept it back)
    bool had_token = false; ///< the request had `Authorization: Bot <token>`
    clock_type::time_point arrival{};
    std::optional<fault> injected_fault; ///< the fault its answer got, if any
};

/// Answers the simulated Discord never saw.
///
/// @par Thread Safety
/// A value type.
struct rejection_counters {
    std::uint64_t unauthorized = 0;       ///< 401: no `Authorization: Bot <token>`
    std::uint64_t not_found = 0;          ///< 404: not a Discord API path
    std::uint64_t method_not_allowed = 0; ///< 405: not GET, POST, PUT, PATCH or DELETE
    std::uint64_t too_large = 0;          ///< 413 and 431
    std::uint64_t bad_request = 0;        ///< 400: malformed HTTP
};

namespace detail {

/// A Beast string view as a standard one.
inline std::string_view std_view(boost::beast::string_view text) noexcept
{
    return {text.data(), text.size()};
}

/// `{"message": "<message>", "code": <code>}`, Discord's error body.
inline std::string error_body(std::string_view message, int code)
{
    return R"({"message": ")" + std::string{message} + R"(", "code": )" + std::to_string(code) +
           "}";
}

/// The raw contents (escapes as sent, so valid between quotes) of a top-level string member.
inline std::optional<std::string_view> json_string_member(std::string_view body,
                                                          std::string_view name)
{
    std::optional<std::string_view> found;
    const bool valid = discord_ratelimit::detail::json_scan(
        body, [&](std::string_view key, const discord_ratelimit::detail::json_value& value) {
            if (!found && key == name && value.kind == discord_ratelimit::detail::json_kind::string)
                found = value.text;
        });
    return valid ? found : std::nullopt;
}

inline std::string two_digits(unsigned value)
{
    return std::string(value < 10 ? "0" : "") + std::to_string(value);
}

/// ISO 8601 with microseconds, as Discord writes timestamps: `2026-01-02T03:04:05.678000+00:00`.
inline std::string iso8601(std::chrono::system_clock::time_point t)
{
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day date{day};
    const hh_mm_ss clock_time{ms - day};
    std::string fraction = std::to_string(clock_time.subseconds().count());
    fraction.insert(0, 3 - std::min<std::size_t>(fraction.size(), 3), '0');
    return std::to_string(static_cast<int>(date.year())) + "-" +
           two_digits(static_cast<unsigned>(date.month())) + "-" +
           two_digits(static_cast<unsigned>(date.day())) + "T" +
           two_digits(static_cast<unsigned>(clock_time.hours().count())) + ":" +
           two_digits(static_cast<unsigned>(clock_time.minutes().count())) + ":" +
           two_digits(static_cast<unsigned>(clock_time.seconds().count())) + "." + fraction +
           "000+00:00";
}

/// The resources of Discord's API; other first segments are 404.
inline bool known_resource(std::string_view path)
{
    constexpr std::array<std::string_view, 14> resources{
        "applications", "channels", "gateway",         "guilds",        "interactions",
        "invites",      "oauth2",   "stage-instances", "sticker-packs", "stickers",
        "users",        "voice",    "webhooks",        "lobbies"};
    const std::size_t end = path.find('/');
    const std::string_view first = path.substr(0, end);
    for (const std::string_view resource : resources)
        if (first == resource)
            return true;
    return false;
}

} // namespace detail

/// The fake Discord: listens on `options::address` (loopback by default) and serves on a thread of
/// its own, from construction until `stop()` or destruction.
///
/// @par Thread Safety
/// Every member function is safe to call from any thread, concurrently with each other and with
/// the requests being served (one mutex guards the simulated Discord and the log). `stop()` and
/// the destructor block until the server's thread has ended.
class server {
public:
    /// Binds, listens and starts serving.
    /// @throws boost::system::system_error when the address cannot be bound.
    explicit server(options o = {})
        : options_{std::move(o)}
        , discord_{with_wall_clock(options_.discord, options_.skew)}
        , acceptor_{ioc_}
        , retry_accept_{ioc_}
    {
        latency_ms_.store(options_.latency.count());
        if (options_.ban)
            discord_.ban(*options_.ban);
        const boost::asio::ip::tcp::endpoint endpoint{
            boost::asio::ip::make_address(options_.address), options_.port};
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(boost::asio::socket_base::max_listen_connections);
        port_ = acceptor_.local_endpoint().port();
        accept();
        thread_ = std::thread{[this] {
            run();
        }};
    }

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Stops and joins.
    ~server() { stop(); }

    /// The port it listens on (the ephemeral one when `options::port` was 0).
    std::uint16_t port() const noexcept { return port_; }

    /// `http://ADDRESS:PORT/api`: append `/v10/channels/...`.
    std::string base_url() const
    {
        return "http://" + options_.address + ":" + std::to_string(port_) + "/api";
    }

    /// Closes the listening socket and every connection (answers being delayed are dropped),
    /// then joins the server's thread. Idempotent.
    void stop()
    {
        const std::lock_guard lock{stop_mutex_};
        if (!thread_.joinable())
            return;
        if (std::this_thread::get_id() == thread_.get_id()) {
            // From a handler (a misuse): shut down, but leave the join to the destructor.
            boost::asio::post(ioc_, [this] { shut_down(); });
            return;
        }
        boost::asio::post(ioc_, [this] { shut_down(); });
        thread_.join();
    }

    /// What the simulated Discord saw so far.
    discord_counters counters() const
    {
        const std::lock_guard lock{mutex_};
        return discord_.seen();
    }

    /// Requests answered without the simulated Discord (401, 404, 405, 413, 431, 400).
    rejection_counters rejections() const
    {
        const std::lock_guard lock{mutex_};
        return rejections_;
    }

    /// TCP connections accepted so far.
    std::uint64_t connections_accepted() const noexcept { return accepted_.load(); }

    /// The most recent requests (at most `options::log_limit`), oldest first.
    std::vector<log_entry> request_log() const
    {
        const std::lock_guard lock{mutex_};
        return {log_.begin(), log_.end()};
    }

    /// Bans: every request gets `page` with a 429, no `Via`, no rate-limit headers.
    void ban(ban_page page = ban_page::html)
    {
        const std::lock_guard lock{mutex_};
        discord_.ban(page);
    }

    void lift_ban()
    {
        const std::lock_guard lock{mutex_};
        discord_.lift_ban();
    }

    /// The next request that reaches the simulated Discord gets `r` (sent with its status, headers
    /// and body as they are), in order.
    void inject(reply r)
    {
        const std::lock_guard lock{mutex_};
        discord_.inject(std::move(r));
    }

    /// The next request read completely whose method is `method` (any when empty) and whose route
    /// key is `route` (any when empty) gets fault `f` on its answer. Faults wait in order; each
    /// request takes the first one that matches it. Requests the server rejects itself (400, 401,
    /// 404, 405, 413, 431) take none.
    void inject_fault(fault f, std::string method = {}, std::string route = {})
    {
        const std::lock_guard lock{mutex_};
        faults_.push_back(pending_fault{f, std::move(method), std::move(route)});
    }

    /// Injected faults no request has taken yet.
    std::size_t pending_faults() const
    {
        const std::lock_guard lock{mutex_};
        return faults_.size();
    }

    /// Adds a shared-scope 429 rule (see `rules::shared_limits`).
    void add_shared_limit(shared_limit_rule rule)
    {
        const std::lock_guard lock{mutex_};
        discord_.settings().shared_limits.push_back(std::move(rule));
    }

    /// Calls `f(rules&)` under the server's lock, to change the rules between windows.
    template <class F>
    void update_rules(F&& f)
    {
        const std::lock_guard lock{mutex_};
        std::forward<F>(f)(discord_.settings());
    }

    /// Calls `f(const discord_type&)` under the server's lock (windows, arrivals...); returns
    /// what it returns.
    template <class F>
    auto inspect(F&& f) const
    {
        const std::lock_guard lock{mutex_};
        return std::forward<F>(f)(std::as_const(discord_));
    }

    /// Changes the latency of the answers decided from now on.
    void set_latency(std::chrono::milliseconds latency) noexcept
    {
        latency_ms_.store(latency.count());
    }

    /// Changes the skew of Discord's wall clock.
    void set_skew(std::chrono::milliseconds skew)
    {
        const std::lock_guard lock{mutex_};
        skew_ = skew;
        discord_.settings().wall_clock_at_epoch = wall_clock_at_epoch(skew);
    }

private:
    class session;
    using tcp = boost::asio::ip::tcp;

    /// What a request is answered with, and what to remember of it.
    struct answer {
        reply out;
        log_entry entry;
    };

    /// A fault waiting for a request that matches it (`inject_fault`).
    struct pending_fault {
        fault what;
        std::string method; ///< empty: any
        std::string route;  ///< empty: any
    };

    /// Takes the first pending fault that matches the request; the caller holds `mutex_`.
    std::optional<fault> take_fault(std::string_view method, std::string_view route)
    {
        const auto it = std::find_if(faults_.begin(), faults_.end(), [&](const pending_fault& f) {
            return (f.method.empty() || f.method == method) &&
                   (f.route.empty() || f.route == route);
        });
        if (it == faults_.end())
            return std::nullopt;
        const fault what = it->what;
        faults_.erase(it);
        return what;
    }

    /// Discord's wall clock at steady_clock's epoch: the system clock now, minus the steady clock
    /// now, plus the skew.
    static std::chrono::nanoseconds wall_clock_at_epoch(std::chrono::milliseconds skew)
    {
        const auto wall = std::chrono::system_clock::now().time_since_epoch();
        const auto steady = clock_type::now().time_since_epoch();
        return std::chrono::duration_cast<std::chrono::nanoseconds>(wall) -
               std::chrono::duration_cast<std::chrono::nanoseconds>(steady) +
               std::chrono::duration_cast<std::chrono::nanoseconds>(skew);
    }

    static rules with_wall_clock(rules r, std::chrono::milliseconds skew)
    {
        r.wall_clock_at_epoch = wall_clock_at_epoch(skew);
        return r;
    }

    /// The server's thread. No exception leaves it: a handler that throws (out of memory...)
    /// loses its connection (whose deadline closes it), the others are served on.
    void run() noexcept
    {
        for (;;) {
            try {
                ioc_.run();
                return;
            } catch (const std::exception& e) {
                log_failure(e.what());
            } catch (...) {
                log_failure("an exception of unknown type");
            }
            try {
                if (!stopping_ && !accepting_)
                    accept_later(); // the handler that threw was the acceptor's
            } catch (...) {
                // Out of memory again: the connections being served go on; no new ones.
            }
        }
    }

    /// What was thrown, on stderr: the exception's message (cut to 200 characters), never a
    /// request's bytes or a token.
    static void log_failure(const char* what) noexcept
    {
        std::fprintf(stderr, "fake-discord: a handler threw (%.200s); serving on\n",
                     what != nullptr ? what : "");
    }

    void accept()
    {
        acceptor_.async_accept(ioc_, [this](boost::system::error_code ec, tcp::socket socket) {
            accepting_ = false;
            if (stopping_)
                return;
            if (ec) {
                // Out of descriptors or similar: try again shortly instead of spinning.
                accept_later();
                return;
            }
            accepted_.fetch_add(1);
            // Over `max_sessions`: `socket` closes as it goes out of scope, unanswered.
            if (sessions_.size() < options_.max_sessions)
                start_session(std::move(socket));
            accept();
        });
        accepting_ = true; // not before: when async_accept throws, nothing is pending
    }

    /// Accepts again in 10 ms.
    void accept_later()
    {
        retry_accept_.expires_after(std::chrono::milliseconds{10});
        retry_accept_.async_wait([this](boost::system::error_code wait_ec) {
            accepting_ = false;
            if (!wait_ec && !stopping_)
                accept();
        });
        accepting_ = true;
    }

    void start_session(tcp::socket socket);
    void shut_down();

    static std::string_view strip_query(std::string_view target)
    {
        return target.substr(0, target.find_first_of("?#"));
    }

    static reply error_reply(int status, std::string_view message, int code)
    {
        reply out;
        out.status = status;
        out.headers = {{"content-type", "application/json"}, {"via", "1.1 google"}};
        out.body = detail::error_body(message, code);
        return out;
    }

    /// Answers a request that was read completely. Runs on the server's thread.
    answer handle(const http::request<http::string_body>& req)
    {
        answer a;
        const std::string_view method_text = detail::std_view(req.method_string());
        a.entry.method = std::string{method_text.substr(0, 16)};
        const std::string_view target = detail::std_view(req.target());
        const std::string_view path = strip_query(target);
        const auto auth = req.find(http::field::authorization);
        std::string_view token;
        if (auth != req.end()) {
            const std::string_view value = detail::std_view(auth->value());
            if (value.size() > 4 && (value.substr(0, 4) == "Bot " || value.substr(0, 4) == "bot "))
                token = value.substr(4);
            while (!token.empty() && token.front() == ' ')
                token.remove_prefix(1);
        }
        a.entry.had_token = !token.empty();

        const std::lock_guard lock{mutex_};
        const auto arrival = clock_type::now();
        a.entry.arrival = arrival;
        const auto method = discord_ratelimit::parse_http_method(method_text);
        std::string_view relative;
        for (const std::string_view prefix : {"/api/v10/", "/api/v9/"})
            if (path.starts_with(prefix))
                relative = path.substr(prefix.size() - 1);
        if (!method) {
            ++rejections_.method_not_allowed;
            a.out = error_reply(405, "405: Method Not Allowed", 0);
        } else if (relative.empty() || !detail::known_resource(relative.substr(1))) {
            ++rejections_.not_found;
            a.out = error_reply(404, "404: Not Found", 0);
        } else if (const auto parsed = discord_ratelimit::parse_route(*method, path); !parsed) {
            ++rejections_.not_found;
            a.out = error_reply(404, "404: Not Found", 0);
        } else {
            const discord_ratelimit::route& r = parsed.value;
            a.entry.route = std::string{r.key.view()};
            // Webhook and interaction routes carry their own token in the path.
            const bool path_token = r.global_exempt || r.major.token_hash != 0;
            if (token.empty() && !path_token) {
                ++rejections_.unauthorized;
                a.out = error_reply(401, "401: Unauthorized", 0);
            } else {
                const std::string_view body{req.body()};
                const auto injected_before = discord_.seen().injected;
                a.out = discord_.handle(r, arrival, {token, body});
                if (discord_.seen().injected == injected_before && a.out.status >= 200 &&
                    a.out.status < 300)
                    dress_success(r, target, body, a.out);
                a.entry.injected_fault = take_fault(a.entry.method, a.entry.route);
            }
        }
        a.entry.status = a.out.status;
        remember(a.entry);
        return a;
    }

    /// Records a log entry; the caller holds `mutex_`.
    void remember(log_entry entry)
    {
        if (options_.log_limit == 0)
            return;
        if (log_.size() >= options_.log_limit)
            log_.pop_front();
        log_.push_back(std::move(entry));
    }

    /// A snowflake made now on Discord's clock; the caller holds `mutex_`.
    std::uint64_t next_snowflake()
    {
        const auto now = std::chrono::system_clock::now() + skew_;
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() -
            discord_ratelimit::detail::discord_epoch_ms;
        const auto since_epoch = static_cast<std::uint64_t>(ms > 0 ? ms : 0);
        return (since_epoch << 22) | (std::uint64_t{1} << 17) | (sequence_++ & 0xFFF);
    }

    std::string message_json(std::uint64_t id, std::uint64_t channel, std::string_view body)
    {
        const std::string_view content = detail::json_string_member(body, "content").value_or("");
        const auto now = std::chrono::system_clock::now() + skew_;
        return R"({"id": ")" + std::to_string(id) + R"(", "type": 0, "channel_id": ")" +
               std::to_string(channel) + R"(", "content": ")" + std::string{content} +
               R"(", "author": {"id": "1100000000000000001", "username": "fake-discord", )"
               R"("discriminator": "0", "global_name": null, "avatar": null, "bot": true}, )"
               R"("timestamp": ")" +
               detail::iso8601(now) +
               R"(", "edited_timestamp": null, "tts": false, "mention_everyone": false, )"
               R"("mentions": [], "mention_roles": [], "attachments": [], "embeds": [], )"
               R"("pinned": false, "flags": 0, "components": []})";
    }

    /// Plausible 2xx bodies; the headers stay as the simulated Discord gave them.
    void dress_success(const discord_ratelimit::route& r, std::string_view target,
                       std::string_view body, reply& out)
    {
        using discord_ratelimit::http_method;
        const std::string_view key = r.key.view();
        const std::uint64_t major = r.major.id;
        if (r.reaction || r.method == http_method::delete_ ||
            key == "POST /interactions/{interaction_id}/{interaction_token}/callback") {
            out.status = 204;
            out.body.clear();
        } else if (key == "POST /channels/{channel_id}/messages") {
            out.body = message_json(next_snowflake(), major, body);
        } else if (key == "PATCH /channels/{channel_id}/messages/{id}" ||
                   key == "GET /channels/{channel_id}/messages/{id}") {
            const std::string_view path = strip_query(target);
            const std::string_view last = path.substr(path.rfind('/') + 1);
            std::uint64_t id = 0;
            std::from_chars(last.data(), last.data() + last.size(), id);
            out.body = message_json(id, major, body);
        } else if (key == "GET /channels/{channel_id}/messages") {
            out.body = "[]";
        } else if (key == "GET /channels/{channel_id}" || key == "PATCH /channels/{channel_id}") {
            const std::string_view name =
                detail::json_string_member(body, "name").value_or("general");
            out.body = R"({"id": ")" + std::to_string(major) + R"(", "type": 0, "name": ")" +
                       std::string{name} +
                       R"(", "guild_id": "1100000000000000002", "position": 0})";
        } else if (key == "POST /webhooks/{webhook_id}/{webhook_token}") {
            if (target.find("wait=true") != std::string_view::npos) {
                out.body = message_json(next_snowflake(), 0, body);
            } else {
                out.status = 204;
                out.body.clear();
            }
        } else if (key.starts_with("PATCH /webhooks/") || key.starts_with("GET /webhooks/")) {
            out.body = message_json(next_snowflake(), 0, body);
        }
    }

    /// The answer to a request that could not be read; the caller holds no lock.
    reply reject(int status)
    {
        const std::lock_guard lock{mutex_};
        log_entry entry;
        entry.status = status;
        entry.arrival = clock_type::now();
        remember(std::move(entry));
        switch (status) {
        case 413:
            ++rejections_.too_large;
            return error_reply(413, "Request entity too large", 40005);
        case 431:
            ++rejections_.too_large;
            return error_reply(431, "431: Request Header Fields Too Large", 0);
        default: ++rejections_.bad_request; return error_reply(400, "400: Bad Request", 0);
        }
    }

    std::chrono::milliseconds latency() const noexcept
    {
        return std::chrono::milliseconds{latency_ms_.load()};
    }

    // Destroyed last: handlers destroyed with the io_context may still reach them.
    options options_;
    mutable std::mutex mutex_; ///< guards discord_, log_, faults_, rejections_, skew_, sequence_
    discord_type discord_;
    std::deque<log_entry> log_;
    std::deque<pending_fault> faults_;
    rejection_counters rejections_{};
    std::chrono::milliseconds skew_{options_.skew};
    std::uint64_t sequence_ = 0;
    std::atomic<std::int64_t> latency_ms_{0};
    std::atomic<std::uint64_t> accepted_{0};
    std::uint16_t port_ = 0;
    std::unordered_set<session*> sessions_; ///< the server's thread only
    bool stopping_ = false;                 ///< the server's thread only
    bool accepting_ = false; ///< an accept (or its retry) is pending; the server's thread only

    boost::asio::io_context ioc_{1};
    tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_accept_;
    std::mutex stop_mutex_;
    std::thread thread_;
};

/// One connection: reads a request, decides it, waits the latency, writes the answer, and again
/// while the client keeps the connection alive. Lives on the server's thread.
class server::session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, server& owner)
        : socket_{std::move(socket)}
        , timer_{socket_.get_executor()}
        , deadline_{socket_.get_executor()}
        , owner_{owner}
        , buffer_{std::max<std::size_t>(owner.options_.read_buffer_limit,
                                        std::size_t{owner.options_.header_limit} + 1)}
    {
        owner_.sessions_.insert(this);
    }

    session(const session&) = delete;
    session& operator=(const session&) = delete;

    ~session() { owner_.sessions_.erase(this); }

    void start()
    {
        boost::system::error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);
        read();
    }

    /// Ends every operation of the connection: their handlers run with errors and let go.
    void close()
    {
        closed_ = true;
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        timer_.cancel();
        deadline_.cancel();
    }

private:
    /// Closes the connection unless it is re-armed within `timeout`. Always armed while the
    /// session waits on its client (a read, a write, the linger), so a handler that throws
    /// leaves a session that still ends.
    void arm(clock_type::duration timeout)
    {
        deadline_.expires_after(timeout);
        deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            // Not when cancelled, nor when re-armed after this wait had already completed.
            if (!ec && !self->closed_ &&
                self->deadline_.expiry() <= boost::asio::steady_timer::clock_type::now())
                self->close();
        });
    }

    void read()
    {
        parser_.emplace();
        parser_->body_limit(owner_.options_.body_limit);
        parser_->header_limit(owner_.options_.header_limit);
        arm(owner_.options_.read_timeout); // the whole request, not each read
        http::async_read(socket_, buffer_, *parser_,
                         [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

    void on_read(boost::beast::error_code ec)
    {
        if (closed_)
            return;
        if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
            close();
            return;
        }
        if (ec) {
            if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
                fail(413);
            else if (ec == http::error::header_limit)
                fail(431);
            else if (ec.category() == http::make_error_code(http::error::bad_target).category())
                fail(400);
            else
                close(); // reset, aborted...
            return;
        }
        const auto request = parser_->release();
        answer a = owner_.handle(request);
        fault_ = a.entry.injected_fault;
        respond(std::move(a.out), request.version(), request.keep_alive());
    }

    /// Answers a request that could not be read, then closes.
    void fail(int status)
    {
        fault_.reset();
        respond(owner_.reject(status), 11, false);
    }

    void respond(reply out, unsigned version, bool keep_alive)
    {
        response_ = {};
        const int status = out.status >= 100 && out.status <= 999 ? out.status : 500;
        response_.result(static_cast<unsigned>(status));
        response_.version(version);
        for (auto& [name, value] : out.headers)
            response_.insert(name, value);
        response_.body() = std::move(out.body);
        response_.keep_alive(keep_alive);
        if (status == 204 || status == 304 || status < 200)
            response_.body().clear(); // no body, no Content-Length
        else
            response_.prepare_payload();
        const auto delay = owner_.latency();
        if (delay <= std::chrono::milliseconds::zero()) {
            write();
            return;
        }
        arm(delay + owner_.options_.write_timeout);
        timer_.expires_after(delay);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->closed_)
                self->write();
        });
    }

    void write()
    {
        arm(owner_.options_.write_timeout);
        if (fault_) {
            write_faulty(*fault_);
            return;
        }
        http::async_write(socket_, response_,
                          [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
                              self->on_write(ec);
                          });
    }

    void on_write(boost::beast::error_code ec)
    {
        if (closed_)
            return;
        if (ec) {
            close();
            return;
        }
        if (response_.keep_alive()) {
            read();
            return;
        }
        // Half-close, then drain what the client still sends (an unread body would make the
        // kernel reset the connection, and the client could lose the answer) until it closes.
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        arm(owner_.options_.read_timeout);
        linger_left_ = owner_.options_.linger_limit;
        drain(true);
    }

    /// Inflicts an injected fault instead of writing the answer whole.
    void write_faulty(fault f)
    {
        fault_.reset();
        switch (f) {
        case fault::reset_before_response: reset(); return;
        case fault::stall: // reads until the client gives up (or the server stops), never answers
            deadline_.cancel();
            drain(false);
            return;
        case fault::reset_mid_response: break;
        }
        std::ostringstream serialized;
        serialized << response_;
        partial_ = std::move(serialized).str();
        const std::size_t header_end = partial_.find("\r\n\r\n");
        const std::size_t body_size = response_.body().size();
        // Headers and half the body; without a body, the status line and half the headers.
        partial_.resize(body_size >= 2 && header_end != std::string::npos
                            ? header_end + 4 + body_size / 2
                            : std::max<std::size_t>(1, std::min(partial_.size(), header_end) / 2));
        boost::asio::async_write(
            socket_, boost::asio::buffer(partial_),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                if (self->closed_)
                    return;
                if (ec)
                    self->close();
                else
                    self->reset();
            });
    }

    /// Closes abruptly: linger on with a zero timeout makes the kernel send RST, not FIN.
    void reset()
    {
        boost::system::error_code ignored;
        socket_.set_option(boost::asio::socket_base::linger(true, 0), ignored);
        closed_ = true;
        socket_.close(ignored);
        timer_.cancel();
        deadline_.cancel();
    }

    /// Reads and throws away what the client sends until it closes; when `limited`, closes
    /// first once more than `linger_left_` bytes came (the deadline bounds the time).
    void drain(bool limited)
    {
        socket_.async_read_some(
            boost::asio::buffer(scratch_),
            [self = shared_from_this(), limited](boost::system::error_code ec, std::size_t n) {
                if (self->closed_)
                    return;
                if (ec || (limited && n > self->linger_left_)) {
                    self->close();
                    return;
                }
                if (limited)
                    self->linger_left_ -= n;
                self->drain(limited);
            });
    }

    tcp::socket socket_;
    boost::asio::steady_timer timer_;    ///< the latency
    boost::asio::steady_timer deadline_; ///< read_timeout, write_timeout (see `arm`)
    server& owner_;
    /// Bounded (`options::read_buffer_limit`): a read that needs more fails with
    /// `http::error::buffer_overflow`.
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
    std::optional<fault> fault_; ///< the fault the answer being prepared gets
    std::string partial_;        ///< the bytes a `reset_mid_response` writes
    std::array<char, 4096> scratch_{};
    std::size_t linger_left_ = 0; ///< bytes the linger still throws away before it closes
    bool closed_ = false;
};

inline void server::start_session(tcp::socket socket)
{
    std::make_shared<session>(std::move(socket), *this)->start();
}

inline void server::shut_down()
{
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_accept_.cancel();
    // close() lets go of nothing synchronously, so the set does not change while we iterate.
    for (session* s : sessions_)
        s->close();
}

} // namespace fake_discord

#endif
