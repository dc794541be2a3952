// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// curl_threads: several threads send messages with libcurl's blocking easy interface and share one
// `drl::blocking_limiter`. Each request asks the limiter first (the thread blocks until Discord's
// rate limits let it go), then reports the response, and sends again when the limiter says retry.
//
// usage: curl_threads [--token TOKEN] [--threads N] [--count N] API_BASE CHANNEL_ID...
//        (API_BASE like https://discord.com/api; the token may come from DISCORD_TOKEN instead)
#include <discord_ratelimit/discord_ratelimit.hpp>

#include <curl/curl.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace drl = discord_ratelimit;

struct reply {
    long status = 0;
    std::vector<std::pair<std::string, std::string>> headers; // a header_source for the library
    std::string body;
};

// libcurl calls this once per header line: "Name: value\r\n".
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user)
{
    auto& r = *static_cast<reply*>(user);
    std::string_view line{data, size * count};
    if (line.starts_with("HTTP/"))
        r.headers.clear(); // a new response (after a redirect or "100 Continue")
    while (line.ends_with('\n') || line.ends_with('\r'))
        line.remove_suffix(1);
    if (const auto colon = line.find(':'); colon != line.npos) // the library trims the value
        r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user)
{
    static_cast<reply*>(user)->body.append(data, size * count);
    return size * count;
}

// What the library should know about a transfer that got no HTTP response.
drl::transport_error transport_error_of(CURLcode code)
{
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return drl::transport_error::timeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT: return drl::transport_error::connect_failed; // nothing was sent
    default: return drl::transport_error::network; // the request may have arrived
    }
}

// discord-ratelimit's protocol: acquire, send, complete; while it says retry, acquire and resend.
// `curl` is set up for the request. Returns an empty error code when the message was sent.
std::error_code send_message(drl::blocking_limiter<>& limiter, const drl::route& route, CURL* curl,
                             reply& res, std::stop_token stop)
{
    auto r = limiter.acquire(route, {}, stop); // blocks until the request may go (or a stop)
    while (r.granted()) {
        res = {};
        const CURLcode code = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
        const auto c = code != CURLE_OK ? limiter.complete(r.ticket, transport_error_of(code))
                                        : limiter.complete(r.ticket, static_cast<int>(res.status),
                                                           res.headers, res.body);
        if (c.status != drl::completion_status::retry)
            return c.error;            // empty when done
        r = limiter.acquire(r.ticket); // blocks until the retry may go
    }
    return r.error; // banned, retries_exhausted, ..., or operation_canceled: stopped, never sent
}

struct channel_result {
    std::string id;
    std::atomic<int> sent{0}, ok{0};
};

int main(int argc, char** argv)
{
    const char* env_token = std::getenv("DISCORD_TOKEN");
    std::string token = env_token ? env_token : "";
    int threads = 4, count = 20;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--threads" || arg == "--count") && i + 1 < argc) {
            const std::string_view n = argv[++i];
            int& out = arg == "--threads" ? threads : count;
            if (std::from_chars(n.data(), n.data() + n.size(), out).ptr != n.data() + n.size())
                out = 0;
        } else if (arg == "--token" && i + 1 < argc) {
            token = argv[++i];
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
    }
    if (channels.empty() || routes.size() != channels.size() || threads < 1 || count < 1 ||
        token.empty() ||
        !(positional[0].starts_with("http://") || positional[0].starts_with("https://"))) {
        std::fprintf(stderr, "usage: curl_threads [--token TOKEN] [--threads N] [--count N] "
                             "API_BASE CHANNEL_ID...\n"
                             "  API_BASE like https://discord.com/api; the token may come from "
                             "DISCORD_TOKEN\n");
        return 2;
    }
    const std::string api = positional[0] + (positional[0].ends_with('/') ? "v10" : "/v10");

    curl_global_init(CURL_GLOBAL_DEFAULT); // once, before any thread uses libcurl
    drl::blocking_limiter<> limiter;       // discord-ratelimit: one per bot token, for all threads
    std::stop_source stop;                 // ends the run early (and any thread blocked in acquire)
    const std::size_t total = channels.size() * static_cast<std::size_t>(count);
    std::atomic<std::size_t> next_work{0};

    auto worker = [&] {
        // Each thread owns its easy handle: reused, it keeps its connection alive.
        const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(),
                                                                       curl_easy_cleanup};
        const std::string auth = "Authorization: Bot " + token;
        curl_slist* fields = curl_slist_append(nullptr, auth.c_str());
        fields = curl_slist_append(fields, "Content-Type: application/json");
        fields = curl_slist_append(fields, "User-Agent: DiscordBot (discord-ratelimit, 0.1)");
        const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list{
            fields, curl_slist_free_all};
        reply res;
        curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, fields);
        curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &res);
        curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &res);
        curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L); // required with threads

        // Work item k: message k / channels + 1 to channel k % channels.
        for (auto k = next_work++; k < total && !stop.stop_requested(); k = next_work++) {
            auto& channel = channels[k % channels.size()];
            const std::string url = api + "/channels/" + channel.id + "/messages";
            const std::string json = R"({"content":"message )" +
                                     std::to_string(k / channels.size() + 1) + " of " +
                                     std::to_string(count) + R"("})";
            curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
            curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, json.c_str());

            const auto failure = send_message(limiter, routes[k % channels.size()], curl.get(), res,
                                              stop.get_token());
            if (failure == std::errc::operation_canceled)
                continue; // stopped before it was sent
            ++channel.sent;
            if (!failure) {
                ++channel.ok;
            } else {
                std::printf("channel %s: failed: %s\n", channel.id.c_str(),
                            failure.message().c_str());
                // A bad token, a ban or an unreachable server fail every other message too.
                if (failure == drl::error::unauthorized || failure == drl::error::banned ||
                    failure == drl::error::invalid_request_limit ||
                    failure == drl::error::retries_exhausted)
                    stop.request_stop();
            }
        }
    };
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back(worker);
    pool.clear(); // joins

    int sent = 0, ok = 0;
    for (const auto& c : channels) {
        std::printf("channel %s: sent %d, ok %d, failed %d\n", c.id.c_str(), c.sent.load(),
                    c.ok.load(), c.sent - c.ok);
        sent += c.sent;
        ok += c.ok;
    }
    std::printf("sent %d, ok %d, failed %d\n", sent, ok, sent - ok);
    curl_global_cleanup();
    return ok == static_cast<int>(total) ? 0 : 1;
}
