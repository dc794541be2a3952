// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// The library's building blocks on their own: the GCRA bucket check with the time passed in, the
// parsing of a 429 response, and route normalisation of the paths a bot sends most.

#include "inputs.hpp"

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/response.hpp>
#include <discord_ratelimit/route.hpp>
#include <discord_ratelimit/token_bucket.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock;
using namespace std::chrono_literals;

// ---- GCRA -----------------------------------------------------------------------------------

// A burst of 100, one token per microsecond, asked every 0.75 us: the bucket runs dry and then
// grants three calls in four, so both the grant and the refusal path are measured, as a bot at its
// limit sees them. The clock starts an hour in, away from the saturated region near the epoch.
constexpr std::uint32_t gcra_burst = 100;
constexpr auto gcra_interval = std::chrono::duration_cast<clock_type::duration>(1us);
constexpr auto gcra_step = std::chrono::duration_cast<clock_type::duration>(750ns);
constexpr auto gcra_start = clock_type::time_point{} + 1h;

void gcra_check(benchmark::State& state)
{
    drl::token_bucket<clock_type> bucket{gcra_burst, gcra_interval};
    auto step = gcra_step;
    // The step is opaque to the optimiser, so `now` cannot be folded into a constant.
    benchmark::DoNotOptimize(step);
    auto now = gcra_start;
    for (auto _ : state) {
        now += step;
        auto decision = bucket.try_acquire(now);
        benchmark::DoNotOptimize(decision);
    }
}
BENCHMARK(gcra_check)->Name("gcra/check");

// The contended case at its worst: every call takes a token, so every call writes the one atomic
// both threads share. Each thread passes its own time, and threads drift apart; a bucket that
// refused the thread behind would refuse without writing and hide the contention. So the burst
// (2^32 - 1 tokens of 1 ns, some 4.3 s) covers any drift a run can build up, and time moves 1 ns a
// call, half the rate two threads draw at: the bucket never runs dry within a run.
constexpr std::uint32_t contended_burst = 0xFFFF'FFFFU;
constexpr auto contended_interval = clock_type::duration{1};
drl::atomic_token_bucket<clock_type> shared_bucket{contended_burst, contended_interval};

void gcra_check_atomic(benchmark::State& state)
{
    auto step = contended_interval;
    benchmark::DoNotOptimize(step);
    auto now = gcra_start;
    std::size_t refused = 0;
    for (auto _ : state) {
        now += step;
        auto decision = shared_bucket.try_acquire(now);
        benchmark::DoNotOptimize(decision);
        refused += decision.verdict == drl::bucket_verdict::granted ? 0U : 1U;
    }
    if (refused > 0)
        state.SkipWithError("the shared bucket refused: the benchmark measured reads, not writes");
}
// CPU time (the default), which Google Benchmark sums over the threads as it sums their
// iterations: what one call costs the thread that makes it, contention included.
BENCHMARK(gcra_check_atomic)->Name("gcra/check_atomic")->Threads(1)->Threads(2);

// ---- a 429 response ----------------------------------------------------------------------------

void parse_429(benchmark::State& state)
{
    for (auto _ : state) {
        // What the engine does with every response: headers and, for a 429, the body.
        auto parsed = drl::response::parse(429, bench::headers_429(), bench::body_429);
        benchmark::DoNotOptimize(parsed);
    }
}
BENCHMARK(parse_429)->Name("parse_429/engine");

// ---- route normalisation ------------------------------------------------------------------------

template <std::size_t N>
void normalise(benchmark::State& state, const std::array<bench::request_line, N>& requests)
{
    std::size_t next = 0;
    for (auto _ : state) {
        const bench::request_line& request = requests[next];
        next = next + 1 == N ? 0 : next + 1;
        auto parsed = drl::parse_route(request.method, request.path);
        benchmark::DoNotOptimize(parsed);
    }
    // Every path must parse: an error path would be measured instead, and faster.
    for (const auto& request : requests)
        if (!drl::parse_route(request.method, request.path))
            state.SkipWithError("a benchmark path does not parse");
}
BENCHMARK_CAPTURE(normalise, messages, bench::messages_requests)->Name("route/engine/messages");
BENCHMARK_CAPTURE(normalise, reaction_emoji, bench::reaction_requests)
    ->Name("route/engine/reaction_emoji");
BENCHMARK_CAPTURE(normalise, webhook_token, bench::webhook_requests)
    ->Name("route/engine/webhook_token");
BENCHMARK_CAPTURE(normalise, interaction_callback, bench::interaction_requests)
    ->Name("route/engine/interaction_callback");

} // namespace
