// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// The library's building blocks on their own: the GCRA bucket check with the time passed in, the
// parsing of a 429 response, and route normalisation of the paths a bot sends most.

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

// A user 429 as Discord sends it: lower-case names, in Discord's order, with the headers a client
// receives besides the rate-limit ones.
const std::vector<std::pair<std::string, std::string>> headers_429{
    {"date", "Sat, 29 Nov 2025 21:04:17 GMT"},
    {"content-type", "application/json"},
    {"content-length", "87"},
    {"connection", "keep-alive"},
    {"retry-after", "1"},
    {"x-ratelimit-bucket", "80c17d2f203122d936070c88c8d10f33"},
    {"x-ratelimit-limit", "5"},
    {"x-ratelimit-remaining", "0"},
    {"x-ratelimit-reset", "1764450257.640"},
    {"x-ratelimit-reset-after", "0.640"},
    {"x-ratelimit-scope", "user"},
    {"x-ratelimit-global", "false"},
    {"via", "1.1 google"},
    {"cf-cache-status", "DYNAMIC"},
    {"server", "cloudflare"},
    {"cf-ray", "8e9f7c6b5a4d3e2f-FRA"},
};
constexpr std::string_view body_429 =
    R"({"message": "You are being rate limited.", "retry_after": 0.64, "global": false, )"
    R"("code": 0})";

void parse_429(benchmark::State& state)
{
    for (auto _ : state) {
        // What the engine does with every response: headers and, for a 429, the body.
        auto parsed = drl::response::parse(429, headers_429, body_429);
        benchmark::DoNotOptimize(parsed);
    }
}
BENCHMARK(parse_429)->Name("parse_429/engine");

// ---- route normalisation ------------------------------------------------------------------------

struct request_line {
    std::string_view method;
    std::string_view path;
};

// Paths as a bot's HTTP code holds them: /api/v10 and full snowflakes.
constexpr std::array messages_requests{
    request_line{"POST", "/api/v10/channels/1100000000000000288/messages"},
};
// A URL-encoded unicode emoji and a custom emoji (name:id), alternately.
constexpr std::array reaction_requests{
    request_line{"PUT", "/api/v10/channels/1100000000000000288/messages/1200000000000000171/"
                        "reactions/%F0%9F%91%8D/@me"},
    request_line{"PUT", "/api/v10/channels/1100000000000000288/messages/1200000000000000171/"
                        "reactions/blobwave:1300000000000000042/@me"},
};
constexpr std::array webhook_requests{
    request_line{"POST", "/api/v10/webhooks/1100000000000000999/"
                         "XbF2lTq6yP0kGm3vR8sZ1cW4nJ7hD9eA5uK2oL6iT3rY8wQ1zN4xC7vB0mS5pH2gF9dJ"},
};
constexpr std::array interaction_requests{
    request_line{"POST",
                 "/api/v10/interactions/1300000000000000000/"
                 "aW50ZXJhY3Rpb246MTMwMDAwMDAwMDAwMDAwMDAwMDpXa2ZRZ3B0T2hKbFZhb3RrTnlBa1BvR2Z4"
                 "Y0lQZXRqT3BkU3JQR2RzV0ZFTk1sY0ZFbg/callback"},
};

template <std::size_t N>
void normalise(benchmark::State& state, const std::array<request_line, N>& requests)
{
    std::size_t next = 0;
    for (auto _ : state) {
        const request_line& request = requests[next];
        next = next + 1 == N ? 0 : next + 1;
        auto parsed = drl::parse_route(request.method, request.path);
        benchmark::DoNotOptimize(parsed);
    }
    // Every path must parse: an error path would be measured instead, and faster.
    for (const auto& request : requests)
        if (!drl::parse_route(request.method, request.path))
            state.SkipWithError("a benchmark path does not parse");
}
BENCHMARK_CAPTURE(normalise, messages, messages_requests)->Name("route/engine/messages");
BENCHMARK_CAPTURE(normalise, reaction_emoji, reaction_requests)
    ->Name("route/engine/reaction_emoji");
BENCHMARK_CAPTURE(normalise, webhook_token, webhook_requests)->Name("route/engine/webhook_token");
BENCHMARK_CAPTURE(normalise, interaction_callback, interaction_requests)
    ->Name("route/engine/interaction_callback");

} // namespace
