// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_TESTS_HEAP_COUNTER_HEAP_COUNTER_HPP
#define DISCORD_RATELIMIT_TESTS_HEAP_COUNTER_HEAP_COUNTER_HPP

/// @file
/// The heap a program holds, as counted by the global `operator new` and `operator delete` that
/// heap_counter.cpp replaces: for the load tests and the memory benchmarks, each an executable of
/// its own so that the replacement touches nothing else. Counted are the bytes requested through
/// `operator new` (every standard container's default allocator), without the allocator's own
/// overhead, so the figures say what the data structures ask for on every platform; `malloc`
/// called directly is not counted.
///
/// @par Thread Safety
/// Safe from any thread (relaxed atomics). A difference of two readings, and the peak, say what
/// one thread did only while no other thread allocates: the load tests and the memory benchmarks
/// measure on one thread.

#include <cstddef>

namespace heap_counter {

/// Bytes requested by every allocation not yet freed.
std::size_t live_bytes() noexcept;

/// Allocations made since the program started (freed ones included).
std::size_t allocation_count() noexcept;

/// The highest `live_bytes()` since the last `reset_peak()` (or since the program started).
std::size_t peak_bytes() noexcept;

/// Starts a new peak at the current `live_bytes()`.
void reset_peak() noexcept;

} // namespace heap_counter

#endif
