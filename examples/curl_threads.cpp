// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// curl_threads: several threads send messages with libcurl's blocking easy interface and share one
// `drl::blocking_limiter`. Each request asks the limiter first (the thread blocks until Discord's
// rate limits let it go), then reports the response, and sends again when the limiter says retry.
//
// usage: curl_threads [--threads N] [--count N] [--token-file PATH] [--insecure-http]
//                     API_BASE CHANNEL_ID...
//   API_BASE like https://discord.com/api. The token comes from DISCORD_TOKEN, or from the first
//   line of PATH with --token-file (- for standard input); never from the command line, which
//   every local user can read (--token is refused). http:// is refused but to this machine,
//   unless --insecure-http. CURL_CA_BUNDLE=FILE trusts the certificates in FILE instead of the
//   system's.
//
// On a network it does not trust, every transfer is bounded: 10 s to connect (name resolution and
// the TLS handshake included), 30 s in all, aborted when slower than 1 KiB/s for 10 s. A response
// may have a header of at most 16 KiB and 128 lines, come after at most 8 interim (1xx) responses
// (each bounded the same), and have a body of at most 8 MiB. A larger one fails its request,
// reported as "response too large"; the request may have arrived, so it is not sent again. The
// server's certificate must name the host in its subject alternative names (the common name is
// not read), and redirects are not followed. Exit status: 0 when every message was sent, 1 when
// one failed (or a thread failed), 2 for a usage error.
#include <discord_ratelimit/discord_ratelimit.hpp>

#include "common/safe_client.hpp"

#include <curl/curl.h>
#include <openssl/ssl.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace drl = discord_ratelimit;

// What one response may make a thread hold: the defaults of `discord_ratelimit::response_limits`
// (asio/beast_read.hpp), which the Beast programs use.
constexpr std::size_t max_header_bytes = 16 * 1024; // per response, status line included
constexpr std::size_t max_header_lines = 128;       // per response
constexpr unsigned max_interim_responses = 8;       // 1xx before the final response
constexpr std::size_t max_body_bytes = 8 * 1024 * 1024;
constexpr int max_threads = 64;

struct reply {
    long status = 0;
    std::vector<std::pair<std::string, std::string>> headers; // a header_source for the library
    std::string body;
    std::size_t header_bytes = 0; // of the current response
    unsigned responses = 0;       // status lines seen: the interim responses and the final one
    CURLcode code = CURLE_OK;     // of the transfer
    /// Why the response was refused (a string literal), or null. A refused response fails its
    /// transfer: the callback returns a short count and libcurl ends with CURLE_WRITE_ERROR.
    const char* refused = nullptr;
};

std::size_t refuse(reply& r, const char* why) noexcept
{
    r.refused = why;
    return 0; // less than libcurl gave: it fails the transfer
}

// libcurl calls this once per header line: "Name: value\r\n", the status line of each response
// (interim ones too) first and an empty line last; then the trailer's lines, if any. It must not
// throw: an exception must never cross libcurl's C frames.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept
{
    auto& r = *static_cast<reply*>(user);
    const std::size_t n = size * count;
    std::string_view line{data, n};
    if (line.starts_with("HTTP/")) {
        // A new response: after "100 Continue" or "103 Early Hints" comes the final one, whose
        // headers alone the limiter must see.
        if (++r.responses > max_interim_responses + 1)
            return refuse(r, "response too large: more than 8 interim (1xx) responses");
        r.headers.clear();
        r.header_bytes = 0;
    }
    r.header_bytes += n;
    if (r.header_bytes > max_header_bytes)
        return refuse(r, "response too large: its header is over 16 KiB");
    while (line.ends_with('\n') || line.ends_with('\r'))
        line.remove_suffix(1);
    if (const auto colon = line.find(':'); colon != line.npos) { // the library trims the value
        if (r.headers.size() == max_header_lines)
            return refuse(r, "response too large: its header has over 128 lines");
        try {
            r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
        } catch (...) { // std::bad_alloc
            return refuse(r, "out of memory while reading the response's header");
        }
    }
    return n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept
{
    auto& r = *static_cast<reply*>(user);
    const std::size_t n = size * count;
    if (n > max_body_bytes - r.body.size())
        return refuse(r, "response too large: its body is over 8 MiB");
    try {
        r.body.append(data, n);
    } catch (...) { // std::bad_alloc
        return refuse(r, "out of memory while reading the response's body");
    }
    return n;
}

// Installed as CURLOPT_SSL_CTX_FUNCTION (OpenSSL): before each handshake, makes OpenSSL require the
// host in the certificate's subject alternative names. libcurl's own check would fall back to the
// common name of a certificate without any DNS name.
CURLcode require_subject_alt_name(CURL*, void* ssl_ctx, void* host) noexcept
{
    try {
        return safe_client::require_host_in_subject_alt_names(
                   SSL_CTX_get0_param(static_cast<SSL_CTX*>(ssl_ctx)),
                   *static_cast<const std::string*>(host))
                   ? CURLE_OK
                   : CURLE_SSL_CERTPROBLEM;
    } catch (...) { // std::bad_alloc
        return CURLE_OUT_OF_MEMORY;
    }
}

// The server's certificate was refused: nothing was sent, and sending again cannot help.
bool certificate_refused(CURLcode code)
{
    return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CERTPROBLEM ||
           code == CURLE_SSL_ISSUER_ERROR || code == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

// What the library should know about a transfer that ended without a response it could read.
drl::transport_error transport_error_of(const reply& r)
{
    if (r.refused != nullptr)
        return drl::transport_error::network; // the request was sent: it may have arrived
    switch (r.code) {
    case CURLE_OPERATION_TIMEDOUT: return drl::transport_error::timeout; // may have arrived
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR: // the handshake failed: before the request
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return drl::transport_error::connect_failed; // not sent
    default: return drl::transport_error::network; // the request may have arrived
    }
}

// discord-ratelimit's protocol: acquire, send, complete; while it says retry, acquire and resend.
// `curl` is set up for the request. Returns an empty error code when the message was sent; `res`
// holds the last attempt.
std::error_code send_message(drl::blocking_limiter<>& limiter, const drl::route& route, CURL* curl,
                             reply& res, std::stop_token stop)
{
    auto r = limiter.acquire(route, {}, stop); // blocks until the request may go (or a stop)
    while (r.granted()) {
        res = {};
        res.code = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
        if (res.code == CURLE_FILESIZE_EXCEEDED) // CURLOPT_MAXFILESIZE_LARGE: by Content-Length
            res.refused = "response too large: its Content-Length is over 8 MiB";
        if (certificate_refused(res.code)) {
            limiter.cancel(r.ticket); // nothing was sent: the attempt gives its capacity back
            return drl::error::certificate_rejected;
        }
        const auto c =
            res.code != CURLE_OK || res.refused != nullptr
                ? limiter.complete(r.ticket, transport_error_of(res))
                : limiter.complete(r.ticket, static_cast<int>(res.status), res.headers, res.body);
        if (c.status != drl::completion_status::retry)
            return c.error;            // empty when done
        r = limiter.acquire(r.ticket); // blocks until the retry may go
    }
    return r.error; // banned, retries_exhausted, ..., or operation_canceled: stopped, never sent
}

// Why a message failed, for the report: never the token, nor a path unredacted.
std::string failure_reason(std::error_code failure, const reply& res, const char* curl_error)
{
    if (failure == drl::error::certificate_rejected)
        return "the server's certificate was refused: it must be trusted and name the host in its "
               "subject alternative names (" +
               std::string{*curl_error ? curl_error : curl_easy_strerror(res.code)} + ")";
    if (res.refused != nullptr)
        return std::string{res.refused} + " (" + failure.message() + ")";
    if (res.code != CURLE_OK)
        return failure.message() + " (" + curl_easy_strerror(res.code) + ")";
    return failure.message();
}

struct channel_result {
    std::string id;
    std::atomic<int> sent{0}, ok{0};
};

constexpr const char* usage =
    "usage: curl_threads [--threads N] [--count N] [--token-file PATH] [--insecure-http]\n"
    "                    API_BASE CHANNEL_ID...\n"
    "  Sends N messages (--count, 20) to each channel from N threads (--threads, 4, at most 64).\n"
    "  API_BASE like https://discord.com/api.\n"
    "  The bot token comes from DISCORD_TOKEN, or from the first line of PATH with --token-file\n"
    "  (- for standard input). Never from the command line: every local user can read a\n"
    "  program's command line (ps, /proc/PID/cmdline), so --token is refused.\n"
    "  http:// sends the token in clear text: refused but to this machine, unless "
    "--insecure-http.\n"
    "  The server's certificate must name the host in its subject alternative names.\n"
    "  CURL_CA_BUNDLE=FILE trusts the certificates in FILE instead of the system's.\n";

int usage_error(const char* why = nullptr)
{
    if (why != nullptr)
        std::fprintf(stderr, "curl_threads: %s\n", why);
    std::fputs(usage, stderr);
    return 2;
}

// Frees a string that libcurl allocated.
struct curl_string_free {
    void operator()(char* s) const noexcept { curl_free(s); }
};
using curl_string = std::unique_ptr<char, curl_string_free>;

int run(int argc, char** argv)
{
    int threads = 4, count = 20;
    bool insecure_http = false;
    std::string token_file;
    bool token_file_given = false;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (arg == "--token" || arg.starts_with("--token=")) {
            // Said before anything else is checked, and without the token.
            std::fprintf(stderr, "curl_threads: %.*s\n",
                         static_cast<int>(safe_client::token_on_command_line.size()),
                         safe_client::token_on_command_line.data());
            return 2;
        }
        if ((arg == "--threads" || arg == "--count") && i + 1 < argc) {
            const std::string_view n = argv[++i];
            int& out = arg == "--threads" ? threads : count;
            if (std::from_chars(n.data(), n.data() + n.size(), out).ptr != n.data() + n.size())
                out = 0;
        } else if (arg == "--token-file" && i + 1 < argc) {
            token_file = argv[++i];
            token_file_given = true;
        } else if (arg == "--insecure-http") {
            insecure_http = true;
        } else if (arg.starts_with("-") && arg != "-") {
            return usage_error("unknown option (or its value is missing)");
        } else {
            positional.emplace_back(arg);
        }
    }
    std::vector<channel_result> channels(positional.empty() ? 0 : positional.size() - 1);
    std::vector<drl::route> routes;
    for (std::size_t c = 0; c < channels.size(); ++c) {
        channels[c].id = positional[c + 1];
        // discord-ratelimit: the route of each channel's messages (bucket key, major parameter).
        if (const auto r = drl::parse_route("POST", "/channels/" + channels[c].id + "/messages"))
            routes.push_back(r.value);
        else
            return usage_error("a CHANNEL_ID is not a snowflake");
    }
    if (channels.empty() || threads < 1 || threads > max_threads || count < 1)
        return usage_error();

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { // once, before any thread uses it
        std::fprintf(stderr, "curl_threads: libcurl failed to start\n");
        return 1;
    }
    struct global_cleanup {
        ~global_cleanup() { curl_global_cleanup(); } // after every thread and handle is gone
    } const cleanup;

    // The API base: its scheme decides what may carry the token, its host what the certificate
    // must name.
    const std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> base{curl_url(), curl_url_cleanup};
    char* scheme_part = nullptr;
    char* host_part = nullptr;
    if (!base || curl_url_set(base.get(), CURLUPART_URL, positional[0].c_str(), 0) != CURLUE_OK ||
        curl_url_get(base.get(), CURLUPART_SCHEME, &scheme_part, 0) != CURLUE_OK ||
        curl_url_get(base.get(), CURLUPART_HOST, &host_part, 0) != CURLUE_OK) {
        curl_free(scheme_part);
        curl_free(host_part);
        return usage_error("API_BASE is not a URL");
    }
    const curl_string scheme_owner{scheme_part}, host_owner{host_part};
    const std::string scheme = scheme_part;
    std::string host = host_part; // "[::1]" for an IPv6 address
    if (scheme != "https" && scheme != "http")
        return usage_error("API_BASE must start with https:// (or http://)");
    if (scheme == "http") {
        if (const auto refusal = safe_client::plain_http_refusal(host, insecure_http);
            !refusal.empty()) {
            std::fprintf(stderr, "curl_threads: %s\n", refusal.c_str());
            return 2;
        }
    } else if (const auto* v = curl_version_info(CURLVERSION_NOW);
               v->ssl_version == nullptr ||
               !std::string_view{v->ssl_version}.starts_with("OpenSSL")) {
        // The certificate check below is OpenSSL's: with another TLS library it cannot be done.
        std::fprintf(stderr,
                     "curl_threads: libcurl does not use OpenSSL (%s): cannot require the "
                     "host in the certificate's subject alternative names\n",
                     v->ssl_version ? v->ssl_version : "no TLS");
        return 1;
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (const auto* v = curl_version_info(CURLVERSION_NOW);
        (v->features & CURL_VERSION_ASYNCHDNS) == 0)
        std::fprintf(stderr, "curl_threads: warning: libcurl resolves names synchronously: with "
                             "threads (CURLOPT_NOSIGNAL) name resolution has no timeout\n");

    const auto token = safe_client::bot_token(token_file_given ? &token_file : nullptr);
    if (!token.error.empty()) {
        std::fprintf(stderr, "curl_threads: %s\n", token.error.c_str());
        return 2;
    }
    const char* ca_bundle = std::getenv("CURL_CA_BUNDLE");
    const std::string api = positional[0] + (positional[0].ends_with('/') ? "v10" : "/v10");

    drl::blocking_limiter<> limiter; // discord-ratelimit: one per bot token, for all threads
    std::stop_source stop;           // ends the run early (and any thread blocked in acquire)
    std::atomic<bool> thread_failed{false};
    const std::size_t total = channels.size() * static_cast<std::size_t>(count);
    std::atomic<std::size_t> next_work{0};

    auto work = [&] {
        // Each thread owns its easy handle: reused, it keeps its connection alive.
        const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(),
                                                                       curl_easy_cleanup};
        if (!curl)
            throw std::runtime_error{"libcurl cannot make a handle"};
        const std::string auth = "Authorization: Bot " + token.token;
        std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list{
            nullptr, curl_slist_free_all};
        for (const char* field : {auth.c_str(), "Content-Type: application/json",
                                  "User-Agent: DiscordBot (discord-ratelimit, 0.1)"}) {
            curl_slist* longer = curl_slist_append(header_list.get(), field);
            if (longer == nullptr)
                throw std::bad_alloc{};
            static_cast<void>(header_list.release());
            header_list.reset(longer);
        }
        reply res;
        char curl_error[CURL_ERROR_SIZE] = {};
        CURL* h = curl.get();
        const auto set = [h](CURLoption option, auto value) {
            if (curl_easy_setopt(h, option, value) != CURLE_OK)
                throw std::runtime_error{"libcurl refused an option this program needs"};
        };
        set(CURLOPT_HTTPHEADER, header_list.get());
        // The fields go to the server only, never to a proxy's CONNECT: the token neither.
        set(CURLOPT_HEADEROPT, static_cast<long>(CURLHEADER_SEPARATE));
        set(CURLOPT_HEADERFUNCTION, on_header);
        set(CURLOPT_HEADERDATA, &res);
        set(CURLOPT_WRITEFUNCTION, on_body);
        set(CURLOPT_WRITEDATA, &res);
        set(CURLOPT_ERRORBUFFER, curl_error);
        // A first cut: a Content-Length over the bound fails before the body is read.
        set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body_bytes));
        // The connect timeout covers name resolution, the TCP connect and the TLS handshake: it is
        // what gives name resolution a timeout (rule 7). libcurl's threaded resolver, Debian's,
        // honours it even with CURLOPT_NOSIGNAL; a synchronous one would not (warned above). The
        // timeout covers the whole transfer.
        set(CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
        set(CURLOPT_TIMEOUT_MS, 30'000L);
        set(CURLOPT_LOW_SPEED_LIMIT, 1024L); // bytes per second...
        set(CURLOPT_LOW_SPEED_TIME, 10L);    // ...for this many seconds: too slow, aborted
        set(CURLOPT_NOSIGNAL, 1L);           // required with threads
        // Only the API base's scheme, and no redirect: the token goes nowhere else.
        set(CURLOPT_PROTOCOLS_STR, scheme.c_str());
        set(CURLOPT_FOLLOWLOCATION, 0L);
        if (scheme == "https") {
            set(CURLOPT_SSL_VERIFYPEER, 1L);
            set(CURLOPT_SSL_VERIFYHOST, 2L);
            set(CURLOPT_SSL_CTX_FUNCTION, require_subject_alt_name);
            set(CURLOPT_SSL_CTX_DATA, &host);
            if (ca_bundle != nullptr && *ca_bundle != '\0')
                set(CURLOPT_CAINFO, ca_bundle);
        } else if (safe_client::is_loopback(host)) {
            set(CURLOPT_NOPROXY, "*"); // this machine, directly: not through a proxy in clear
        }

        // Work item k: message k / channels + 1 to channel k % channels.
        for (auto k = next_work++; k < total && !stop.stop_requested(); k = next_work++) {
            auto& channel = channels[k % channels.size()];
            const std::string path = "/channels/" + channel.id + "/messages";
            const std::string url = api + path;
            const std::string json = R"({"content":"message )" +
                                     std::to_string(k / channels.size() + 1) + " of " +
                                     std::to_string(count) + R"("})";
            set(CURLOPT_URL, url.c_str());
            set(CURLOPT_POSTFIELDS, json.c_str());

            curl_error[0] = '\0';
            const auto failure =
                send_message(limiter, routes[k % channels.size()], h, res, stop.get_token());
            if (failure == std::errc::operation_canceled)
                continue; // stopped before it was sent
            ++channel.sent;
            if (!failure) {
                ++channel.ok;
            } else {
                std::printf("channel %s: POST %s failed: %s\n", channel.id.c_str(),
                            drl::redact_path(path).c_str(),
                            failure_reason(failure, res, curl_error).c_str());
                // A bad token, a ban, an unreachable server or a certificate refused fail every
                // other message too.
                if (failure == drl::error::unauthorized || failure == drl::error::banned ||
                    failure == drl::error::invalid_request_limit ||
                    failure == drl::error::retries_exhausted ||
                    failure == drl::error::certificate_rejected)
                    stop.request_stop();
            }
            res = {}; // the response's memory goes back before the next one
        }
    };
    // No exception may leave a thread (std::terminate): each is reported, and the run fails.
    auto worker = [&]() noexcept {
        try {
            work();
            return;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "curl_threads: a thread failed: %s\n", e.what());
        } catch (...) {
            std::fprintf(stderr, "curl_threads: a thread failed\n");
        }
        thread_failed = true;
        stop.request_stop();
    };
    {
        std::vector<std::jthread> pool;
        try {
            pool.reserve(static_cast<std::size_t>(threads));
            for (int t = 0; t < threads; ++t)
                pool.emplace_back(worker);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "curl_threads: cannot start the threads: %s\n", e.what());
            thread_failed = true;
            stop.request_stop(); // the threads started end soon
        }
    } // joins

    int sent = 0, ok = 0;
    for (const auto& c : channels) {
        std::printf("channel %s: sent %d, ok %d, failed %d\n", c.id.c_str(), c.sent.load(),
                    c.ok.load(), c.sent - c.ok);
        sent += c.sent;
        ok += c.ok;
    }
    std::printf("sent %d, ok %d, failed %d\n", sent, ok, sent - ok);
    return !thread_failed && ok == static_cast<int>(total) ? 0 : 1;
}

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "curl_threads: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "curl_threads: failed\n");
    }
    return 1;
}
