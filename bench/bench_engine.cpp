// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// The engine as a bot runs it: one decision at scale (method and path in, a permit out) among
// 10^3 to 10^6 live buckets, the heap each live bucket costs and what idle eviction gives back,
// and how many requests per wall second go through the engine and the simulated Discord on
// virtual time.

#include "bench_options.hpp"
#include "heap_counter.hpp"
#include "message_path.hpp"

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/response.hpp>
#include <discord_ratelimit/route.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>
#include <discord_ratelimit/testing/simulation.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock;
using engine_type = drl::engine<clock_type>;
using time_point = clock_type::time_point;
using namespace std::chrono_literals;

// What Discord answers a message send on a fresh window: one bucket hash for every channel, as
// for the real route, so the buckets differ by their major parameter only.
const drl::response& learned_response()
{
    static const drl::response parsed =
        drl::response::parse(200,
                             std::vector<std::pair<std::string, std::string>>{
                                 {"x-ratelimit-bucket", "80c17d2f203122d936070c88c8d10f33"},
                                 {"x-ratelimit-limit", "5"},
                                 {"x-ratelimit-remaining", "4"},
                                 {"x-ratelimit-reset", "1764450262.000"},
                                 {"x-ratelimit-reset-after", "5.000"},
                                 {"via", "1.1 google"},
                             },
                             {});
    return parsed;
}

// Setting up a million buckets must not take a million global-limit slots of a second each
// (bucket states idle for 5 minutes are evicted long before): the global window is a microsecond,
// which leaves the limit, and its cost per decision, as they are.
engine_type::config_type bench_config()
{
    engine_type::config_type config;
    config.global_window = 1us;
    return config;
}

constexpr auto setup_start = time_point{} + 1h;
constexpr auto setup_step = std::chrono::duration_cast<clock_type::duration>(1us);

// Gives `engine` one learned bucket per channel (a send and its response each); returns the time
// after the last. Every window stays open for 5 s after its response, and a million channels take
// one simulated second, so all of them still have 4 requests left when the benchmark decides.
time_point populate(engine_type& engine, std::size_t channels, std::string& path)
{
    auto now = setup_start;
    for (std::size_t channel = 0; channel < channels; ++channel) {
        path = bench::message_path(channel);
        const auto route = drl::parse_route("POST", path);
        const auto permit = engine.acquire(route.value, now);
        if (!permit.granted())
            return time_point{};
        if (engine.complete(permit.ticket, learned_response(), now).status !=
            drl::completion_status::done)
            return time_point{};
        now += setup_step;
    }
    return now;
}

// ---- one decision among N live buckets ---------------------------------------------------------

// Setting up 10^6 buckets takes a while, and Google Benchmark calls a benchmark several times (to
// find its iteration count, once per repetition): the engine of the last size is kept.
struct decision_fixture {
    std::size_t channels = 0;
    engine_type engine{bench_config()};
    time_point now{};
};
std::unique_ptr<decision_fixture> fixture;

decision_fixture* fixture_for(std::size_t channels)
{
    if (fixture && fixture->channels == channels)
        return fixture.get();
    fixture.reset(); // before building the next one: never two at once in memory
    auto built = std::make_unique<decision_fixture>();
    built->channels = channels;
    std::string path;
    built->now = populate(built->engine, channels, path);
    if (built->now == time_point{} || built->engine.registry().bucket_count() != channels)
        return nullptr;
    fixture = std::move(built);
    return fixture.get();
}

void decision_engine(benchmark::State& state)
{
    const auto channels = static_cast<std::size_t>(state.range(0));
    decision_fixture* f = fixture_for(channels);
    if (f == nullptr) {
        state.SkipWithError("setup: a send of the population was not granted");
        return;
    }
    engine_type& engine = f->engine;
    const auto now = f->now;
    // A channel at random each time (xorshift64, its top 32 bits scaled onto [0, channels)), so the
    // buckets are reached as a busy bot reaches them, not in an order the caches can follow.
    std::uint64_t random = 0x9E3779B97F4A7C15ULL;
    std::string path = bench::message_path(channels); // its longest length, allocated up front
    std::size_t refused = 0;
    for (auto _ : state) {
        random ^= random << 13U;
        random ^= random >> 7U;
        random ^= random << 17U;
        const auto channel = static_cast<std::size_t>(((random >> 32U) * channels) >> 32U);
        // From the request line, as the baseline does: route key, registry, bucket decision.
        bench::write_message_path(path, channel);
        const auto route = drl::parse_route("POST", path);
        const auto permit = engine.acquire(route.value, now);
        benchmark::DoNotOptimize(permit);
        // Cancelling gives the request back, so every decision finds the same state.
        engine.cancel(permit.ticket, now);
        refused += permit.granted() ? 0U : 1U;
    }
    if (refused > 0)
        state.SkipWithError("a decision was not granted: the state did not stay steady");
    state.counters["buckets"] = static_cast<double>(engine.registry().bucket_count());
}
BENCHMARK(decision_engine)
    ->Name("decision/engine")
    ->ArgName("buckets")
    ->Arg(1'000)
    ->Arg(100'000)
    ->Arg(1'000'000);

// ---- memory per live bucket
// ------------------------------------------------------------------------

void memory_engine(benchmark::State& state)
{
    fixture.reset(); // the decision benchmarks' engine would only get in the way
    const auto channels = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        std::string path = bench::message_path(channels); // its longest length, allocated up front
        auto engine = std::make_unique<engine_type>(bench_config());
        // Measured from the empty engine: what it holds before its first request is not per
        // bucket.
        const std::size_t empty = heap_counter::live_bytes();
        const std::size_t allocations_before = heap_counter::allocation_count();
        const auto end = populate(*engine, channels, path);
        const std::size_t full = heap_counter::live_bytes();
        const std::size_t allocations = heap_counter::allocation_count() - allocations_before;
        if (end == time_point{} || engine->registry().bucket_count() != channels) {
            state.SkipWithError("setup: a send of the population was not granted");
            return;
        }
        // Past every idle limit (bucket states 5 minutes, learned route hashes an hour): the next
        // event sweeps them all.
        const auto later = end + 2h;
        engine->advance(later, [](drl::ticket_id, const auto&) {});
        const std::size_t after = heap_counter::live_bytes();
        const auto per_bucket = [&](double bytes) {
            return bytes / static_cast<double>(channels);
        };
        state.counters["bytes_per_bucket"] = per_bucket(static_cast<double>(full - empty));
        state.counters["allocations_per_bucket"] = per_bucket(static_cast<double>(allocations));
        state.counters["bytes_after_eviction"] =
            static_cast<double>(after) - static_cast<double>(empty);
        state.counters["buckets_after_eviction"] =
            static_cast<double>(engine->registry().bucket_count());
    }
}
// Deterministic: one run says it all, whatever repetitions the command line asks for.
BENCHMARK(memory_engine)
    ->Name("memory/engine")
    ->ArgName("buckets")
    ->Arg(1'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);

// ---- simulated throughput ----------------------------------------------------------------------

// A bot at work: 100,000 messages over 10,000 channels, one every 25 ms (40 per second, under the
// global limit; a channel's next message comes 250 s after its last), each sent when granted and
// answered 60 ms later by the simulated Discord. What one request costs the engine and the
// simulated Discord together when nothing has to wait. A smoke run takes a hundredth of it.
constexpr std::size_t flow_requests = 100'000;
constexpr std::size_t flow_channels = 10'000;

void throughput_flow(benchmark::State& state)
{
    const std::size_t scale = bench::smoke_run ? 100 : 1;
    const std::size_t request_count = flow_requests / scale;
    const std::size_t channel_count = flow_channels / scale;
    std::vector<drl::route> requests;
    requests.reserve(request_count);
    for (std::size_t i = 0; i < request_count; ++i)
        requests.push_back(drl::make_route("POST", bench::message_path(i % channel_count)));
    const auto pace = std::chrono::duration_cast<clock_type::duration>(25ms);
    const auto round_trip = std::chrono::duration_cast<clock_type::duration>(60ms);
    struct in_flight {
        drl::ticket_id ticket;
        std::size_t request;
        time_point answered_at;
    };
    double wall_seconds = 0;
    double requests_done = 0;
    std::size_t not_done = 0;
    std::uint64_t server_429s = 0;
    for (auto _ : state) {
        engine_type engine;
        drl::testing::simulated_discord<clock_type> server;
        std::vector<in_flight> flying; // answered in the order sent: the round trip is fixed
        std::size_t oldest = 0;
        // One reply whose buffers every answer reuses, as `simulate` does: no allocation.
        drl::testing::simulated_discord<clock_type>::reply_view reply;
        const auto answer = [&](const in_flight& f) {
            server.handle_into(requests[f.request], f.answered_at - round_trip / 2, reply);
            const auto c =
                engine.complete(f.ticket, reply.status, reply.headers, reply.body, f.answered_at);
            not_done += c.status == drl::completion_status::done ? 0U : 1U;
        };
        const auto started = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < request_count; ++i) {
            const auto now = setup_start + pace * static_cast<clock_type::rep>(i);
            for (; oldest < flying.size() && flying[oldest].answered_at <= now; ++oldest)
                answer(flying[oldest]);
            const auto permit = engine.acquire(requests[i], now);
            if (!permit.granted()) {
                ++not_done;
                continue;
            }
            flying.push_back({permit.ticket, i, now + round_trip});
        }
        for (; oldest < flying.size(); ++oldest)
            answer(flying[oldest]);
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started;
        state.SetIterationTime(wall.count());
        wall_seconds += wall.count();
        requests_done += static_cast<double>(request_count);
        server_429s += server.seen().rate_limited();
    }
    state.counters["requests_per_second"] = requests_done / wall_seconds;
    state.counters["server_429s"] = static_cast<double>(server_429s);
    state.counters["not_done"] = static_cast<double>(not_done);
}
BENCHMARK(throughput_flow)
    ->Name("throughput/flow")
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);

// A bot's busy spell: 100 messages to each of 1,000 channels, submitted at once, against Discord's
// default buckets (5 per 5 s per channel) and global limit (50 per second), 60 ms round trip: some
// 35 simulated minutes. A smoke run takes a hundredth of it.
constexpr std::size_t throughput_requests = 100'000;
constexpr std::size_t throughput_channels = 1'000;

void throughput_simulated(benchmark::State& state)
{
    const std::size_t scale = bench::smoke_run ? 100 : 1;
    const std::size_t request_count = throughput_requests / scale;
    const std::size_t channel_count = throughput_channels / scale;
    std::vector<drl::route> requests;
    requests.reserve(request_count);
    for (std::size_t i = 0; i < request_count; ++i)
        requests.push_back(drl::make_route("POST", bench::message_path(i % channel_count)));
    const std::function<clock_type::duration(std::size_t)> latency = [](std::size_t) {
        return std::chrono::duration_cast<clock_type::duration>(60ms);
    };
    double wall_seconds = 0;
    double requests_done = 0;
    std::uint64_t server_429s = 0;
    std::size_t failed = 0;
    for (auto _ : state) {
        engine_type engine;
        drl::testing::simulated_discord<clock_type> server;
        const auto started = std::chrono::steady_clock::now();
        const auto result = drl::testing::simulate(engine, server, requests, setup_start, latency);
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started;
        state.SetIterationTime(wall.count());
        wall_seconds += wall.count();
        requests_done += static_cast<double>(request_count);
        server_429s += server.seen().rate_limited();
        failed += result.failed + (result.hung ? 1U : 0U);
        state.counters["simulated_s"] =
            std::chrono::duration<double>(result.last_response - result.started).count();
    }
    state.counters["requests_per_second"] = requests_done / wall_seconds;
    state.counters["server_429s"] = static_cast<double>(server_429s);
    state.counters["failed"] = static_cast<double>(failed);
}
// Wall time of the simulation only: building the workload, the engine and the server is not a
// request going through.
// Seconds per run: three runs are enough for a median.
BENCHMARK(throughput_simulated)
    ->Name("throughput/simulated")
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);

} // namespace
