// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_TESTS_LOAD_ALLOCATION_COUNTER_HPP
#define DISCORD_RATELIMIT_TESTS_LOAD_ALLOCATION_COUNTER_HPP

/// @file
/// The heap the load tests hold, as counted by the global `operator new` and `operator delete`
/// that allocation_counter.cpp replaces (which is why the load tests are an executable of their
/// own). Counted are the bytes requested through `operator new` (every standard container's
/// default allocator), without the allocator's own overhead; `malloc` called directly is not.
///
/// @par Thread Safety
/// Safe from any thread (relaxed atomics). A difference of two readings, and the peak, say what
/// one thread did only while no other thread allocates: the load tests run on one thread.

#include <cstddef>

namespace load_test {

/// Bytes requested by every allocation not yet freed.
std::size_t live_bytes() noexcept;

/// The highest `live_bytes()` since the last `reset_peak()` (or since the program started).
std::size_t peak_bytes() noexcept;

/// Starts a new peak at the current `live_bytes()`.
void reset_peak() noexcept;

} // namespace load_test

#endif
