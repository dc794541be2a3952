// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DETAIL_BUCKET_CELL_HPP
#define DISCORD_RATELIMIT_DETAIL_BUCKET_CELL_HPP

/// @file
/// Where a bucket keeps its one word of state: `plain_cell` for one thread at a time,
/// `atomic_cell` for many. The bucket's rule is written once, as a step from the old word to the
/// new one, and runs unchanged over either cell.

#include <atomic>
#include <cstdint>

namespace discord_ratelimit::detail {

/// What one step decided: whether to store `next`, and what to hand back to the caller.
template <class Result>
struct cell_update {
    bool store;
    std::int64_t next;
    Result result;
};

/// A word for one thread at a time: the step runs once on the current value.
class plain_cell {
public:
    explicit constexpr plain_cell(std::int64_t initial) noexcept
        : value_{initial}
    {
    }

    std::int64_t load() const noexcept { return value_; }

    /// Runs `step(current)` (which returns a `cell_update`), stores its `next` if asked to and
    /// returns its `result`.
    template <class Step>
    auto update(Step step) noexcept
    {
        auto outcome = step(value_);
        if (outcome.store)
            value_ = outcome.next;
        return outcome.result;
    }

private:
    std::int64_t value_;
};

/// A word shared by threads: one lock-free 64-bit atomic.
///
/// `update` reruns the step on the fresh value until its compare-exchange wins, so the step must
/// be a pure function of the value it is given. A step that stores nothing costs one load.
/// Memory order is relaxed: the word is the only state shared, and its modification order alone
/// decides who gets which token. Callers that hand data over through a grant synchronize it
/// themselves.
class atomic_cell {
    static_assert(std::atomic<std::int64_t>::is_always_lock_free,
                  "the atomic buckets need a lock-free 64-bit atomic");

public:
    explicit atomic_cell(std::int64_t initial) noexcept
        : value_{initial}
    {
    }

    std::int64_t load() const noexcept { return value_.load(std::memory_order_relaxed); }

    /// Runs `step(current)` until its result is final: a step that stores nothing, or one whose
    /// `next` was stored by compare-exchange on the `current` it was given.
    template <class Step>
    auto update(Step step) noexcept
    {
        std::int64_t current = value_.load(std::memory_order_relaxed);
        for (;;) {
            auto outcome = step(current);
            if (!outcome.store ||
                value_.compare_exchange_weak(current, outcome.next, std::memory_order_relaxed))
                return outcome.result;
        }
    }

private:
    std::atomic<std::int64_t> value_;
};

} // namespace discord_ratelimit::detail

#endif
