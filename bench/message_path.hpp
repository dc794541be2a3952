// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BENCH_MESSAGE_PATH_HPP
#define DISCORD_RATELIMIT_BENCH_MESSAGE_PATH_HPP

// The message-send path of channel number `n`, as both the engine's and the baseline's benchmarks
// build it.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

inline constexpr std::uint64_t first_channel = 1'100'000'000'000'000'000ULL;

/// Writes `/api/v10/channels/{id}/messages` into `out`, reusing its storage: a bot formats the
/// path of each request as it makes it, so the decision benchmarks do too, rather than reading
/// it from a table of a million strings whose cache misses would be the benchmark's, not the
/// limiter's. Snowflake-like ids: distinct, and as long as real ones.
inline void write_message_path(std::string& out, std::size_t n)
{
    constexpr std::string_view prefix = "/api/v10/channels/";
    constexpr std::string_view suffix = "/messages";
    char digits[20];
    const auto id = first_channel + static_cast<std::uint64_t>(n) * 4'194'304ULL;
    const auto end = std::to_chars(digits, digits + sizeof digits, id).ptr;
    out.assign(prefix);
    out.append(digits, end);
    out.append(suffix);
}

inline std::string message_path(std::size_t n)
{
    std::string path;
    write_message_path(path, n);
    return path;
}

} // namespace bench

#endif
