// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// The fake Discord against a hostile client: a request whose header, chunk extension, trailer or
// body never ends, a client that sends nothing or trickles a request, one that pipelines requests
// without reading the answers, more connections than the server serves. Each is cut off after a
// bounded number of bytes or a bounded time, and a normal client is served afterwards.
//
// The limits and timeouts are small so every test takes well under a second when the server
// behaves; every socket operation runs under a deadline, so a server that does not cut a client
// off fails the test instead of hanging it. Memory is measured as the bytes the client managed to
// send before the server closed the connection, not as the server's RSS.

#include "fake_discord_server.hpp"
#include "http_client.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include "catch.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace fd = fake_discord;
using tcp = boost::asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

/// Bytes a client can push into the kernel's socket buffers on loopback (its send buffer, the
/// server's receive buffer, which autotuning grows, and what is in flight) before it learns that
/// the server closed: the margin over the server's own bounds (about 100-180 KiB measured).
constexpr std::size_t kernel_margin = 1024 * 1024;
/// What a client that pipelines requests without reading can send before the server's write
/// timeout cuts it off: requests whose answers the kernel buffered (the server's send buffer grows
/// to 4 MiB, `net.ipv4.tcp_wmem`), each request smaller than its answer (about 1.4 MB measured).
constexpr std::size_t pipelining_margin = 4 * 1024 * 1024;
/// Where a flood stops when the server never cuts it off: far over every bound plus the margin.
constexpr std::size_t flood_cap = 64 * 1024 * 1024;
/// How long a hostile client tries before the test gives up on the server cutting it off.
constexpr auto flood_deadline = 3s;

/// Small limits, and timeouts so long that a cut-off within `flood_deadline` is the limits' doing.
fd::options size_limited()
{
    fd::options o;
    o.header_limit = 4 * 1024;
    o.body_limit = 16 * 1024;
    o.read_buffer_limit = 8 * 1024;
    o.linger_limit = 16 * 1024;
    o.read_timeout = 10s;
    o.write_timeout = 10s;
    return o;
}

/// Short timeouts for the tests of time.
fd::options time_limited()
{
    fd::options o = size_limited();
    o.read_timeout = 200ms;
    o.write_timeout = 200ms;
    return o;
}

/// What a hostile client managed before the server cut it off (or the deadline passed).
struct outcome {
    std::size_t sent = 0;         ///< bytes the kernel took from the client before a write failed
    bool cut_off = false;         ///< a write failed: the server closed the connection
    bool closed = false;          ///< reading got end of stream or an error
    bool deadline_passed = false; ///< the deadline passed first
    std::string answer;           ///< what the server wrote
    steady::duration elapsed{};   ///< from the start until the server closed (or the deadline)
};

/// The status of the first answer in `text` ("HTTP/1.1 431 ..."), 0 when there is none.
int status_of(std::string_view text)
{
    if (text.size() < 12 || !text.starts_with("HTTP/1.1 "))
        return 0;
    return (text[9] - '0') * 100 + (text[10] - '0') * 10 + (text[11] - '0');
}

/// A raw TCP client on loopback. Every operation runs the client's io_context for at most a
/// deadline.
class raw_client {
public:
    /// Connects; a small send buffer keeps what the kernel holds for it small.
    explicit raw_client(std::uint16_t port, std::optional<int> receive_buffer = std::nullopt)
        : socket_{ioc_}
    {
        socket_.open(tcp::v4());
        socket_.set_option(boost::asio::socket_base::send_buffer_size(16 * 1024));
        if (receive_buffer)
            socket_.set_option(boost::asio::socket_base::receive_buffer_size(*receive_buffer));
        boost::system::error_code result = boost::asio::error::timed_out;
        socket_.async_connect({boost::asio::ip::make_address("127.0.0.1"), port},
                              [&](boost::system::error_code ec) { result = ec; });
        ioc_.run_for(2s);
        REQUIRE_FALSE(result);
        ioc_.restart();
    }

    /// Writes `prefix`, then what `next()` gives, again and again, until a write fails (the server
    /// cut the client off), `flood_cap` bytes were written or `deadline` passed; reads (unless
    /// `read` is false) what the server answers meanwhile. Returns when the server closed the
    /// connection, or at the deadline.
    outcome flood(std::string prefix, const std::function<std::string()>& next, bool read = true,
                  steady::duration deadline = flood_deadline)
    {
        outcome out;
        const auto start = steady::now();
        std::string pending = std::move(prefix);
        std::function<void()> write_next = [&] {
            if (out.sent >= flood_cap)
                return;
            if (pending.empty())
                pending = next();
            boost::asio::async_write(socket_, boost::asio::buffer(pending),
                                     [&](boost::system::error_code ec, std::size_t n) {
                                         out.sent += n;
                                         if (ec) {
                                             out.cut_off = true;
                                             out.elapsed = steady::now() - start;
                                             return;
                                         }
                                         pending.clear();
                                         write_next();
                                     });
        };
        write_next();
        if (read)
            read_until_closed(out, start);
        run(out, deadline, [&] { return out.cut_off && (!read || out.closed); });
        return finish(out);
    }

    /// Writes `bytes`, one byte every `pause`, reading meanwhile, until the server closes the
    /// connection or `deadline` passes.
    outcome trickle(std::string bytes, steady::duration pause, steady::duration deadline)
    {
        outcome out;
        const auto start = steady::now();
        boost::asio::steady_timer timer{ioc_};
        std::size_t at = 0;
        std::function<void()> write_next = [&] {
            if (at >= bytes.size() || out.closed)
                return;
            boost::asio::async_write(socket_, boost::asio::buffer(&bytes[at], 1),
                                     [&](boost::system::error_code ec, std::size_t n) {
                                         out.sent += n;
                                         ++at;
                                         if (ec) {
                                             out.cut_off = true;
                                             return;
                                         }
                                         timer.expires_after(pause);
                                         timer.async_wait([&](boost::system::error_code wait_ec) {
                                             if (!wait_ec)
                                                 write_next();
                                         });
                                     });
        };
        write_next();
        read_until_closed(out, start);
        run(out, deadline, [&] { return out.closed; });
        timer.cancel();
        return finish(out);
    }

    /// Writes `bytes` whole.
    void send(std::string_view bytes)
    {
        boost::system::error_code result = boost::asio::error::timed_out;
        boost::asio::async_write(socket_, boost::asio::buffer(bytes.data(), bytes.size()),
                                 [&](boost::system::error_code ec, std::size_t) { result = ec; });
        ioc_.run_for(2s);
        ioc_.restart();
        REQUIRE_FALSE(result);
    }

    /// Reads until the server closes the connection or `deadline` passes.
    outcome wait_for_close(steady::duration deadline)
    {
        outcome out;
        const auto start = steady::now();
        read_until_closed(out, start);
        run(out, deadline, [&] { return out.closed; });
        return finish(out);
    }

private:
    void read_until_closed(outcome& out, steady::time_point start)
    {
        socket_.async_read_some(boost::asio::buffer(scratch_),
                                [this, &out, start](boost::system::error_code ec, std::size_t n) {
                                    out.answer.append(scratch_.data(), n);
                                    if (ec) {
                                        out.closed = true;
                                        if (!out.cut_off)
                                            out.elapsed = steady::now() - start;
                                        return;
                                    }
                                    read_until_closed(out, start);
                                });
    }

    /// Runs the io_context until `done()` or the deadline.
    template <class Done>
    void run(outcome& out, steady::duration deadline, Done done)
    {
        const auto until = steady::now() + deadline;
        while (!done() && steady::now() < until) {
            if (ioc_.run_one_until(until) == 0 && ioc_.stopped())
                break;
        }
        if (!done()) {
            out.deadline_passed = true;
            out.elapsed = deadline;
        }
    }

    /// The outcome as it stands; then cancels what is left and runs the handlers it aborts (so
    /// none outlives what it captured), which no longer change the result.
    outcome finish(const outcome& out)
    {
        outcome result = out;
        boost::system::error_code ignored;
        socket_.cancel(ignored);
        ioc_.restart();
        ioc_.run_for(1s);
        ioc_.restart();
        return result;
    }

    boost::asio::io_context ioc_;
    tcp::socket socket_;
    std::array<char, 16 * 1024> scratch_{};
};

/// A normal client still gets a normal answer.
void check_normal_client(const fd::server& server)
{
    fd::http_client client{server.port(), "127.0.0.1", 2s};
    const auto res = client.request("GET", "/api/v10/channels/1", "normal-token");
    CHECK(res.result_int() == 200);
}

std::function<std::string()> repeat(std::string piece)
{
    return [piece = std::move(piece)] {
        return piece;
    };
}

/// `n` bytes of 'a'.
std::string filler(std::size_t n = 16 * 1024)
{
    return std::string(n, 'a');
}

void check_cut_off(const outcome& out, std::size_t bound, int status)
{
    INFO("sent " << out.sent << " bytes; bound " << bound << " + margin " << kernel_margin
                 << "; answer: " << out.answer.substr(0, 40));
    CHECK_FALSE(out.deadline_passed);
    CHECK(out.cut_off);
    CHECK(out.sent <= bound + kernel_margin);
    // The answer may be lost to the reset that ends the connection; if it came, it is the error.
    if (!out.answer.empty())
        CHECK(status_of(out.answer) == status);
}

constexpr std::string_view post_head = "POST /api/v10/channels/1/messages HTTP/1.1\r\nHost: x\r\n"
                                       "Authorization: Bot hostile\r\n";

} // namespace

TEST_CASE("rule 1: fake Discord cuts off a header that never ends", "[fake_discord][hostile]")
{
    const auto options = size_limited();
    fd::server server{options};
    raw_client client{server.port()};
    const auto out =
        client.flood("GET /api/v10/channels/1 HTTP/1.1\r\nHost: x\r\nX-Filler: ", repeat(filler()));
    check_cut_off(out, options.header_limit + options.linger_limit, 431);
    CHECK(server.rejections().too_large == 1);
    check_normal_client(server);
}

TEST_CASE("rule 1: fake Discord cuts off a chunk extension that never ends",
          "[fake_discord][hostile]")
{
    const auto options = size_limited();
    fd::server server{options};
    raw_client client{server.port()};
    const auto out = client.flood(std::string{post_head} + "Transfer-Encoding: chunked\r\n\r\n1;x=",
                                  repeat(filler()));
    check_cut_off(out, options.read_buffer_limit + options.linger_limit, 413);
    check_normal_client(server);
}

TEST_CASE("rule 1: fake Discord cuts off a trailer that never ends", "[fake_discord][hostile]")
{
    const auto options = size_limited();
    fd::server server{options};
    raw_client client{server.port()};
    std::string fields;
    while (fields.size() < 16 * 1024)
        fields += "X-Trailer: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    const auto out = client.flood(
        std::string{post_head} + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n", repeat(fields));
    check_cut_off(out, options.read_buffer_limit + options.linger_limit, 413);
    check_normal_client(server);
}

TEST_CASE("rule 1: fake Discord cuts off a body that never ends", "[fake_discord][hostile]")
{
    const auto options = size_limited();
    fd::server server{options};

    SECTION("a huge Content-Length: 413 at once")
    {
        raw_client client{server.port()};
        const auto out = client.flood(
            std::string{post_head} + "Content-Length: 1000000000000\r\n\r\n", repeat(filler()));
        check_cut_off(out, options.linger_limit, 413);
    }
    SECTION("chunks that never end: 413 once they pass the body limit")
    {
        raw_client client{server.port()};
        const auto out = client.flood(std::string{post_head} + "Transfer-Encoding: chunked\r\n\r\n",
                                      repeat("4000\r\n" + filler() + "\r\n"));
        check_cut_off(out, options.body_limit + options.linger_limit, 413);
    }
    CHECK(server.rejections().too_large == 1);
    check_normal_client(server);
}

TEST_CASE("rule 1: fake Discord closes a connection that sends nothing, or trickles a request",
          "[fake_discord][hostile]")
{
    const auto options = time_limited();
    fd::server server{options};

    SECTION("connected, silent")
    {
        raw_client client{server.port()};
        const auto out = client.wait_for_close(3s);
        CHECK(out.closed);
        CHECK(out.answer.empty());
        CHECK(out.elapsed < options.read_timeout + 1s);
    }
    SECTION("idle after an answer on a keep-alive connection")
    {
        raw_client client{server.port()};
        client.send("GET /api/v10/channels/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bot t\r\n\r\n");
        const auto out = client.wait_for_close(3s);
        CHECK(out.closed);
        CHECK(status_of(out.answer) == 200);
        CHECK(out.elapsed < options.read_timeout + 1s);
    }
    SECTION("slowloris: a byte every 20 ms, each well within the timeout, the request never whole")
    {
        raw_client client{server.port()};
        std::string request =
            "GET /api/v10/channels/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bot t\r\nX-Slow: ";
        request += std::string(200, 'a') + "\r\n\r\n"; // 200 ms at least: 13 timeouts over
        const auto out = client.trickle(request, 20ms, 3s);
        INFO("sent " << out.sent << " of " << request.size() << " bytes");
        CHECK(out.closed);
        CHECK(out.answer.empty());
        CHECK(out.elapsed < options.read_timeout + 1s);
        CHECK(out.sent < request.size());
    }
    check_normal_client(server);
}

TEST_CASE("rule 1: fake Discord cuts off a client that pipelines requests without reading",
          "[fake_discord][hostile]")
{
    const auto options = time_limited();
    fd::server server{options};
    raw_client client{server.port(), 16 * 1024};
    std::string requests;
    while (requests.size() < 16 * 1024)
        requests += "GET /api/v10/channels/2 HTTP/1.1\r\nHost: x\r\n\r\n"; // 401s, never counted
    // The server answers as fast as it can until the kernel's buffers are full of answers (0.5 s
    // here, several seconds under ThreadSanitizer); then its write times out.
    const auto out = client.flood({}, repeat(requests), false, 10s);
    INFO("sent " << out.sent << " bytes in " << std::chrono::duration<double>(out.elapsed).count()
                 << " s");
    CHECK_FALSE(out.deadline_passed);
    CHECK(out.cut_off);
    CHECK(out.sent <= pipelining_margin);
    check_normal_client(server);
}

TEST_CASE("rule 1: fake Discord closes connections over max_sessions at once",
          "[fake_discord][hostile]")
{
    auto options = size_limited();
    options.max_sessions = 4;
    fd::server server{options};
    std::vector<std::unique_ptr<raw_client>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::make_unique<raw_client>(server.port()));
        held.back()->send("G"); // a request begun, never finished
    }
    raw_client excess{server.port()};
    const auto out = excess.wait_for_close(2s);
    CHECK(out.closed);
    CHECK(out.answer.empty());
    CHECK(out.elapsed < 1s);

    // Once a session ends, a normal client is served again.
    held.clear();
    for (int attempt = 0; attempt < 100; ++attempt) {
        try {
            fd::http_client client{server.port(), "127.0.0.1", 2s};
            if (client.request("GET", "/api/v10/channels/1", "normal-token").result_int() == 200)
                break;
        } catch (const boost::system::system_error&) {
            // closed as excess: the server has not seen the others go yet
        }
        std::this_thread::sleep_for(10ms);
    }
    check_normal_client(server);
}
