// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BENCH_BASELINE_SEED_RATE_LIMIT_MANAGER_HPP
#define DISCORD_RATELIMIT_BENCH_BASELINE_SEED_RATE_LIMIT_MANAGER_HPP

/// @file
/// The baseline every benchmark figure is a ratio against: the seed design report's
/// `RateLimitManager`, `RateLimitedClient.request` and `LeakyBucket` (a Python sketch), written in
/// C++ the way a user porting it would write them. It is not part of the library.
///
/// Reproduced faithfully, flaws included:
/// - the route key is built per request as `method:path[:guild:ID][:channel:ID]` from the full
///   path, message ids, emoji and tokens included (`_get_route_key`), so routes that share a bucket
///   get separate states and every path is a new key;
/// - one map of buckets and one map of per-key locks (`defaultdict(asyncio.Lock)`), both keyed by
///   that string, never evicted; a `std::mutex` guards the maps where Python relies on its single
///   event loop;
/// - an unknown key starts at limit 50, remaining 50, so a burst on a new route goes out at once;
/// - `acquire` waits only when `remaining < min_remaining` (2) and `reset_at` is still ahead, for
///   `reset_at - now + 0.1` s, holding the route key's lock (and, for the global wait, the global
///   lock) across the sleep, then sets `remaining = limit`;
/// - `reset_at` is X-RateLimit-Reset, an absolute epoch on Discord's clock, compared with the
///   client's wall clock (`time.time()`): the `now` passed in here is that wall clock, in seconds;
/// - headers are copied into a map (`dict(response.headers)`) on every response, twice on a 429,
///   and parsed with `std::stoi` / `std::stod` (`int()`, `float()`);
/// - the global limit is only a fixed window learned from a global 429 (`global_reset_at =
///   now + Retry-After`); nothing paces requests below it;
/// - a 429 sets the route key's `remaining = 0` and `reset_at = now + Retry-After` (default 5 s);
///   the request sleeps `retry_after + 0.5` and is retried at most 3 times, then fails.
///
/// One deliberate kindness: headers are looked up by the lower-case names Discord sends. The
/// Python indexes a plain dict with "X-RateLimit-Limit", and Discord's names (which httpx
/// lowercases anyway) are lower case, so the seed as written would never read a single rate-limit
/// header; measuring that typo would say nothing about the design.
///
/// Time: nothing here reads a clock or sleeps by itself. The decisions take `now` (wall-clock
/// seconds, as `time.time()` returns them) and return how long the seed would sleep; `acquire`,
/// `handle_429` and `request` take a `now()` and a `sleep(seconds)` callable, so a thread can pass
/// the system clock and `std::this_thread::sleep_for`. On virtual time, the benchmarks drive the
/// same steps (`global_wait`, `route_wait`, `take`) from a discrete-event simulation that models
/// asyncio's FIFO locks and sleeps instead (bench_utilisation.cpp).
///
/// @par Thread Safety
/// As the seed intends: every member may be called from any thread.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace discord_ratelimit_bench::baseline {

/// The seed's constants, named.
constexpr int default_min_remaining = 2;
constexpr double wait_padding_seconds = 0.1;  ///< acquire sleeps the wait plus this
constexpr double retry_padding_seconds = 0.5; ///< request sleeps Retry-After plus this after a 429
constexpr double default_retry_after_seconds = 5.0; ///< `headers.get("Retry-After", 5)`
constexpr int max_retries = 3;

/// `dict(response.headers)`: every header of a response, copied, names as received. (`less<>`
/// spares a string per lookup: a port need not be slower than it has to.)
using header_map = std::map<std::string, std::string, std::less<>>;

/// `RateLimitBucket`: the defaults are the seed's (an unknown key may send 50 at once).
struct rate_limit_bucket {
    int limit = 50;
    int remaining = 50;
    double reset_at = 0.0; ///< X-RateLimit-Reset: epoch seconds on Discord's clock
    std::optional<std::string> bucket_id;
};

/// `RateLimitManager`.
class seed_rate_limit_manager {
public:
    /// `_get_route_key`: `method:path`, then `:guild:ID` when a guild id is given, then
    /// `:channel:ID` with whatever follows "/channels/" up to the next slash.
    static std::string route_key(std::string_view method, std::string_view path,
                                 std::optional<std::uint64_t> guild_id = std::nullopt)
    {
        std::string key = std::string{method} + ":" + std::string{path};
        if (guild_id && *guild_id != 0) // `if guild_id:`
            key += ":guild:" + std::to_string(*guild_id);
        constexpr std::string_view channels = "/channels/";
        if (const auto at = path.find(channels); at != std::string_view::npos) {
            const auto id_start = at + channels.size();
            const auto id_end = path.find('/', id_start);
            key += ":channel:" + std::string{path.substr(id_start, id_end - id_start)};
        }
        return key;
    }

    /// `acquire`: blocks in `sleep(seconds)` as the seed awaits, holding the global lock across a
    /// global wait and the route key's lock across a bucket wait.
    template <class Now, class Sleep>
    void acquire(std::string_view method, std::string_view path,
                 std::optional<std::uint64_t> guild_id, Now&& now, Sleep&& sleep,
                 int min_remaining = default_min_remaining)
    {
        const std::string key = route_key(method, path, guild_id);
        {
            const std::lock_guard global{global_lock_};
            if (const double wait = global_wait(now()); wait > 0)
                sleep(wait);
        }
        const std::lock_guard route{route_lock(key)};
        const double wait = route_wait(key, min_remaining, now());
        if (wait > 0)
            sleep(wait);
        take(key, wait > 0);
    }

    /// The global step of `acquire`, for a caller holding the global lock: the seconds to sleep
    /// (still holding it) before going on, or 0.
    double global_wait(double now) const noexcept
    {
        return global_reset_at_ > now ? global_reset_at_ - now + wait_padding_seconds : 0.0;
    }

    /// The global lock (`_global_lock`).
    std::mutex& global_lock() noexcept { return global_lock_; }

    /// The route key's lock, made on first use (`_locks[route_key]` of a defaultdict).
    std::mutex& route_lock(const std::string& key)
    {
        const std::lock_guard maps{maps_mutex_};
        return locks_[key];
    }

    /// The route step of `acquire`, for a caller holding the key's lock: the seconds to sleep
    /// (still holding it) before `take`, or 0. An unknown key never waits.
    double route_wait(const std::string& key, int min_remaining, double now)
    {
        const std::lock_guard maps{maps_mutex_};
        const auto it = buckets_.find(key);
        if (it == buckets_.end())
            return 0.0;
        const rate_limit_bucket& bucket = it->second;
        if (bucket.remaining < min_remaining && bucket.reset_at > now)
            return bucket.reset_at - now + wait_padding_seconds;
        return 0.0;
    }

    /// The end of `acquire`: after a wait the seed assumes a full window; then it counts this
    /// request.
    void take(const std::string& key, bool waited)
    {
        const std::lock_guard maps{maps_mutex_};
        rate_limit_bucket& bucket = buckets_[key];
        if (waited)
            bucket.remaining = bucket.limit;
        bucket.remaining = std::max(0, bucket.remaining - 1);
    }

    /// `update_from_headers`: after every response.
    void update_from_headers(std::string_view method, std::string_view path,
                             const header_map& headers,
                             std::optional<std::uint64_t> guild_id = std::nullopt)
    {
        const std::string key = route_key(method, path, guild_id);
        const std::lock_guard maps{maps_mutex_};
        rate_limit_bucket& bucket = buckets_[key];
        if (const auto it = headers.find("x-ratelimit-limit"); it != headers.end())
            bucket.limit = std::stoi(it->second);
        if (const auto it = headers.find("x-ratelimit-remaining"); it != headers.end())
            bucket.remaining = std::stoi(it->second);
        if (const auto it = headers.find("x-ratelimit-reset"); it != headers.end())
            bucket.reset_at = std::stod(it->second);
        if (const auto it = headers.find("x-ratelimit-bucket"); it != headers.end())
            bucket.bucket_id = it->second;
    }

    /// Whether `handle_429` treats the response as a global 429 (and so takes the global lock).
    static bool is_global(const header_map& headers)
    {
        const auto it = headers.find("x-ratelimit-global");
        std::string value = it == headers.end() ? "false" : it->second;
        std::transform(value.begin(), value.end(), value.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return value == "true";
    }

    /// `handle_429`: returns Retry-After in seconds. A global 429 closes every route until
    /// now + Retry-After (taking the global lock, so it waits behind a global wait in progress);
    /// any other empties the route key's bucket until then.
    template <class Now>
    double handle_429(std::string_view method, std::string_view path, const header_map& headers,
                      std::optional<std::uint64_t> guild_id, Now&& now)
    {
        const std::string key = route_key(method, path, guild_id);
        const auto retry = headers.find("retry-after");
        const double retry_after =
            retry == headers.end() ? default_retry_after_seconds : std::stod(retry->second);
        if (is_global(headers)) {
            const std::lock_guard global{global_lock_};
            global_reset_at_ = now() + retry_after;
        } else {
            const double at = now() + retry_after;
            const std::lock_guard maps{maps_mutex_};
            rate_limit_bucket& bucket = buckets_[key];
            bucket.remaining = 0;
            bucket.reset_at = at;
        }
        return retry_after;
    }

    /// The bucket of `key`, or null: for the benchmarks, to keep a state steady between
    /// decisions. The pointer stays valid while the manager lives (nothing is ever erased).
    rate_limit_bucket* find_bucket(const std::string& key)
    {
        const std::lock_guard maps{maps_mutex_};
        const auto it = buckets_.find(key);
        return it == buckets_.end() ? nullptr : &it->second;
    }

    std::size_t bucket_count()
    {
        const std::lock_guard maps{maps_mutex_};
        return buckets_.size();
    }

private:
    std::mutex maps_mutex_;
    std::unordered_map<std::string, rate_limit_bucket> buckets_;
    std::unordered_map<std::string, std::mutex> locks_;
    std::mutex global_lock_;
    double global_reset_at_ = 0.0;
};

/// `RateLimitedClient.request`, on one thread per request: acquire, send, learn from the headers;
/// on a 429, `handle_429`, sleep Retry-After + 0.5 s and try again, at most `retries` times, then
/// throw. `send()` returns the response: `.status` and `.headers` (pairs of name and value).
template <class Send, class Now, class Sleep>
auto request(seed_rate_limit_manager& limiter, std::string_view method, std::string_view path,
             std::optional<std::uint64_t> guild_id, Send&& send, Now&& now, Sleep&& sleep,
             int retries = max_retries)
{
    for (int attempt = 0; attempt <= retries; ++attempt) {
        limiter.acquire(method, path, guild_id, now, sleep);
        auto response = send();
        limiter.update_from_headers(
            method, path, header_map(response.headers.begin(), response.headers.end()), guild_id);
        if (response.status == 429) {
            if (attempt < retries) {
                const double retry_after = limiter.handle_429(
                    method, path, header_map(response.headers.begin(), response.headers.end()),
                    guild_id, now);
                sleep(retry_after + retry_padding_seconds);
                continue;
            }
            throw std::runtime_error("Rate limited after " + std::to_string(retries) + " retries");
        }
        return response;
    }
    throw std::runtime_error("Max retries exceeded");
}

/// The seed's `LeakyBucket` (a token bucket, in fact): `rate` tokens per second refill up to
/// `capacity`; time is monotonic seconds passed in.
class seed_leaky_bucket {
public:
    seed_leaky_bucket(double rate, int capacity, double now)
        : rate_{rate}
        , capacity_{capacity}
        , tokens_{static_cast<double>(capacity)}
        , last_update_{now}
    {
    }

    /// One pass of `acquire`'s loop, under the lock: 0 when the tokens were taken, else the
    /// seconds to sleep before trying again.
    double try_acquire(double now, int tokens = 1)
    {
        const std::lock_guard lock{lock_};
        return refill_and_take(now, tokens);
    }

    /// `acquire`: holds the lock across its sleeps, as the seed does.
    template <class Now, class Sleep>
    void acquire(Now&& now, Sleep&& sleep, int tokens = 1)
    {
        const std::lock_guard lock{lock_};
        for (double wait = refill_and_take(now(), tokens); wait > 0;
             wait = refill_and_take(now(), tokens))
            sleep(wait);
    }

private:
    double refill_and_take(double now, int tokens)
    {
        const double elapsed = now - last_update_;
        last_update_ = now;
        tokens_ = std::min(static_cast<double>(capacity_), tokens_ + elapsed * rate_);
        if (tokens_ >= tokens) {
            tokens_ -= tokens;
            return 0.0;
        }
        return (tokens - tokens_) / rate_;
    }

    double rate_;
    int capacity_;
    double tokens_;
    double last_update_;
    std::mutex lock_;
};

} // namespace discord_ratelimit_bench::baseline

#endif
