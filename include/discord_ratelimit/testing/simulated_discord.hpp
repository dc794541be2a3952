// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_TESTING_SIMULATED_DISCORD_HPP
#define DISCORD_RATELIMIT_TESTING_SIMULATED_DISCORD_HPP

/// @file
/// An in-process Discord that enforces rate limits the way Discord documents them, on any clock:
/// fixed windows per (bucket hash, major parameter), routes sharing a hash, and a global limit
/// checked over every rolling window of arrivals. For unit tests of bots and of this library.

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/route.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace discord_ratelimit::testing {

/// A simulated Discord answering requests at the times they arrive.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
template <clock Clock>
class simulated_discord {
public:
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;

    /// One bucket: routes whose rule names the same `hash` share it (per major parameter).
    struct bucket_rule {
        std::string hash;
        std::uint32_t limit = 5;
        duration window = std::chrono::duration_cast<duration>(std::chrono::seconds{5});
    };

    struct config {
        std::uint32_t global_limit = 50;
        duration global_window = std::chrono::duration_cast<duration>(std::chrono::seconds{1});
        /// Route key (as `route::key` prints it) to its bucket; other routes get `default_rule`
        /// under a hash of their own.
        std::map<std::string, bucket_rule, std::less<>> routes;
        bucket_rule default_rule{};
        /// Discord's wall clock at this clock's epoch, for X-RateLimit-Reset.
        std::chrono::seconds wall_clock_at_epoch{1'700'000'000};
        /// Keep one `arrival_record` per request (see `arrivals()`), for timelines.
        bool record_arrivals = false;
    };

    /// An HTTP answer: status, headers (lower-case names, as Discord sends them) and body.
    struct reply {
        int status = 200;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
    };

    /// What the server saw.
    struct counters {
        std::uint64_t requests = 0;
        std::uint64_t ok = 0;
        std::uint64_t user_429 = 0;
        std::uint64_t global_429 = 0;
        std::uint64_t injected = 0; ///< requests answered with an injected reply
        /// 429s the rules gave (injected answers not included).
        std::uint64_t rate_limited() const noexcept { return user_429 + global_429; }
    };

    /// One closed or open window of a bucket: when it started and how many requests it counted.
    struct window_record {
        std::string hash;
        std::uint64_t major = 0;
        time_point start;
        std::uint32_t used = 0;
        std::uint32_t limit = 0;
    };

    /// One request as the server saw it (kept when `config::record_arrivals` is set).
    struct arrival_record {
        time_point at;
        std::string hash;        ///< the bucket hash its route maps to
        std::uint64_t major = 0; ///< the major parameter's id (0 when the route has none)
        int status = 0;          ///< the answer's status
        bool global_exempt = false;
    };

    explicit simulated_discord(config c = {})
        : config_{std::move(c)}
    {
    }

    /// Makes the next request answered with `r` instead of the rules (a fault, a 5xx, a ban page, a
    /// shared 429...); injected answers are used in order, one per request.
    void inject(reply r) { injected_.push_back(std::move(r)); }

    /// Answers a request on `r` that arrives at `arrival` (arrivals must come in time order).
    reply handle(const route& r, time_point arrival)
    {
        reply out = answer(r, arrival);
        if (config_.record_arrivals)
            arrivals_.push_back(
                arrival_record{arrival, rule_for(r).hash, r.major.id, out.status, r.global_exempt});
        return out;
    }

    const counters& seen() const noexcept { return counters_; }

    /// Every window any bucket opened, in order.
    const std::deque<window_record>& windows() const noexcept { return history_; }

    /// Every request in arrival order, when `config::record_arrivals` is set; empty otherwise.
    const std::vector<arrival_record>& arrivals() const noexcept { return arrivals_; }

    /// Decimal seconds with millisecond precision, rounded up, as Discord formats them.
    static std::string decimal_seconds(duration d)
    {
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
        std::string fraction = std::to_string(ms % 1000);
        fraction.insert(0, 3 - fraction.size(), '0');
        return std::to_string(ms / 1000) + "." + fraction;
    }

private:
    reply answer(const route& r, time_point arrival)
    {
        ++counters_.requests;
        if (!injected_.empty()) {
            reply out = std::move(injected_.front());
            injected_.pop_front();
            ++counters_.injected;
            return out;
        }
        if (!r.global_exempt) {
            while (!global_arrivals_.empty() &&
                   arrival - global_arrivals_.front() >= config_.global_window)
                global_arrivals_.pop_front();
            if (global_arrivals_.size() >= config_.global_limit) {
                ++counters_.global_429;
                const duration wait = global_arrivals_.front() + config_.global_window - arrival;
                return global_rate_limited(wait);
            }
            global_arrivals_.push_back(arrival);
        }
        const bucket_rule& rule = rule_for(r);
        auto& w = windows_[std::pair{rule.hash, r.major}];
        if (w.records == nullptr || arrival >= w.end) {
            history_.push_back(window_record{rule.hash, r.major.id, arrival, 0, rule.limit});
            w.records = &history_.back();
            w.end = arrival + rule.window;
        }
        const duration reset_after = w.end - arrival;
        if (w.records->used >= rule.limit) {
            ++counters_.user_429;
            reply out = bucket_reply(429, rule, 0, w.end, reset_after);
            out.headers.emplace_back("retry-after", std::to_string(ceil_seconds(reset_after)));
            out.headers.emplace_back("x-ratelimit-scope", "user");
            out.body = R"({"message": "You are being rate limited.", "retry_after": )" +
                       decimal_seconds(reset_after) + R"(, "global": false})";
            return out;
        }
        ++w.records->used;
        ++counters_.ok;
        return bucket_reply(200, rule, rule.limit - w.records->used, w.end, reset_after);
    }

    struct open_window {
        window_record* records = nullptr;
        time_point end{};
    };
    struct key_less {
        bool operator()(const std::pair<std::string, major_parameter>& a,
                        const std::pair<std::string, major_parameter>& b) const
        {
            if (a.first != b.first)
                return a.first < b.first;
            return std::tie(a.second.kind, a.second.id, a.second.token_hash) <
                   std::tie(b.second.kind, b.second.id, b.second.token_hash);
        }
    };

    static long long ceil_seconds(duration d)
    {
        return std::chrono::ceil<std::chrono::seconds>(d).count();
    }

    const bucket_rule& rule_for(const route& r)
    {
        if (const auto it = config_.routes.find(r.key.view()); it != config_.routes.end())
            return it->second;
        auto [it, inserted] =
            config_.routes.emplace(std::string{r.key.view()}, config_.default_rule);
        if (inserted)
            it->second.hash = "auto-" + std::to_string(r.key.hash());
        return it->second;
    }

    reply bucket_reply(int status, const bucket_rule& rule, std::uint32_t remaining, time_point end,
                       duration reset_after) const
    {
        reply out;
        out.status = status;
        const auto reset_wall = config_.wall_clock_at_epoch + end.time_since_epoch();
        out.headers = {
            {"x-ratelimit-limit", std::to_string(rule.limit)},
            {"x-ratelimit-remaining", std::to_string(remaining)},
            {"x-ratelimit-reset",
             decimal_seconds(std::chrono::duration_cast<duration>(reset_wall))},
            {"x-ratelimit-reset-after", decimal_seconds(reset_after)},
            {"x-ratelimit-bucket", rule.hash},
            {"via", "1.1 google"},
        };
        out.body = "{}";
        return out;
    }

    static reply global_rate_limited(duration wait)
    {
        reply out;
        out.status = 429;
        out.headers = {
            {"retry-after", std::to_string(ceil_seconds(wait))},
            {"x-ratelimit-global", "true"},
            {"x-ratelimit-scope", "global"},
            {"via", "1.1 google"},
        };
        out.body = R"({"global": true, "message": "You are being rate limited.", "retry_after": )" +
                   decimal_seconds(wait) + "}";
        return out;
    }

    config config_;
    counters counters_{};
    std::deque<window_record> history_;
    std::map<std::pair<std::string, major_parameter>, open_window, key_less> windows_;
    std::deque<time_point> global_arrivals_;
    std::deque<reply> injected_;
    std::vector<arrival_record> arrivals_;
};

} // namespace discord_ratelimit::testing

#endif
