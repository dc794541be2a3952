// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BENCH_INPUTS_HPP
#define DISCORD_RATELIMIT_BENCH_INPUTS_HPP

// The inputs the engine's and the baseline's benchmarks share, so that each pair measures the
// same work.

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

/// A user 429 as Discord sends it: lower-case names, in Discord's order, with the headers a
/// client receives besides the rate-limit ones.
inline const std::vector<std::pair<std::string, std::string>>& headers_429()
{
    static const std::vector<std::pair<std::string, std::string>> headers{
        {"date", "Sat, 29 Nov 2025 21:04:17 GMT"},
        {"content-type", "application/json"},
        {"content-length", "87"},
        {"connection", "keep-alive"},
        {"retry-after", "1"},
        {"x-ratelimit-bucket", "80c17d2f203122d936070c88c8d10f33"},
        {"x-ratelimit-limit", "5"},
        {"x-ratelimit-remaining", "0"},
        {"x-ratelimit-reset", "1764450257.640"},
        {"x-ratelimit-reset-after", "0.640"},
        {"x-ratelimit-scope", "user"},
        {"x-ratelimit-global", "false"},
        {"via", "1.1 google"},
        {"cf-cache-status", "DYNAMIC"},
        {"server", "cloudflare"},
        {"cf-ray", "8e9f7c6b5a4d3e2f-FRA"},
    };
    return headers;
}

inline constexpr std::string_view body_429 =
    R"({"message": "You are being rate limited.", "retry_after": 0.64, "global": false, )"
    R"("code": 0})";

struct request_line {
    std::string_view method;
    std::string_view path;
};

// Paths as a bot's HTTP code holds them: /api/v10 and full snowflakes.
inline constexpr std::array messages_requests{
    request_line{"POST", "/api/v10/channels/1100000000000000288/messages"},
};
// A URL-encoded unicode emoji and a custom emoji (name:id), alternately.
inline constexpr std::array reaction_requests{
    request_line{"PUT", "/api/v10/channels/1100000000000000288/messages/1200000000000000171/"
                        "reactions/%F0%9F%91%8D/@me"},
    request_line{"PUT", "/api/v10/channels/1100000000000000288/messages/1200000000000000171/"
                        "reactions/blobwave:1300000000000000042/@me"},
};
inline constexpr std::array webhook_requests{
    request_line{"POST", "/api/v10/webhooks/1100000000000000999/"
                         "XbF2lTq6yP0kGm3vR8sZ1cW4nJ7hD9eA5uK2oL6iT3rY8wQ1zN4xC7vB0mS5pH2gF9dJ"},
};
inline constexpr std::array interaction_requests{
    request_line{"POST",
                 "/api/v10/interactions/1300000000000000000/"
                 "aW50ZXJhY3Rpb246MTMwMDAwMDAwMDAwMDAwMDAwMDpXa2ZRZ3B0T2hKbFZhb3RrTnlBa1BvR2Z4"
                 "Y0lQZXRqT3BkU3JQR2RzV0ZFTk1sY0ZFbg/callback"},
};

} // namespace bench

#endif
