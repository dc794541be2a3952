// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// What the token and leaky bucket tests share: time in raw ticks of the fake clock, any bucket
// built from one argument order, readable verdicts, a reproducible walk of calls, and a start line
// for two threads.
#pragma once

#include <discord_ratelimit/bucket_decision.hpp>
#include <discord_ratelimit/clock.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

namespace bucket_test_support {

using discord_ratelimit::bucket_verdict;
using discord_ratelimit::manual_clock;
using decision = discord_ratelimit::bucket_decision<manual_clock::duration>;

// The tests pass time points in; the clock itself is never read or advanced.
using time_point = manual_clock::time_point;
using duration = manual_clock::duration;

constexpr std::int64_t last_tick = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t first_tick = std::numeric_limits<std::int64_t>::min();

inline constexpr time_point at(std::int64_t tick) { return time_point{duration{tick}}; }
inline constexpr duration ticks(std::int64_t count) { return duration{count}; }

/// A bucket of `burst` that gains one token every `interval`, whichever order its constructor takes
/// them in: `token_bucket(burst, interval)` or `leaky_bucket(emission_interval, burst)`.
template <class Bucket>
Bucket make_bucket(std::uint32_t burst, duration interval)
{
    if constexpr (requires(const Bucket& bucket) { bucket.emission_interval(); })
        return Bucket{interval, burst};
    else
        return Bucket{burst, interval};
}

/// What building a `Bucket` of `burst` and `interval` threw, or "no exception".
template <class Bucket>
std::string invalid_argument_message(std::uint32_t burst, duration interval)
{
    try {
        make_bucket<Bucket>(burst, interval);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no exception";
}

/// What a bucket said, as text that reads well in a failed check: "granted", "wait 20", "never".
inline std::string said(const decision& d)
{
    switch (d.verdict) {
    case bucket_verdict::granted:
        return d.wait == duration::zero() ? "granted" : "granted with a wait";
    case bucket_verdict::wait:
        return "wait " + std::to_string(d.wait.count());
    case bucket_verdict::never:
        return d.wait == duration::max() ? "never" : "never with a finite wait";
    }
    return "not a verdict";
}

/// What a reservation said: "go at 40" or "never".
inline std::string said(const std::optional<time_point>& ready)
{
    return ready ? "go at " + std::to_string(ready->time_since_epoch().count()) : "never";
}

/// A reproducible walk of calls on a bucket: time mostly moves forward by less than an interval,
/// sometimes stands still, idles for a while, or steps back (a non-monotonic caller).
class call_walk {
public:
    enum class member { try_acquire, reserve, refund, available };

    struct call {
        member what;
        time_point now;
        std::uint32_t n;
    };

    call_walk(std::uint64_t seed, std::uint32_t burst, std::int64_t interval)
        : random_{seed}
        , burst_{burst}
        , interval_{interval}
    {
    }

    call next()
    {
        const std::uint64_t step = pick(100);
        if (step < 60)
            now_ += below(interval_);
        else if (step < 80)
            now_ += below(3 * interval_ + 1);
        else if (step < 88)
            now_ -= below(4 * interval_ + 1);
        else if (step >= 96)
            now_ += below(40 * interval_ + 1);
        // else: the same instant again

        const std::uint32_t counts[] = {0, 1, 1, 1, 1, 2, 3, burst_ - 1, burst_, burst_ + 1};
        const std::uint32_t n = counts[pick(std::size(counts))];
        const std::uint64_t kind = pick(10);
        const member what = kind < 4   ? member::try_acquire
                            : kind < 6 ? member::reserve
                            : kind < 7 ? member::refund
                                       : member::available;
        return {what, at(now_), n};
    }

private:
    std::uint64_t pick(std::uint64_t bound) { return random_() % bound; }
    std::int64_t below(std::int64_t bound)
    {
        return static_cast<std::int64_t>(pick(static_cast<std::uint64_t>(bound)));
    }

    std::mt19937_64 random_;
    std::uint32_t burst_;
    std::int64_t interval_;
    std::int64_t now_ = 1'000'000'000;
};

/// Makes the same `steps` calls on `a` and `b`; returns the first answer on which they differ, or
/// an empty string when they agree throughout.
template <class A, class B>
std::string first_disagreement(A& a, B& b, call_walk walk, int steps)
{
    for (int step = 0; step < steps; ++step) {
        const call_walk::call c = walk.next();
        std::string from_a;
        std::string from_b;
        switch (c.what) {
        case call_walk::member::try_acquire:
            from_a = said(a.try_acquire(c.now, c.n));
            from_b = said(b.try_acquire(c.now, c.n));
            break;
        case call_walk::member::reserve:
            from_a = said(a.reserve(c.now, c.n));
            from_b = said(b.reserve(c.now, c.n));
            break;
        case call_walk::member::refund:
            a.refund(c.n);
            b.refund(c.n);
            break;
        case call_walk::member::available:
            from_a = std::to_string(a.available(c.now));
            from_b = std::to_string(b.available(c.now));
            break;
        }
        if (from_a != from_b)
            return "step " + std::to_string(step) + " at " +
                   std::to_string(c.now.time_since_epoch().count()) + " for " +
                   std::to_string(c.n) + ": " + from_a + " vs " + from_b;
    }
    return {};
}

/// Holds each of two threads until both are running, so that their calls overlap.
inline void start_together(std::atomic<int>& arrived)
{
    arrived.fetch_add(1);
    while (arrived.load() < 2)
        std::this_thread::yield();
}

} // namespace bucket_test_support
