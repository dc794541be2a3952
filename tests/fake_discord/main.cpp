// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

/// @file
/// `fake-discord`: the fake Discord of the integration tests as a program, to try discord-bulk,
/// the examples or a bot by hand without a real token. Serves realistic rules on loopback until
/// SIGINT or SIGTERM, then prints what it saw.
///
///     fake-discord [--port P] [--global-limit N] [--latency-ms X] [--skew-s S]
///                  [--ban html|1015|json]

#include "fake_discord_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace {

constexpr std::string_view usage =
    "usage: fake-discord [--port P] [--global-limit N] [--latency-ms X] [--skew-s S]\n"
    "                    [--ban html|1015|json]\n"
    "Serves a fake Discord API on 127.0.0.1 (an ephemeral port unless --port) with realistic\n"
    "rate limits until SIGINT or SIGTERM. Point a bot's API base at the printed URL.\n"
    "  --port P          listen on port P\n"
    "  --global-limit N  requests per second per bot token (default 50)\n"
    "  --latency-ms X    delay each answer by X milliseconds\n"
    "  --skew-s S        Discord's clock runs S seconds (may be negative or fractional) ahead\n"
    "                    of this machine's: shifts X-RateLimit-Reset, not Reset-After\n"
    "  --ban PAGE        start banned: every request gets a 429 with Cloudflare's HTML page,\n"
    "                    'error code: 1015' or Discord's JSON ban notice\n";

template <class Integer>
std::optional<Integer> parse_integer(std::string_view text)
{
    Integer value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

/// Seconds with up to three decimals ("-1.5", "40", "0.25") as milliseconds.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text)
{
    const bool negative = text.starts_with('-');
    if (negative)
        text.remove_prefix(1);
    const std::size_t dot = text.find('.');
    const auto whole = parse_integer<std::int64_t>(text.substr(0, dot));
    if (!whole || *whole > 1'000'000'000)
        return std::nullopt;
    std::int64_t ms = *whole * 1000;
    if (dot != std::string_view::npos) {
        const std::string_view fraction = text.substr(dot + 1);
        if (fraction.empty() || fraction.size() > 3)
            return std::nullopt;
        const auto digits = parse_integer<std::int64_t>(fraction);
        if (!digits)
            return std::nullopt;
        std::int64_t scaled = *digits;
        for (std::size_t i = fraction.size(); i < 3; ++i)
            scaled *= 10;
        ms += scaled;
    }
    return std::chrono::milliseconds{negative ? -ms : ms};
}

std::optional<fake_discord::ban_page> parse_ban(std::string_view text)
{
    if (text == "html")
        return fake_discord::ban_page::html;
    if (text == "1015")
        return fake_discord::ban_page::error_1015;
    if (text == "json")
        return fake_discord::ban_page::json;
    return std::nullopt;
}

int bad_usage(std::string_view why)
{
    std::fprintf(stderr, "fake-discord: %.*s\n%.*s", static_cast<int>(why.size()), why.data(),
                 static_cast<int>(usage.size()), usage.data());
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    fake_discord::options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(std::string{usage}.c_str(), stdout);
            return 0;
        }
        if (i + 1 >= argc)
            return bad_usage("missing value or unknown option: " + std::string{arg});
        const std::string_view value = argv[++i];
        if (arg == "--port") {
            const auto port = parse_integer<std::uint16_t>(value);
            if (!port)
                return bad_usage("--port needs a number from 0 to 65535");
            options.port = *port;
        } else if (arg == "--global-limit") {
            const auto limit = parse_integer<std::uint32_t>(value);
            if (!limit || *limit == 0)
                return bad_usage("--global-limit needs a positive number");
            options.discord.global_limit = *limit;
        } else if (arg == "--latency-ms") {
            const auto latency = parse_integer<std::uint32_t>(value);
            if (!latency)
                return bad_usage("--latency-ms needs a number of milliseconds");
            options.latency = std::chrono::milliseconds{*latency};
        } else if (arg == "--skew-s") {
            const auto skew = parse_seconds(value);
            if (!skew)
                return bad_usage("--skew-s needs seconds, like 40, -1.5 or 0.25");
            options.skew = *skew;
        } else if (arg == "--ban") {
            const auto page = parse_ban(value);
            if (!page)
                return bad_usage("--ban needs html, 1015 or json");
            options.ban = page;
        } else {
            return bad_usage("unknown option: " + std::string{arg});
        }
    }

    try {
        fake_discord::server server{options};
        boost::asio::io_context signals_context{1};
        boost::asio::signal_set signals{signals_context, SIGINT, SIGTERM};
        signals.async_wait([](const boost::system::error_code&, int) {});
        std::printf("%s\n", server.base_url().c_str());
        std::fflush(stdout);
        signals_context.run(); // until the first signal
        server.stop();

        const auto seen = server.counters();
        const auto rejected = server.rejections();
        std::fprintf(stderr,
                     "fake-discord: %llu requests, %llu ok, %llu user 429, %llu global 429, "
                     "%llu shared 429, %llu sub-limit 429, %llu banned, %llu exempt; "
                     "%llu connections; rejected: %llu 401, %llu 404, %llu 405, %llu 413/431, "
                     "%llu 400\n",
                     static_cast<unsigned long long>(seen.requests),
                     static_cast<unsigned long long>(seen.ok),
                     static_cast<unsigned long long>(seen.user_429),
                     static_cast<unsigned long long>(seen.global_429),
                     static_cast<unsigned long long>(seen.shared_429),
                     static_cast<unsigned long long>(seen.sub_limit_429),
                     static_cast<unsigned long long>(seen.banned),
                     static_cast<unsigned long long>(seen.exempt),
                     static_cast<unsigned long long>(server.connections_accepted()),
                     static_cast<unsigned long long>(rejected.unauthorized),
                     static_cast<unsigned long long>(rejected.not_found),
                     static_cast<unsigned long long>(rejected.method_not_allowed),
                     static_cast<unsigned long long>(rejected.too_large),
                     static_cast<unsigned long long>(rejected.bad_request));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fake-discord: %s\n", e.what());
        return 1;
    }
}
