// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// What the machine itself allows: the time of one load that misses the caches, from a random
// pointer chase over a working set of the size of the decision benchmarks' buckets. A decision
// among a million buckets cannot beat the loads it must make (the bucket's index entry and its
// state), so the table sets the decision times beside this.

#include "bench_options.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace {

// One pointer per 64-byte line, linked in a random cycle: every load depends on the one before
// and lands on a line the previous loads did not bring in.
void memory_load(benchmark::State& state)
{
    const auto megabytes = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t words_per_line = 64 / sizeof(std::size_t);
    const std::size_t lines = megabytes * 1024 * 1024 / 64;
    std::vector<std::size_t> order(lines);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::uint64_t random = 0x2545F4914F6CDD1DULL;
    for (std::size_t i = lines; i > 1; --i) {
        random ^= random << 13U;
        random ^= random >> 7U;
        random ^= random << 17U;
        std::swap(order[i - 1], order[random % i]);
    }
    std::vector<std::size_t> next(lines * words_per_line);
    for (std::size_t i = 0; i < lines; ++i)
        next[order[i] * words_per_line] = order[(i + 1) % lines] * words_per_line;
    std::size_t at = order[0] * words_per_line;
    for (auto _ : state) {
        at = next[at];
        benchmark::DoNotOptimize(at);
    }
}
BENCHMARK(memory_load)->Name("reference/memory_load")->ArgName("MB")->Arg(16)->Arg(128);

} // namespace

namespace {

// The floor of any word two cores both write: each write must first take the cache line from the
// other core. `gcra/check_atomic/threads:2` writes one such word on every call.
std::atomic<std::uint64_t> shared_word{0};

void shared_increment(benchmark::State& state)
{
    for (auto _ : state)
        benchmark::DoNotOptimize(shared_word.fetch_add(1, std::memory_order_relaxed));
}
BENCHMARK(shared_increment)->Name("reference/shared_increment")->Threads(1)->Threads(2);

} // namespace
