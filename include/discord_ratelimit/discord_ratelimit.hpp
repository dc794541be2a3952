// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_DISCORD_RATELIMIT_HPP
#define DISCORD_RATELIMIT_DISCORD_RATELIMIT_HPP

/// @file
/// The whole sans-I/O core and the blocking facade in one include. The Asio layer (`asio/`),
/// `beast_headers.hpp` (Boost.Beast) and the `testing/` headers are separate, so that nobody pays
/// for what they do not use.

#include <discord_ratelimit/blocking_limiter.hpp>
#include <discord_ratelimit/bucket_registry.hpp>
#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/discord_bucket.hpp>
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/error.hpp>
#include <discord_ratelimit/global_limiter.hpp>
#include <discord_ratelimit/headers.hpp>
#include <discord_ratelimit/invalid_request_tracker.hpp>
#include <discord_ratelimit/leaky_bucket.hpp>
#include <discord_ratelimit/observer.hpp>
#include <discord_ratelimit/rate_limit_body.hpp>
#include <discord_ratelimit/response.hpp>
#include <discord_ratelimit/retry_policy.hpp>
#include <discord_ratelimit/route.hpp>
#include <discord_ratelimit/token_bucket.hpp>

#endif
