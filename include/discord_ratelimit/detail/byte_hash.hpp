// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_BYTE_HASH_HPP
#define DISCORD_RATELIMIT_DETAIL_BYTE_HASH_HPP

/// @file
/// A fast, non-cryptographic 64-bit hash of short byte strings (route keys, tokens) and of
/// integers, for hash tables. Eight bytes per step, so a typical 50-character route key costs a few
/// nanoseconds. It is deterministic: equal inputs hash equally in every process.

#include <discord_ratelimit/detail/little_endian.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace discord_ratelimit::detail {

/// 2^64 divided by the golden ratio: odd, with well-spread bits, a good multiplier for mixing.
inline constexpr std::uint64_t golden_multiplier = 0x9e3779b97f4a7c15ULL;

/// A bijective avalanche: every input bit affects every output bit, so low bits are usable as a
/// hash-table index.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept
{
    x ^= x >> 31;
    x *= golden_multiplier;
    x ^= x >> 29;
    x *= golden_multiplier;
    x ^= x >> 32;
    return x;
}

/// Combines a hash with one more 64-bit value; the order of the values matters.
constexpr std::uint64_t combine_hash(std::uint64_t seed, std::uint64_t value) noexcept
{
    return mix64(seed ^ mix64(value + golden_multiplier));
}

/// One step of `hash_bytes`: mixes one word into the state. For a fixed word it is a bijection of
/// the state, so no information gathered so far is lost.
constexpr std::uint64_t absorb_word(std::uint64_t state, std::uint64_t word) noexcept
{
    state = (state ^ word) * golden_multiplier;
    return state ^ (state >> 29);
}

/// The hash of `bytes`. Strings of different lengths that share a prefix hash differently
/// because the length seeds the state.
constexpr std::uint64_t hash_bytes(std::string_view bytes) noexcept
{
    const std::size_t size = bytes.size();
    std::uint64_t state = golden_multiplier * (size + 1);
    if (size < 8)
        return mix64(absorb_word(state, load_little_endian(bytes, 0, size)));
    std::size_t at = 0;
    for (; at + 8 <= size; at += 8)
        state = absorb_word(state, load_little_endian(bytes, at, 8));
    // The last partial word is read as the last 8 bytes, overlapping the previous word: one load.
    if (at < size)
        state = absorb_word(state, load_little_endian(bytes, size - 8, 8));
    return mix64(state);
}

} // namespace discord_ratelimit::detail

#endif
