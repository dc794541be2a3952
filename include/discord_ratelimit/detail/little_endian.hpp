// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_LITTLE_ENDIAN_HPP
#define DISCORD_RATELIMIT_DETAIL_LITTLE_ENDIAN_HPP

/// @file
/// Reads up to eight bytes of a string as one little-endian 64-bit word, so that hashing and
/// digit parsing can work a word at a time. Gives the same result at compile time and at run
/// time, on every byte order.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace discord_ratelimit::detail {

/// The `count` (at most 8) bytes of `bytes` starting at `at`, the first in the lowest byte of the
/// result; the missing high bytes are zero. The caller keeps `at + count <= bytes.size()`.
constexpr std::uint64_t load_little_endian(std::string_view bytes, std::size_t at,
                                           std::size_t count) noexcept
{
    if constexpr (std::endian::native == std::endian::little) {
        if (!std::is_constant_evaluated() && count == 8) {
            std::uint64_t word;
            std::memcpy(&word, bytes.data() + at, sizeof word);
            return word;
        }
    }
    std::uint64_t word = 0;
    for (std::size_t i = 0; i < count; ++i)
        word |= std::uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
    return word;
}

} // namespace discord_ratelimit::detail

#endif
