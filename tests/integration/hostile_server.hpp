// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// A server on loopback that misbehaves on purpose: it reads each request (its head and its
// Content-Length body), then answers with a script: `head` once, then `repeat` again and again
// until `limit` bytes were written or the client went away. Bounded in time by its clients and by
// the destructor, which stops it. It counts what it accepted, read and wrote.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace integration {

class hostile_server {
public:
    struct script {
        std::string head;             ///< written once after each request
        std::string repeat;           ///< then written again and again, if not empty
        std::size_t limit = 1ULL << 34; ///< the most bytes written per connection
        bool close_after = false;     ///< close the connection after the answer (else read on)
    };

    explicit hostile_server(script s)
        : script_{std::move(s)}
    {
        accept();
        thread_ = std::thread{[this] { io_.run(); }};
    }
    hostile_server(const hostile_server&) = delete;
    hostile_server& operator=(const hostile_server&) = delete;
    ~hostile_server()
    {
        io_.stop();
        thread_.join();
    }

    std::uint16_t port() const noexcept { return port_; }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api"; }
    /// Requests read in full.
    std::size_t requests() const noexcept { return requests_.load(); }
    /// Bytes written, over every connection.
    std::size_t bytes_written() const noexcept { return written_.load(); }
    /// The request targets read, in order.
    std::vector<std::string> targets() const
    {
        std::lock_guard lock{mutex_};
        return targets_;
    }
    /// The request heads read (request line and header fields), in order.
    std::vector<std::string> request_heads() const
    {
        std::lock_guard lock{mutex_};
        return heads_;
    }

private:
    using tcp = boost::asio::ip::tcp;

    struct session : std::enable_shared_from_this<session> {
        hostile_server& server;
        tcp::socket socket;
        boost::asio::streambuf in{64 * 1024};
        std::string chunk;      // `repeat`, many times over, for fewer writes
        std::size_t sent = 0;   // on this connection

        session(hostile_server& s, tcp::socket sock)
            : server{s}
            , socket{std::move(sock)}
        {
            while (!server.script_.repeat.empty() && chunk.size() < 64 * 1024)
                chunk += server.script_.repeat;
        }

        void read_request()
        {
            boost::asio::async_read_until(
                socket, in, "\r\n\r\n",
                [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                    if (ec)
                        return;
                    self->read_body(n);
                });
        }

        void read_body(std::size_t head_size)
        {
            const std::string head{boost::asio::buffers_begin(in.data()),
                                   boost::asio::buffers_begin(in.data()) +
                                       static_cast<std::ptrdiff_t>(head_size)};
            in.consume(head_size);
            {
                std::lock_guard lock{server.mutex_};
                const auto space = head.find(' ');
                server.targets_.push_back(
                    head.substr(space + 1, head.find(' ', space + 1) - space - 1));
                server.heads_.push_back(head);
            }
            std::size_t length = 0;
            for (const auto* name : {"\r\nContent-Length:", "\r\ncontent-length:"})
                if (const auto at = head.find(name); at != head.npos) {
                    auto from = at + std::char_traits<char>::length(name);
                    while (from < head.size() && head[from] == ' ')
                        ++from;
                    std::from_chars(head.data() + from, head.data() + head.size(), length);
                }
            const auto buffered = std::min(length, in.size());
            in.consume(buffered);
            boost::asio::async_read(
                socket, in, boost::asio::transfer_exactly(length - buffered),
                [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                    if (ec)
                        return;
                    self->in.consume(self->in.size());
                    ++self->server.requests_;
                    self->write(self->server.script_.head, true);
                });
        }

        void write(const std::string& bytes, bool first)
        {
            const auto room = server.script_.limit - std::min(server.script_.limit, sent);
            const auto size = std::min(bytes.size(), room);
            if (size == 0 || (!first && bytes.empty()))
                return finish();
            boost::asio::async_write(
                socket, boost::asio::buffer(bytes.data(), size),
                [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                    self->sent += n;
                    self->server.written_ += n;
                    if (ec)
                        return;
                    if (!self->chunk.empty())
                        return self->write(self->chunk, false);
                    self->finish();
                });
        }

        void finish()
        {
            if (server.script_.close_after) {
                boost::system::error_code ignored;
                socket.shutdown(tcp::socket::shutdown_both, ignored);
                socket.close(ignored);
                return;
            }
            if (!chunk.empty() || sent >= server.script_.limit)
                return; // an endless answer that reached its limit: the connection closes
            read_request();
        }
    };

    void accept()
    {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec)
                return;
            ++accepted_;
            std::make_shared<session>(*this, std::move(socket))->read_request();
            accept();
        });
    }

    script script_;
    boost::asio::io_context io_;
    tcp::acceptor acceptor_{io_, {boost::asio::ip::address_v4::loopback(), 0}};
    std::uint16_t port_ = acceptor_.local_endpoint().port();
    std::atomic<std::size_t> accepted_{0}, requests_{0}, written_{0};
    mutable std::mutex mutex_;
    std::vector<std::string> targets_;
    std::vector<std::string> heads_;
    std::thread thread_;
};

} // namespace integration
