// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// A TLS server on loopback with a self-signed certificate made when it starts, naming "localhost"
// in its common name only or in a subject alternative name as well. Untrusted unless a test hands
// its client `certificate_pem()` (SSL_CERT_FILE, CURL_CA_BUNDLE): for the rules that a rejected
// certificate fails at once and that a certificate is checked against its subject alternative
// names only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace integration {

/// A TLS server on loopback that answers each request `200 {}` and closes. Its certificate is
/// self-signed for "localhost", in the subject's common name only or in a subject alternative
/// name as well; `certificate_pem()` is what a client must trust.
class tls_answer_server {
public:
    explicit tls_answer_server(bool with_subject_alt_name)
    {
        make_certificate(with_subject_alt_name);
        accept();
        thread_ = std::thread{[this] {
            io_.run();
        }};
    }
    tls_answer_server(const tls_answer_server&) = delete;
    tls_answer_server& operator=(const tls_answer_server&) = delete;
    ~tls_answer_server()
    {
        io_.stop();
        thread_.join();
    }

    std::uint16_t port() const noexcept { return port_; }
    const std::string& certificate_pem() const noexcept { return pem_; }
    /// Connections accepted, and requests answered after a handshake.
    int connections() const noexcept { return connections_.load(); }
    int requests() const noexcept { return requests_.load(); }

private:
    using tcp = boost::asio::ip::tcp;
    using tls_stream = boost::asio::ssl::stream<tcp::socket>;

    void make_certificate(bool with_subject_alt_name)
    {
        const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"),
                                                                      &EVP_PKEY_free};
        const std::unique_ptr<X509, decltype(&X509_free)> cert{X509_new(), &X509_free};
        if (!key || !cert)
            throw std::runtime_error{"cannot make a key and a certificate"};
        X509_set_version(cert.get(), 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), with_subject_alt_name ? 2 : 1);
        X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
        X509_set_pubkey(cert.get(), key.get());
        X509_NAME* name = X509_get_subject_name(cert.get());
        const unsigned char localhost[] = "localhost";
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, localhost, -1, -1, 0);
        X509_set_issuer_name(cert.get(), name);
        if (with_subject_alt_name) {
            X509V3_CTX ctx;
            X509V3_set_ctx_nodb(&ctx);
            X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
            X509_EXTENSION* san =
                X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
            if (san == nullptr || X509_add_ext(cert.get(), san, -1) != 1)
                throw std::runtime_error{"cannot add the subject alternative name"};
            X509_EXTENSION_free(san);
        }
        if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0 ||
            SSL_CTX_use_certificate(tls_.native_handle(), cert.get()) != 1 ||
            SSL_CTX_use_PrivateKey(tls_.native_handle(), key.get()) != 1)
            throw std::runtime_error{"cannot use the certificate"};
        const std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), &BIO_free};
        PEM_write_bio_X509(bio.get(), cert.get());
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        pem_.assign(data, static_cast<std::size_t>(size));
    }

    struct session : std::enable_shared_from_this<session> {
        tls_answer_server& server;
        tls_stream stream;
        boost::asio::streambuf in{64 * 1024};
        std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        session(tls_answer_server& s, tcp::socket socket)
            : server{s}
            , stream{std::move(socket), s.tls_}
        {
        }
        void start()
        {
            stream.async_handshake(boost::asio::ssl::stream_base::server,
                                   [self = shared_from_this()](boost::system::error_code ec) {
                                       if (!ec)
                                           self->read();
                                   });
        }
        void read()
        {
            // The request's head and its small body: enough to answer once it all came.
            boost::asio::async_read_until(
                stream, in, "}",
                [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                    if (ec)
                        return;
                    ++self->server.requests_;
                    boost::asio::async_write(self->stream, boost::asio::buffer(self->answer),
                                             [self](boost::system::error_code, std::size_t) {
                                                 boost::system::error_code ignored;
                                                 self->stream.lowest_layer().shutdown(
                                                     tcp::socket::shutdown_both, ignored);
                                             });
                });
        }
    };

    void accept()
    {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec)
                return;
            ++connections_;
            std::make_shared<session>(*this, std::move(socket))->start();
            accept();
        });
    }

    boost::asio::io_context io_;
    boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_server};
    tcp::acceptor acceptor_{io_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
    std::uint16_t port_ = acceptor_.local_endpoint().port();
    std::string pem_;
    std::atomic<int> connections_{0};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

} // namespace integration
