// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// The benchmark program: runs every registered benchmark with Google Benchmark's console output,
// keeps the results, and ends with one table that sets each figure against its target and against
// the baseline (a naive rate limiter measured in the same run).
//
// `--smoke` runs everything briefly and only up to 10^3 buckets, for the test suite: the table is
// printed, but a machine that misses a target still exits 0. No test judges a timing.

#include "bench_options.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

#ifndef DISCORD_RATELIMIT_BENCH_BUILD_TYPE
#define DISCORD_RATELIMIT_BENCH_BUILD_TYPE "unknown"
#endif

bool bench::smoke_run = false;

namespace {

// ---- collecting the results
// ----------------------------------------------------------------------

/// One benchmark's figures: its time per iteration in ns and its counters.
struct measurement {
    /// CPU time per call: on a loaded machine it counts the code, not the time the thread was
    /// descheduled; with several threads, Google Benchmark sums their CPU time and their
    /// iterations, so it is what one call costs its thread.
    double ns = 0;
    /// Wall time per call; for a manual-time benchmark, the time it measured itself.
    double real_ns = 0;
    std::map<std::string, double> counters;
};

/// The console reporter, which also keeps every run for the table.
class collecting_reporter : public benchmark::ConsoleReporter {
public:
    using benchmark::ConsoleReporter::ConsoleReporter;

    void ReportRuns(const std::vector<Run>& runs) override
    {
        for (const Run& run : runs) {
            if (run.error_occurred)
                continue;
            const std::string name = name_of(run);
            if (run.run_type == Run::RT_Aggregate) {
                if (run.aggregate_name == "median")
                    medians_[name] = measure(run);
            } else {
                repetitions_[name].push_back(measure(run));
            }
        }
        benchmark::ConsoleReporter::ReportRuns(runs);
    }

    /// The median over repetitions when there were several, else the one run.
    std::optional<measurement> find(const std::string& name) const
    {
        if (const auto it = medians_.find(name); it != medians_.end())
            return it->second;
        const auto it = repetitions_.find(name);
        if (it == repetitions_.end() || it->second.empty())
            return std::nullopt;
        // Repetitions without aggregates (--benchmark_report_aggregates_only=false and
        // --benchmark_display_aggregates_only also off): their median, by time.
        std::vector<measurement> runs = it->second;
        std::sort(runs.begin(), runs.end(),
                  [](const measurement& a, const measurement& b) { return a.ns < b.ns; });
        return runs[runs.size() / 2];
    }

private:
    /// The name the table looks for: the function, its arguments and an explicit thread count,
    /// without what the run's settings add (iterations, repeats, real or manual time), so that
    /// `memory/engine/buckets:1000/iterations:1/repeats:1` is `memory/engine/buckets:1000`.
    static std::string name_of(const Run& run)
    {
        std::string name = run.run_name.function_name;
        for (const std::string* part : {&run.run_name.args, &run.run_name.threads})
            if (!part->empty())
                name += "/" + *part;
        return name;
    }

    static double to_ns(double value, benchmark::TimeUnit unit)
    {
        switch (unit) {
        case benchmark::kNanosecond: return value;
        case benchmark::kMicrosecond: return value * 1e3;
        case benchmark::kMillisecond: return value * 1e6;
        case benchmark::kSecond: return value * 1e9;
        }
        return value;
    }

    static measurement measure(const Run& run)
    {
        measurement m;
        m.real_ns = to_ns(run.GetAdjustedRealTime(), run.time_unit);
        m.ns = to_ns(run.GetAdjustedCPUTime(), run.time_unit);
        for (const auto& [key, counter] : run.counters)
            m.counters[key] = counter.value;
        return m;
    }

    std::map<std::string, measurement> medians_;
    std::map<std::string, std::vector<measurement>> repetitions_;
};

// ---- the table
// -------------------------------------------------------------------------------------

/// One row: a target, the engine's figure, the baseline's, and whether the target was met.
struct row {
    std::string what;
    std::string engine;
    std::string baseline;
    std::string ratio;
    std::string target;
    std::string verdict;
};

std::string format(const char* pattern, double value)
{
    char text[64];
    std::snprintf(text, sizeof text, pattern, value);
    return text;
}

std::string ns_text(std::optional<double> ns)
{
    return ns ? format(*ns < 10 ? "%.2f ns" : "%.1f ns", *ns) : "-";
}

std::string ratio_text(std::optional<double> baseline, std::optional<double> engine)
{
    if (!baseline || !engine || *engine <= 0)
        return "-";
    return format("%.1fx", *baseline / *engine);
}

/// "met" when every check holds, "MISSED" when one fails, "-" when one cannot be made (a figure
/// is missing) and none fails.
std::string verdict(std::initializer_list<std::optional<bool>> checks)
{
    bool unknown = false;
    for (const auto& check : checks) {
        if (!check)
            unknown = true;
        else if (!*check)
            return "MISSED";
    }
    return unknown ? "-" : "met";
}

class table_builder {
public:
    explicit table_builder(const collecting_reporter& results)
        : results_{results}
    {
    }

    std::optional<double> time(const std::string& name) const
    {
        const auto m = results_.find(name);
        return m ? std::optional{m->ns} : std::nullopt;
    }

    std::optional<double> counter(const std::string& name, const std::string& key) const
    {
        const auto m = results_.find(name);
        if (!m)
            return std::nullopt;
        const auto it = m->counters.find(key);
        return it == m->counters.end() ? std::nullopt : std::optional{it->second};
    }

    std::vector<row> rows;

private:
    const collecting_reporter& results_;
};

std::optional<bool> at_most(std::optional<double> value, double limit)
{
    return value ? std::optional{*value <= limit} : std::nullopt;
}

std::optional<bool> at_least(std::optional<double> value, double limit)
{
    return value ? std::optional{*value >= limit} : std::nullopt;
}

std::optional<double> quotient(std::optional<double> a, std::optional<double> b)
{
    if (!a || !b || *b == 0)
        return std::nullopt;
    return *a / *b;
}

std::string bytes_text(std::optional<double> bytes)
{
    return bytes ? format("%.1f B", *bytes) : "-";
}

std::string count_text(std::optional<double> value, const char* unit = "")
{
    return value ? format("%.0f", *value) + unit : "-";
}

std::vector<row> build_rows(const collecting_reporter& results, bool smoke)
{
    table_builder t{results};
    std::vector<row> rows;

    const auto check = t.time("gcra/check");
    const auto leaky = t.time("baseline/leaky_bucket_acquire");
    rows.push_back({"GCRA check, time passed in, 1 thread", ns_text(check), ns_text(leaky),
                    ratio_text(leaky, check), "<= 5 ns", verdict({at_most(check, 5)})});

    const auto one = t.time("gcra/check_atomic/threads:1");
    const auto two = t.time("gcra/check_atomic/threads:2");
    const auto slowdown = quotient(two, one);
    // Against the same bucket on one thread, not against the baseline: the ratio is the slowdown.
    rows.push_back({"atomic GCRA, 2 threads on 1 bucket", ns_text(two) + " per call",
                    "1 thread: " + ns_text(one), slowdown ? format("2T/1T %.2fx", *slowdown) : "-",
                    "<= 4x 1 thread", verdict({at_most(slowdown, 4)})});

    const std::vector<std::pair<long, double>> decision_targets{
        {1'000, 0}, {100'000, 150}, {1'000'000, 250}};
    for (const auto& [buckets, limit] : decision_targets) {
        if (smoke && buckets > 1'000)
            continue;
        const std::string size = std::to_string(buckets);
        const auto engine = t.time("decision/engine/buckets:" + size);
        const auto baseline = t.time("decision/baseline/buckets:" + size);
        const auto speedup = quotient(baseline, engine);
        const std::string what = "decision, method+path -> permit, " + size + " buckets";
        if (limit > 0)
            rows.push_back({what, ns_text(engine), ns_text(baseline), ratio_text(baseline, engine),
                            format("<= %.0f ns, >= 5x", limit),
                            verdict({at_most(engine, limit), at_least(speedup, 5)})});
        else
            rows.push_back({what, ns_text(engine), ns_text(baseline), ratio_text(baseline, engine),
                            ">= 5x", verdict({at_least(speedup, 5)})});
    }

    // What bounds a decision among many buckets: a load that misses the caches.
    for (const char* megabytes : {"16", "128"}) {
        if (smoke)
            break;
        const auto load = t.time(std::string{"reference/memory_load/MB:"} + megabytes);
        rows.push_back({std::string{"reference: one cache-missing load, "} + megabytes + " MB",
                        ns_text(load), "-", "-", "(the machine)", "-"});
    }

    // What bounds two threads on one bucket: a word both cores write.
    if (const auto shared = t.time("reference/shared_increment/threads:2"); shared && !smoke)
        rows.push_back({"reference: one atomic add, 2 threads on 1 word",
                        ns_text(shared) + " per call",
                        "1 thread: " + ns_text(t.time("reference/shared_increment/threads:1")), "-",
                        "(the machine)", "-"});

    const auto parse = t.time("parse_429/engine");
    const auto parse_baseline = t.time("parse_429/baseline");
    rows.push_back({"parse a 429: all headers + JSON body", ns_text(parse), ns_text(parse_baseline),
                    ratio_text(parse_baseline, parse), "<= 300 ns",
                    verdict({at_most(parse, 300)})});

    for (const char* path :
         {"messages", "reaction_emoji", "webhook_token", "interaction_callback"}) {
        const auto engine = t.time(std::string{"route/engine/"} + path);
        const auto baseline = t.time(std::string{"route/baseline/"} + path);
        rows.push_back({std::string{"route normalisation: "} + path, ns_text(engine),
                        ns_text(baseline), ratio_text(baseline, engine), "<= 100 ns",
                        verdict({at_most(engine, 100)})});
    }

    for (const long buckets : {1'000L, 100'000L, 1'000'000L}) {
        if (smoke && buckets > 1'000)
            continue;
        const std::string size = std::to_string(buckets);
        const std::string engine_name = "memory/engine/buckets:" + size;
        const std::string baseline_name = "memory/baseline/buckets:" + size;
        const auto engine = t.counter(engine_name, "bytes_per_bucket");
        const auto baseline = t.counter(baseline_name, "bytes_per_bucket");
        rows.push_back({"memory per live bucket, " + size + " buckets", bytes_text(engine),
                        bytes_text(baseline), ratio_text(baseline, engine), "<= 128 B",
                        verdict({at_most(engine, 128)})});
        // "Back to baseline": what stays is not per bucket; a page's worth of slack is allowed
        // for allocations that happened to grow meanwhile (the ticket slots, the timers).
        const auto after = t.counter(engine_name, "bytes_after_eviction");
        const auto after_baseline = t.counter(baseline_name, "bytes_after_eviction");
        rows.push_back({"memory after idle eviction, " + size + " buckets", bytes_text(after),
                        bytes_text(after_baseline), "-", "back to empty (<= 4 KiB)",
                        verdict({at_most(after, 4096)})});
    }

    const auto flow = t.counter("throughput/flow", "requests_per_second");
    rows.push_back({"simulated throughput, requests flowing", count_text(flow, " req/s"), "-", "-",
                    ">= 1,000,000 req/s", verdict({at_least(flow, 1'000'000)})});
    const auto rate = t.counter("throughput/simulated", "requests_per_second");
    rows.push_back({"simulated throughput, backlog of 100,000", count_text(rate, " req/s"), "-",
                    "-", ">= 1,000,000 req/s", verdict({at_least(rate, 1'000'000)})});

    const auto span_text = [&](const std::string& name) -> std::string {
        const auto ratio = t.counter(name, "ratio");
        const auto span = t.counter(name, "span_s");
        const auto rejected = t.counter(name, "server_429s");
        const auto failed = t.counter(name, "failed");
        if (!ratio || !span || !rejected || !failed)
            return "-";
        return format("%.3f", *ratio) + format(" (%.2f s, ", *span) +
               format("%.0f 429s, ", *rejected) + format("%.0f failed)", *failed);
    };
    const auto engine_ratio = t.counter("utilisation/demo/engine", "ratio");
    const auto engine_429s = t.counter("utilisation/demo/engine", "server_429s");
    const auto engine_failed = t.counter("utilisation/demo/engine", "failed");
    // No ratio: the baseline's span ends early because most of its requests fail.
    rows.push_back({"utilisation: demo span / minimum", span_text("utilisation/demo/engine"),
                    span_text("utilisation/demo/baseline"), "-", "<= 1.02, zero 429s",
                    verdict({at_most(engine_ratio, 1.02), at_most(engine_429s, 0),
                             at_most(engine_failed, 0)})});
    return rows;
}

void print_table(const std::vector<row>& rows)
{
    const std::vector<std::string> heading{"what",   "engine", "baseline", "baseline/engine",
                                           "target", "met?"};
    std::vector<std::size_t> width(heading.size());
    const auto cells = [](const row& r) {
        return std::vector<std::string>{r.what, r.engine, r.baseline, r.ratio, r.target, r.verdict};
    };
    for (std::size_t i = 0; i < heading.size(); ++i)
        width[i] = heading[i].size();
    for (const row& r : rows) {
        const auto c = cells(r);
        for (std::size_t i = 0; i < c.size(); ++i)
            width[i] = std::max(width[i], c[i].size());
    }
    const auto print = [&](const std::vector<std::string>& c) {
        std::string line = "|";
        for (std::size_t i = 0; i < c.size(); ++i)
            line += " " + c[i] + std::string(width[i] - c[i].size(), ' ') + " |";
        std::printf("%s\n", line.c_str());
    };
    print(heading);
    std::string rule = "|";
    for (const std::size_t w : width)
        rule += std::string(w + 2, '-') + "|";
    std::printf("%s\n", rule.c_str());
    for (const row& r : rows)
        print(cells(r));
}

// ---- the machine -----------------------------------------------------------------------------

std::string cpu_model()
{
    std::ifstream cpuinfo{"/proc/cpuinfo"};
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos)
                return line.substr(line.find_first_not_of(" \t", colon + 1));
        }
    }
    return "unknown CPU";
}

std::string compiler()
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "unknown compiler";
#endif
}

void print_machine(bool smoke)
{
    std::printf("\ndiscord-ratelimit benchmarks%s\n",
                smoke ? " (smoke run: timings mean nothing)" : "");
    std::printf("machine  %s, %u hardware threads\n", cpu_model().c_str(),
                std::thread::hardware_concurrency());
    std::printf("build    %s, %s\n", compiler().c_str(), DISCORD_RATELIMIT_BENCH_BUILD_TYPE);
    std::printf("figures  medians over repetitions when repeated; times are CPU time per call (per "
                "call and thread with 2 threads);\n         throughput is wall time; the baseline "
                "is a naive seed design measured in the same run\n\n");
}

} // namespace

int main(int argc, char** argv)
{
    // --smoke is ours: it becomes Google Benchmark flags placed after the user's, so it wins.
    std::vector<char*> args;
    bool smoke = false;
    for (int i = 0; i < argc; ++i) {
        if (i > 0 && std::string_view{argv[i]} == "--smoke")
            smoke = true;
        else
            args.push_back(argv[i]);
    }
    std::string min_time = "--benchmark_min_time=0.001";
    std::string repetitions = "--benchmark_repetitions=1";
    // Sizes above 10^3 take seconds to set up, and the reference loads need 128 MB: a negative
    // filter drops them.
    std::string filter = "--benchmark_filter=-buckets:10000|reference/";
    bench::smoke_run = smoke;
    if (smoke) {
        args.push_back(min_time.data());
        args.push_back(repetitions.data());
        args.push_back(filter.data());
    }
    args.push_back(nullptr);
    int count = static_cast<int>(args.size()) - 1;
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data()))
        return 1;

    const bool color = isatty(STDOUT_FILENO) != 0;
    collecting_reporter reporter{color ? benchmark::ConsoleReporter::OO_Color
                                       : benchmark::ConsoleReporter::OO_None};
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    print_machine(smoke);
    print_table(build_rows(reporter, smoke));
    return 0;
}
