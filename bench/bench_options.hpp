// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BENCH_BENCH_OPTIONS_HPP
#define DISCORD_RATELIMIT_BENCH_BENCH_OPTIONS_HPP

/// @file
/// How the benchmark program was asked to run, for benchmarks whose work has no size argument of
/// its own to filter on.

namespace bench {

/// `--smoke`: run every benchmark briefly (the test suite's check that they still run). Set by
/// main before any benchmark runs.
extern bool smoke_run;

} // namespace bench

#endif
