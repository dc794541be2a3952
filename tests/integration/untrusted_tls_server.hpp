// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// A TLS server on loopback whose certificate no client trusts: self-signed, made when it starts.
// It counts the connections it accepted and the requests that reached it through TLS.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>

namespace integration {

class untrusted_tls_server {
public:
    untrusted_tls_server()
    {
        use_self_signed_certificate();
        accept();
        thread_ = std::thread{[this] {
            io_.run();
        }};
    }
    untrusted_tls_server(const untrusted_tls_server&) = delete;
    untrusted_tls_server& operator=(const untrusted_tls_server&) = delete;
    ~untrusted_tls_server()
    {
        io_.stop();
        thread_.join();
    }

    std::uint16_t port() const noexcept { return port_; }
    /// Connections accepted: each one a client went on to a TLS handshake with.
    int connections() const noexcept { return connections_.load(); }
    /// Connections whose client finished the handshake and wrote a request.
    int requests() const noexcept { return requests_.load(); }

private:
    using tcp = boost::asio::ip::tcp;
    using tls_stream = boost::asio::ssl::stream<tcp::socket>;

    /// A fresh P-256 key and a certificate for "localhost" that it signs itself, valid for an hour.
    void use_self_signed_certificate()
    {
        const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"),
                                                                      &EVP_PKEY_free};
        const std::unique_ptr<X509, decltype(&X509_free)> cert{X509_new(), &X509_free};
        if (!key || !cert)
            throw std::runtime_error{"cannot make a key and a certificate"};
        X509_set_version(cert.get(), 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
        X509_set_pubkey(cert.get(), key.get());
        X509_NAME* name = X509_get_subject_name(cert.get());
        const unsigned char localhost[] = "localhost";
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, localhost, -1, -1, 0);
        X509_set_issuer_name(cert.get(), name);
        if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0 ||
            SSL_CTX_use_certificate(tls_.native_handle(), cert.get()) != 1 ||
            SSL_CTX_use_PrivateKey(tls_.native_handle(), key.get()) != 1)
            throw std::runtime_error{"cannot use the self-signed certificate"};
    }

    void accept()
    {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec)
                return;
            ++connections_;
            auto stream = std::make_shared<tls_stream>(std::move(socket), tls_);
            stream->async_handshake(
                boost::asio::ssl::stream_base::server,
                [this, stream](boost::system::error_code hs) {
                    if (hs)
                        return; // the client rejected the certificate: the expected end
                    auto buffer = std::make_shared<std::array<char, 1024>>();
                    stream->async_read_some(
                        boost::asio::buffer(*buffer),
                        [this, stream, buffer](boost::system::error_code rd, std::size_t n) {
                            if (!rd && n > 0)
                                ++requests_;
                        });
                });
            accept();
        });
    }

    boost::asio::io_context io_;
    boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_server};
    tcp::acceptor acceptor_{io_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
    std::uint16_t port_ = acceptor_.local_endpoint().port();
    std::atomic<int> connections_{0};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

} // namespace integration
