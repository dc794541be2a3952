// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// async_read_response against a server that misbehaves on purpose: Beast's in-memory test stream
// holds what the server sent, so every case is deterministic and needs no network.
#include <discord_ratelimit/asio/beast_read.hpp>

#include "catch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace drl = discord_ratelimit;

namespace {

using response = http::response<http::string_body>;

/// What one read did: its error, and the most the buffer held.
struct read_outcome {
    boost::system::error_code ec;
    std::size_t buffered = 0;
};

/// The server sent `wire` (then closed the connection when `close`): reads one response.
struct scripted_server {
    asio::io_context io;
    beast::test::stream client{io};
    beast::test::stream server{io};
    beast::flat_buffer buffer;

    explicit scripted_server(const std::string& wire, bool close = true)
    {
        client.connect(server);
        client.append(wire);
        if (close)
            server.close();
    }

    read_outcome read(response& res, const drl::response_limits& limits = {})
    {
        std::optional<boost::system::error_code> result;
        drl::async_read_response(client, buffer, res, limits,
                                 [&](boost::system::error_code ec) { result = ec; });
        io.restart();
        io.run();
        REQUIRE(result.has_value());
        return {*result, buffer.size()};
    }
};

const std::string final_200 = "HTTP/1.1 200 OK\r\n"
                              "X-RateLimit-Bucket: abcd1234\r\n"
                              "X-RateLimit-Remaining: 4\r\n"
                              "Content-Length: 13\r\n\r\n"
                              "{\"id\": \"42\"}\n";

} // namespace

TEST_CASE("rule 4: interim responses are skipped and the final one is read")
{
    scripted_server s{"HTTP/1.1 100 Continue\r\n\r\n"
                      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
                      final_200};
    response res;
    const auto outcome = s.read(res);
    REQUIRE_FALSE(outcome.ec);
    CHECK(res.result_int() == 200);
    CHECK(res["X-RateLimit-Bucket"] == "abcd1234");
    CHECK(res["X-RateLimit-Remaining"] == "4");
    CHECK(res.count("Link") == 0); // the interim response's fields are not the final one's
    CHECK(res.body() == "{\"id\": \"42\"}\n");
}

TEST_CASE("rule 4: responses on a kept-alive connection are read one after the other")
{
    scripted_server s{"HTTP/1.1 100 Continue\r\n\r\n" + final_200 + final_200};
    response first, second;
    REQUIRE_FALSE(s.read(first).ec);
    REQUIRE_FALSE(s.read(second).ec);
    CHECK(first.result_int() == 200);
    CHECK(second.result_int() == 200);
    CHECK(s.buffer.size() == 0);
}

TEST_CASE("rule 4: endless interim responses end the read")
{
    std::string wire;
    for (int i = 0; i < 100; ++i)
        wire += "HTTP/1.1 100 Continue\r\n\r\n";
    scripted_server s{wire + final_200};
    response res;
    CHECK(s.read(res).ec == http::error::bad_status);
    CHECK(res.result_int() == 200); // untouched: a default response
    CHECK(res.body().empty());
}

TEST_CASE("rule 4: 101 Switching Protocols is a final response")
{
    scripted_server s{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"};
    response res;
    REQUIRE_FALSE(s.read(res).ec);
    CHECK(res.result_int() == 101);
}

TEST_CASE("rule 1: a chunk extension that never ends is cut off at the buffered bound")
{
    // 4 MiB of one chunk-size line: Beast's parser alone keeps buffering it.
    const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=" +
                             std::string(4 << 20, 'a');
    scripted_server s{wire};
    response res;
    drl::response_limits limits;
    const auto outcome = s.read(res, limits);
    CHECK(outcome.ec == http::error::buffer_overflow);
    CHECK(outcome.buffered <= limits.buffered);
}

TEST_CASE("rule 1: a trailer that never ends is cut off at the buffered bound")
{
    const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "2\r\n{}\r\n0\r\nX-Trailer: " +
                             std::string(4 << 20, 'b');
    scripted_server s{wire};
    response res;
    drl::response_limits limits;
    limits.buffered = 16 * 1024;
    const auto outcome = s.read(res, limits);
    CHECK(outcome.ec == http::error::buffer_overflow);
    CHECK(outcome.buffered <= limits.buffered);
}

TEST_CASE("rule 1: a header that never ends fails at the header limit")
{
    const std::string wire = "HTTP/1.1 200 OK\r\nX-Endless: " + std::string(1 << 20, 'c');
    scripted_server s{wire};
    response res;
    const auto outcome = s.read(res);
    CHECK(outcome.ec == http::error::header_limit);
    CHECK(outcome.buffered <= 64 * 1024);
}

TEST_CASE("rule 1: a body over the limit fails, however it is framed")
{
    drl::response_limits limits;
    limits.body = 1024;
    SECTION("Content-Length")
    {
        scripted_server s{"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n" +
                          std::string(4096, 'x')};
        response res;
        CHECK(s.read(res, limits).ec == http::error::body_limit);
    }
    SECTION("one huge chunk")
    {
        scripted_server s{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n" +
                          std::string(4096, 'x')};
        response res;
        CHECK(s.read(res, limits).ec == http::error::body_limit);
    }
    SECTION("many small chunks")
    {
        std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 200; ++i)
            wire += "10\r\n0123456789abcdef\r\n";
        scripted_server s{wire};
        response res;
        CHECK(s.read(res, limits).ec == http::error::body_limit);
    }
    SECTION("until the connection closes")
    {
        scripted_server s{"HTTP/1.1 200 OK\r\n\r\n" + std::string(4096, 'x')};
        response res;
        CHECK(s.read(res, limits).ec == http::error::body_limit);
    }
    SECTION("a body within the limit is read")
    {
        scripted_server s{"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n" +
                          std::string(1024, 'x')};
        response res;
        REQUIRE_FALSE(s.read(res, limits).ec);
        CHECK(res.body().size() == 1024);
    }
}

TEST_CASE("rule 1: a truncated response fails with the stream's error")
{
    scripted_server s{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"};
    response res;
    CHECK(s.read(res).ec == http::error::partial_message);
}

TEST_CASE("rule 4: a response already buffered completes after the initiating function returns")
{
    scripted_server s{final_200 + final_200};
    response first;
    REQUIRE_FALSE(s.read(first).ec); // the second response stays in the buffer
    REQUIRE(s.buffer.size() != 0);
    response second;
    bool returned = false;
    bool completed_after_return = false;
    drl::async_read_response(s.client, s.buffer, second, [&](boost::system::error_code ec) {
        CHECK_FALSE(ec);
        completed_after_return = returned;
    });
    returned = true;
    s.io.restart();
    s.io.run();
    CHECK(completed_after_return);
    CHECK(second.result_int() == 200);
}
