// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// The baseline's side of every comparison (baseline/seed_rate_limit_manager.hpp): the seed's
// leaky bucket, one acquire decision among N live route keys, reading a 429, building route keys,
// and the heap each route key holds. Each benchmark mirrors its engine counterpart (bench_core.cpp,
// bench_engine.cpp): same paths, same headers, same number of live buckets.

#include "baseline/seed_rate_limit_manager.hpp"
#include "heap_counter.hpp"
#include "inputs.hpp"
#include "message_path.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace baseline = discord_ratelimit_bench::baseline;
using baseline::header_map;
using baseline::seed_rate_limit_manager;

// ---- the seed's leaky bucket ------------------------------------------------------------------

// As gcra/check: a burst of 100, one token per microsecond, asked every 0.75 us, an hour in, so
// the bucket runs dry and then grants three calls in four (both paths measured). Seconds as
// doubles, as the seed's time.monotonic().
void leaky_bucket_acquire(benchmark::State& state)
{
    constexpr double start = 3600.0;
    baseline::seed_leaky_bucket bucket{1e6, 100, start};
    double step = 0.75e-6;
    benchmark::DoNotOptimize(step);
    double now = start;
    for (auto _ : state) {
        now += step;
        auto wait = bucket.try_acquire(now);
        benchmark::DoNotOptimize(wait);
    }
}
BENCHMARK(leaky_bucket_acquire)->Name("baseline/leaky_bucket_acquire");

// ---- what the manager learns from a message send -----------------------------------------------

// The client's wall clock during the benchmarks, and Discord's answer to a send on a fresh window
// then: the window resets 5 s later, so every decision below finds remaining 4 and a reset ahead.
constexpr double wall_now = 1'764'450'257.0;

const header_map& learned_headers()
{
    static const header_map headers{
        {"x-ratelimit-bucket", "80c17d2f203122d936070c88c8d10f33"},
        {"x-ratelimit-limit", "5"},
        {"x-ratelimit-remaining", "4"},
        {"x-ratelimit-reset", "1764450262.000"},
        {"x-ratelimit-reset-after", "5.000"},
        {"via", "1.1 google"},
    };
    return headers;
}

// One request and its response per channel, as the seed's client runs them: acquire, then
// update_from_headers. Returns how many acquires would have slept (none should).
std::size_t populate(seed_rate_limit_manager& manager, std::size_t channels, std::string& path)
{
    std::size_t waits = 0;
    for (std::size_t channel = 0; channel < channels; ++channel) {
        path = bench::message_path(channel);
        manager.acquire(
            "POST", path, std::nullopt, [] { return wall_now; }, [&](double) { ++waits; });
        manager.update_from_headers("POST", path, learned_headers());
    }
    return waits;
}

// ---- one decision among N live route keys ----------------------------------------------------

// Kept between the calls Google Benchmark makes for one size, as the engine's fixture is.
struct decision_fixture {
    std::size_t channels = 0;
    seed_rate_limit_manager manager;
    std::vector<baseline::rate_limit_bucket*> buckets; ///< per channel, to restore `remaining`
};
std::unique_ptr<decision_fixture> fixture;

decision_fixture* fixture_for(std::size_t channels)
{
    if (fixture && fixture->channels == channels)
        return fixture.get();
    fixture.reset(); // never two populations in memory at once
    auto built = std::make_unique<decision_fixture>();
    built->channels = channels;
    std::string path;
    if (populate(built->manager, channels, path) != 0)
        return nullptr;
    built->buckets.reserve(channels);
    for (std::size_t channel = 0; channel < channels; ++channel) {
        built->buckets.push_back(built->manager.find_bucket(
            seed_rate_limit_manager::route_key("POST", bench::message_path(channel))));
        if (built->buckets.back() == nullptr)
            return nullptr;
    }
    fixture = std::move(built);
    return fixture.get();
}

// What one request costs the seed before it is sent: build the route key from method and path,
// pass the global lock, take the key's lock (a lookup in the map of locks), look its bucket up,
// compare remaining with min_remaining, decrement and store.
void decision_baseline(benchmark::State& state)
{
    const auto channels = static_cast<std::size_t>(state.range(0));
    decision_fixture* f = fixture_for(channels);
    if (f == nullptr) {
        state.SkipWithError("setup: a route key of the population is missing or waited");
        return;
    }
    // The same channel sequence as the engine's benchmark (xorshift64, top bits scaled).
    std::uint64_t random = 0x9E3779B97F4A7C15ULL;
    std::string path = bench::message_path(channels); // its longest length, allocated up front
    std::size_t waits = 0;
    const auto now = [] {
        return wall_now;
    };
    const auto sleep = [&](double) {
        ++waits;
    };
    for (auto _ : state) {
        random ^= random << 13U;
        random ^= random >> 7U;
        random ^= random << 17U;
        const auto channel = static_cast<std::size_t>(((random >> 32U) * channels) >> 32U);
        bench::write_message_path(path, channel);
        f->manager.acquire("POST", path, std::nullopt, now, sleep);
        // Gives the request back (one store to the line acquire just wrote), so every decision
        // finds remaining 4 and none ever waits.
        f->buckets[channel]->remaining = 4;
    }
    if (waits > 0)
        state.SkipWithError("a decision would have slept: the state did not stay steady");
    state.counters["buckets"] = static_cast<double>(f->manager.bucket_count());
}
BENCHMARK(decision_baseline)
    ->Name("decision/baseline")
    ->ArgName("buckets")
    ->Arg(1'000)
    ->Arg(100'000)
    ->Arg(1'000'000);

// ---- a 429 response
// ------------------------------------------------------------------------------

// What the seed does with a 429: `dict(response.headers)` for update_from_headers and again for
// handle_429 (both build the route key, look the bucket up and parse with stoi/stod). The seed
// never reads the body; to read as much as the engine does, the body's retry_after is read the
// way a user without a JSON library would: find the key, then std::stod on the rest (a copy).
void parse_429_baseline(benchmark::State& state)
{
    seed_rate_limit_manager manager;
    const std::string path = bench::message_path(0);
    const auto now = [] {
        return wall_now;
    };
    for (auto _ : state) {
        manager.update_from_headers(
            "POST", path, header_map(bench::headers_429().begin(), bench::headers_429().end()));
        double retry_after = manager.handle_429(
            "POST", path, header_map(bench::headers_429().begin(), bench::headers_429().end()),
            std::nullopt, now);
        if (const auto key = bench::body_429.find("\"retry_after\""); key != std::string_view::npos)
            retry_after =
                std::stod(std::string{bench::body_429.substr(bench::body_429.find(':', key) + 1)});
        benchmark::DoNotOptimize(retry_after);
    }
}
BENCHMARK(parse_429_baseline)->Name("parse_429/baseline");

// ---- route keys ---------------------------------------------------------------------------------

// `_get_route_key`: the whole path is the key, so this "normalises" nothing; it costs a string.
template <std::size_t N>
void route_key(benchmark::State& state, const std::array<bench::request_line, N>& requests)
{
    std::size_t next = 0;
    for (auto _ : state) {
        const bench::request_line& request = requests[next];
        next = next + 1 == N ? 0 : next + 1;
        auto key = seed_rate_limit_manager::route_key(request.method, request.path);
        benchmark::DoNotOptimize(key);
    }
}
BENCHMARK_CAPTURE(route_key, messages, bench::messages_requests)->Name("route/baseline/messages");
BENCHMARK_CAPTURE(route_key, reaction_emoji, bench::reaction_requests)
    ->Name("route/baseline/reaction_emoji");
BENCHMARK_CAPTURE(route_key, webhook_token, bench::webhook_requests)
    ->Name("route/baseline/webhook_token");
BENCHMARK_CAPTURE(route_key, interaction_callback, bench::interaction_requests)
    ->Name("route/baseline/interaction_callback");

// ---- memory per live route key ------------------------------------------------------------------

void memory_baseline(benchmark::State& state)
{
    fixture.reset(); // the decision benchmarks' population would only get in the way
    const auto channels = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        std::string path = bench::message_path(channels); // its longest length, allocated up front
        auto manager = std::make_unique<seed_rate_limit_manager>();
        const std::size_t empty = heap_counter::live_bytes();
        const std::size_t allocations_before = heap_counter::allocation_count();
        if (populate(*manager, channels, path) != 0 || manager->bucket_count() != channels) {
            state.SkipWithError("setup: a send of the population waited");
            return;
        }
        const std::size_t full = heap_counter::live_bytes();
        const std::size_t allocations = heap_counter::allocation_count() - allocations_before;
        // Two hours later, one more request: the seed has no eviction, so every key stays.
        path = bench::message_path(0);
        manager->acquire(
            "POST", path, std::nullopt, [] { return wall_now + 7200.0; }, [](double) {});
        const std::size_t after = heap_counter::live_bytes();
        const auto per_bucket = [&](double bytes) {
            return bytes / static_cast<double>(channels);
        };
        state.counters["bytes_per_bucket"] = per_bucket(static_cast<double>(full - empty));
        state.counters["allocations_per_bucket"] = per_bucket(static_cast<double>(allocations));
        // Total bytes, as the engine's counter: what stays after the idle time.
        state.counters["bytes_after_eviction"] =
            static_cast<double>(after) - static_cast<double>(empty);
        state.counters["buckets_after_eviction"] = static_cast<double>(manager->bucket_count());
    }
}
BENCHMARK(memory_baseline)
    ->Name("memory/baseline")
    ->ArgName("buckets")
    ->Arg(1'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);

} // namespace
