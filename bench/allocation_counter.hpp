// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BENCH_ALLOCATION_COUNTER_HPP
#define DISCORD_RATELIMIT_BENCH_ALLOCATION_COUNTER_HPP

/// @file
/// What the process holds on the heap, as the replacement global `operator new` and `operator
/// delete` of allocation_counter.cpp count it: for the memory benchmarks, which measure bytes per
/// live bucket as the difference of `live_bytes()` before and after.
///
/// Only memory allocated through `operator new` counts (every standard container's default
/// allocator), not `malloc` called directly. The counts are the bytes requested, without the
/// allocator's own overhead, so they say what the data structures ask for on every platform.
///
/// @par Thread Safety
/// Safe to call from any thread: relaxed atomics. A difference of two readings is exact only while
/// no other thread allocates (the benchmarks measure on one thread).

#include <cstddef>

namespace bench {

/// Bytes requested by every allocation not yet freed.
std::size_t live_bytes() noexcept;

/// Allocations made since the program started (freed ones included).
std::size_t allocation_count() noexcept;

} // namespace bench

#endif
