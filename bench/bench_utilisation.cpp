// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// How close to the fastest safe schedule the demo's workload runs: its simulated span against the
// theoretical minimum (examples/demo_workload.hpp), with the 429s the simulated Discord sent and
// the requests that failed. The engine runs it exactly as discord-ratelimit-demo does; the seed
// design runs the same requests against the same simulated Discord, with the same round trip,
// through a discrete-event simulation of its asyncio client.

#include "baseline/seed_rate_limit_manager.hpp"
#include "demo_workload.hpp"

#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace {

namespace baseline = discord_ratelimit_bench::baseline;
using demo::clock_type;
using demo::duration;
using demo::server_type;
using demo::time_point;

constexpr std::uint64_t demo_seed = 1;

/// Every 429 the simulated Discord sent, whatever its kind.
std::uint64_t server_429s(const server_type& server)
{
    const auto& seen = server.seen();
    return seen.user_429 + seen.global_429 + seen.shared_429 + seen.sub_limit_429;
}

void report(benchmark::State& state, duration span, duration minimum, std::uint64_t rejected,
            std::size_t failed)
{
    state.counters["span_s"] = demo::seconds(span);
    state.counters["minimum_s"] = demo::seconds(minimum);
    state.counters["ratio"] = demo::seconds(span) / demo::seconds(minimum);
    state.counters["server_429s"] = static_cast<double>(rejected);
    state.counters["failed"] = static_cast<double>(failed);
}

// ---- the engine, as the demo runs it ----------------------------------------------------------

void utilisation_engine(benchmark::State& state)
{
    const auto rules = demo::discord_rules();
    const auto work = demo::routes_of(demo::make_workload(demo_seed));
    const auto minimum = demo::theoretical_minimum(work, rules);
    for (auto _ : state) {
        server_type server{demo::discord_config(rules)};
        discord_ratelimit::engine<clock_type> engine{demo::engine_settings()};
        const auto result = demo::run(engine, server, work);
        report(state, result.last_response - result.started, minimum.span, server_429s(server),
               result.failed + (result.hung ? 1U : 0U));
    }
}
BENCHMARK(utilisation_engine)
    ->Name("utilisation/demo/engine")
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);

// ---- the seed design, on virtual time -------------------------------------------------------
//
// The seed's client as asyncio runs it: every request is a task started at t = 0. A task passes
// the global lock (holding it while it sleeps out a global wait), then its route key's lock
// (holding it while it sleeps out a bucket wait), sends, and learns from the response; on a 429 it
// calls handle_429 (taking the global lock for a global one), sleeps Retry-After + 0.5 s and starts
// over, at most 3 times, then fails. asyncio's locks hand over in FIFO order and wake the next
// holder at once; events at one instant run in the order they were scheduled. The manager's own
// steps make every decision; only the locks and the sleeps are modelled here.

class seed_client_simulation {
public:
    struct outcome {
        duration span{};
        std::size_t succeeded = 0;
        std::size_t failed = 0;
    };

    seed_client_simulation(const std::vector<demo::workload_request>& work, server_type& server)
        : work_{work}
        , server_{server}
        , wall_at_epoch_{
              std::chrono::duration<double>(server.settings().wall_clock_at_epoch).count()}
    {
        tasks_.reserve(work.size());
        for (const auto& request : work)
            tasks_.emplace_back(
                baseline::seed_rate_limit_manager::route_key(request.method, request.path));
    }

    outcome run(time_point start)
    {
        for (std::size_t i = 0; i < tasks_.size(); ++i)
            schedule(start, i, step::enter_global);
        time_point last_response = start;
        while (!events_.empty()) {
            const event e = events_.top();
            events_.pop();
            now_ = e.at;
            if (e.what == step::respond)
                last_response = now_;
            resume(e.task, e.what);
        }
        return outcome{last_response - start, succeeded_, failed_};
    }

private:
    enum class step : std::uint8_t {
        enter_global,      ///< acquire: wait for the global lock
        in_global,         ///< holding it: sleep out a global wait, or go on
        leave_global,      ///< release it, then the route key's lock
        in_route,          ///< holding the route key's lock: sleep out a bucket wait, or take
        route_slept,       ///< after the bucket wait: take, release, send
        arrive,            ///< the request reaches Discord
        respond,           ///< its response is back
        handle_global_429, ///< holding the global lock for handle_429 of a global 429
    };

    struct task {
        explicit task(std::string route_key)
            : key{std::move(route_key)}
        {
        }

        std::string key;
        int attempt = 0;
        baseline::header_map headers; ///< the last response's, for handle_429
        bool rate_limited = false;    ///< the last response was a 429
    };

    /// An asyncio.Lock: a holder and its FIFO of waiters, each with the step it resumes at.
    struct fifo_lock {
        bool held = false;
        std::deque<std::pair<std::size_t, step>> waiters;
    };

    struct event {
        time_point at;
        std::uint64_t order; ///< scheduling order: ties at one instant run first come, first served
        std::size_t task;
        step what;
        bool operator>(const event& other) const
        {
            return std::tie(at, order) > std::tie(other.at, other.order);
        }
    };

    /// The client's `time.time()`: the simulated Discord's wall clock, without skew, so the seed's
    /// comparison of X-RateLimit-Reset with it means what it should.
    double wall_now() const
    {
        return wall_at_epoch_ + std::chrono::duration<double>(now_.time_since_epoch()).count();
    }

    static duration after(double seconds)
    {
        return std::chrono::duration_cast<duration>(std::chrono::duration<double>(seconds));
    }

    void schedule(time_point at, std::size_t t, step what)
    {
        events_.push(event{at, next_order_++, t, what});
    }

    void lock(fifo_lock& l, std::size_t t, step then)
    {
        if (l.held) {
            l.waiters.emplace_back(t, then);
            return;
        }
        l.held = true;
        resume(t, then);
    }

    void unlock(fifo_lock& l)
    {
        if (l.waiters.empty()) {
            l.held = false;
            return;
        }
        const auto [next, then] = l.waiters.front();
        l.waiters.pop_front();
        schedule(now_, next, then); // the lock passes to it; it runs once this task yields
    }

    void resume(std::size_t t, step what)
    {
        task& k = tasks_[t];
        const demo::workload_request& request = work_[t];
        switch (what) {
        case step::enter_global: lock(global_, t, step::in_global); break;
        case step::in_global:
            if (const double wait = manager_.global_wait(wall_now()); wait > 0)
                schedule(now_ + after(wait), t, step::leave_global);
            else
                resume(t, step::leave_global);
            break;
        case step::leave_global:
            unlock(global_);
            lock(route_locks_[k.key], t, step::in_route);
            break;
        case step::in_route:
            if (const double wait =
                    manager_.route_wait(k.key, baseline::default_min_remaining, wall_now());
                wait > 0) {
                schedule(now_ + after(wait), t, step::route_slept);
            } else {
                manager_.take(k.key, false);
                unlock(route_locks_[k.key]);
                schedule(now_ + demo::round_trip / 2, t, step::arrive);
            }
            break;
        case step::route_slept:
            manager_.take(k.key, true);
            unlock(route_locks_[k.key]);
            schedule(now_ + demo::round_trip / 2, t, step::arrive);
            break;
        case step::arrive: {
            const auto reply = server_.handle(request.route, now_);
            k.headers = baseline::header_map(reply.headers.begin(), reply.headers.end());
            k.rate_limited = reply.status == 429;
            schedule(now_ + demo::round_trip / 2, t, step::respond);
            break;
        }
        case step::respond:
            manager_.update_from_headers(request.method, request.path, k.headers);
            if (!k.rate_limited) {
                ++succeeded_;
            } else if (k.attempt >= baseline::max_retries) {
                ++failed_;
            } else if (baseline::seed_rate_limit_manager::is_global(k.headers)) {
                lock(global_, t, step::handle_global_429);
            } else {
                retry_after_429(t);
            }
            break;
        case step::handle_global_429:
            retry_after_429(t);
            unlock(global_);
            break;
        }
    }

    void retry_after_429(std::size_t t)
    {
        task& k = tasks_[t];
        const demo::workload_request& request = work_[t];
        const double retry_after = manager_.handle_429(request.method, request.path, k.headers,
                                                       std::nullopt, [&] { return wall_now(); });
        ++k.attempt;
        schedule(now_ + after(retry_after + baseline::retry_padding_seconds), t,
                 step::enter_global);
    }

    const std::vector<demo::workload_request>& work_;
    server_type& server_;
    double wall_at_epoch_;
    baseline::seed_rate_limit_manager manager_;
    std::vector<task> tasks_;
    fifo_lock global_;
    std::map<std::string, fifo_lock> route_locks_;
    std::priority_queue<event, std::vector<event>, std::greater<>> events_;
    std::uint64_t next_order_ = 0;
    time_point now_{};
    std::size_t succeeded_ = 0;
    std::size_t failed_ = 0;
};

void utilisation_baseline(benchmark::State& state)
{
    const auto rules = demo::discord_rules();
    const auto work = demo::make_workload(demo_seed);
    const auto minimum = demo::theoretical_minimum(demo::routes_of(work), rules);
    for (auto _ : state) {
        server_type server{demo::discord_config(rules)};
        seed_client_simulation simulation{work, server};
        const auto outcome = simulation.run(clock_type::now());
        report(state, outcome.span, minimum.span, server_429s(server), outcome.failed);
        state.counters["succeeded"] = static_cast<double>(outcome.succeeded);
    }
}
BENCHMARK(utilisation_baseline)
    ->Name("utilisation/demo/baseline")
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);

} // namespace
