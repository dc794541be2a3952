// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_TESTING_SIMULATED_DISCORD_HPP
#define DISCORD_RATELIMIT_TESTING_SIMULATED_DISCORD_HPP

/// @file
/// An in-process Discord that enforces rate limits the way Discord documents them, on any clock:
/// fixed windows per (bucket hash, major parameter), routes sharing a hash, a global limit per bot
/// token checked over every rolling window of arrivals (interaction endpoints exempt), the hidden
/// sub-limit on channel name and topic edits, shared-scope 429s on demand, and Cloudflare bans.
/// Sans-I/O: it answers a route at a time point you pass. For unit tests of bots and of this
/// library; `tests/fake_discord` wraps it in a real HTTP server.

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/route.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace discord_ratelimit::testing {

/// What a request carries besides its route and arrival time.
///
/// @par Thread Safety
/// A value type of views: distinct objects safe; the viewed strings must outlive `handle`.
struct request_info {
    /// The bot token (from `Authorization: Bot <token>`); empty when the request had none. Each
    /// token has its own global limit; requests without a token share one (Discord limits them per
    /// IP address). The simulated Discord keeps only a hash of it.
    std::string_view token;
    /// The request body (JSON), read for what the route alone does not say: whether a
    /// `PATCH /channels/{channel_id}` edits the name or topic.
    std::string_view body;
};

/// What a banned client gets instead of Discord's answers (see `simulated_discord::ban`).
enum class ban_page : std::uint8_t {
    html,       ///< Cloudflare's HTML "Access denied" page, `content-type: text/html`
    error_1015, ///< the plain text `error code: 1015`
    json,       ///< Discord's JSON notice, `{"code": 0, "message": "You are being blocked..."}`
};

/// A simulated Discord answering requests at the times they arrive.
///
/// Each request is decided in this order:
/// 1. while banned (`ban`), a 429 from "Cloudflare": no `Via`, no rate-limit headers;
/// 2. an injected reply (`inject`), if any is left;
/// 3. the global limit of the request's token, unless its route is global-exempt: over it, a
///    global 429 (the request is not counted in any bucket);
/// 4. a shared-scope 429 when a `config::shared_limits` entry says this is the Nth request on the
///    route (the bucket is not used);
/// 5. the route's bucket: when its window is spent, a user 429 with Remaining 0;
/// 6. the hidden sub-limit on channel name/topic edits: when spent, a user 429 that shows the
///    ordinary bucket's headers with its Remaining (> 0) unchanged (the bucket is not used);
/// 7. otherwise 200: the request uses one request of its bucket's window.
///
/// Every reply of its own has a `content-type` header; all but the ban pages have
/// `via: 1.1 google`. Header names are lower case, as Discord sends them.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe (serialize every call, `seen()` included).
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

    /// A shared-scope limit on a route: every `every`-th request on route key `route` that gets
    /// past the global limit (counted over all major parameters) is answered with a shared 429
    /// asking to wait `retry_after`. `every` 0 disables the entry.
    struct shared_limit_rule {
        std::string route;
        std::uint32_t every = 1;
        duration retry_after = std::chrono::duration_cast<duration>(std::chrono::seconds{1});
    };

    struct config {
        std::uint32_t global_limit = 50;
        duration global_window = std::chrono::duration_cast<duration>(std::chrono::seconds{1});
        /// Route key (as `route::key` prints it) to its bucket; other routes get `default_rule`
        /// under a hash of their own.
        std::map<std::string, bucket_rule, std::less<>> routes;
        bucket_rule default_rule{};
        /// Discord's wall clock at this clock's epoch, for X-RateLimit-Reset: `Reset` is this plus
        /// the window's end (Reset-After does not depend on it). A clock skew is an offset here.
        std::chrono::nanoseconds wall_clock_at_epoch = std::chrono::seconds{1'700'000'000};
        /// Keep one `arrival_record` per request (see `arrivals()`), for timelines.
        bool record_arrivals = false;
        /// Enforce the hidden sub-limit on `PATCH /channels/{channel_id}` requests whose JSON body
        /// has a top-level `"name"` or `"topic"`: `name_edit_limit` per `name_edit_window` per
        /// channel, counted at the edits that succeed. When `handle` is given no body, a route
        /// parsed with `route_options::edits_channel_name_or_topic` counts as such an edit.
        bool name_edit_sub_limit = true;
        std::uint32_t name_edit_limit = 2;
        duration name_edit_window = std::chrono::duration_cast<duration>(std::chrono::minutes{10});
        /// Routes that get shared-scope 429s; the first entry naming a route applies.
        std::vector<shared_limit_rule> shared_limits;
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
        std::uint64_t user_429 = 0;      ///< 429s of a spent bucket (the sub-limit not included)
        std::uint64_t global_429 = 0;    ///< 429s of a token's global limit
        std::uint64_t injected = 0;      ///< requests answered with an injected reply
        std::uint64_t shared_429 = 0;    ///< shared-scope 429s (`config::shared_limits`)
        std::uint64_t sub_limit_429 = 0; ///< 429s of the hidden channel name/topic edit limit
        std::uint64_t banned = 0;        ///< requests answered with a ban page
        std::uint64_t exempt = 0;        ///< requests on global-exempt routes (any answer)
        /// 429s the rules gave for the client's own buckets and global limit (sub-limit, shared,
        /// ban and injected answers not included).
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

    /// The rules, to change between windows (limits, hashes, the global limit, shared limits...).
    /// A changed limit applies to open windows at once; a changed window length or hash applies to
    /// the windows opened afterwards (a new hash opens a new window).
    config& settings() noexcept { return config_; }
    const config& settings() const noexcept { return config_; }

    /// Makes the next request answered with `r` instead of the rules (a fault, a 5xx, a ban page, a
    /// shared 429...); injected answers are used in order, one per request, and sent as given.
    void inject(reply r) { injected_.push_back(std::move(r)); }

    /// Bans the client: from now on every request gets a 429 with `page` as its body, without
    /// `Via` and without rate-limit headers, until `lift_ban()`. Banning again changes the page.
    void ban(ban_page page = ban_page::html) noexcept { ban_ = page; }

    /// Ends a ban; the rules answer again (the windows and limits kept counting nothing meanwhile).
    void lift_ban() noexcept { ban_.reset(); }

    /// The page of the current ban; empty when not banned.
    std::optional<ban_page> current_ban() const noexcept { return ban_; }

    /// Answers a request on `r` that arrives at `arrival` (arrivals must come in time order).
    reply handle(const route& r, time_point arrival, const request_info& info = {})
    {
        reply out = answer(r, arrival, info);
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
        const auto magnitude = ms < 0 ? -ms : ms;
        std::string fraction = std::to_string(magnitude % 1000);
        fraction.insert(0, 3 - fraction.size(), '0');
        return (ms < 0 ? "-" : "") + std::to_string(magnitude / 1000) + "." + fraction;
    }

    /// The body of Discord's ban notice (`ban_page::json`).
    static constexpr std::string_view ban_notice =
        R"({"code": 0, "message": "You are being blocked from accessing our API temporarily due )"
        R"(to exceeding our rate limits frequently. Please read our docs at )"
        R"(https://discord.com/developers/docs/topics/rate-limits to prevent this moving )"
        R"(forward."})";

    /// The ban page's HTML (`ban_page::html`), shaped like Cloudflare's.
    static constexpr std::string_view ban_html =
        "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head>\n<title>Access denied | discord.com used "
        "Cloudflare to restrict access</title>\n<meta charset=\"UTF-8\" />\n</head>\n<body>\n"
        "<div id=\"cf-wrapper\">\n<h1><span class=\"cf-error-type\">Error</span> "
        "<span class=\"cf-error-code\">1015</span></h1>\n<h2>You are being rate limited</h2>\n"
        "<p>The owner of this website (discord.com) has banned you temporarily from accessing "
        "this website.</p>\n</div>\n</body>\n</html>\n";

private:
    /// The state of a bucket's window as a request at `arrival` finds it.
    struct window_view {
        std::uint32_t used = 0;
        time_point end{};
        duration reset_after{};
    };

    reply answer(const route& r, time_point arrival, const request_info& info)
    {
        ++counters_.requests;
        if (r.global_exempt)
            ++counters_.exempt;
        if (ban_) {
            ++counters_.banned;
            return ban_reply(*ban_);
        }
        if (!injected_.empty()) {
            reply out = std::move(injected_.front());
            injected_.pop_front();
            ++counters_.injected;
            return out;
        }
        if (!r.global_exempt) {
            auto& arrivals = global_arrivals_[token_key(info.token)];
            while (!arrivals.empty() && arrival - arrivals.front() >= config_.global_window)
                arrivals.pop_front();
            if (arrivals.size() >= config_.global_limit) {
                ++counters_.global_429;
                return global_rate_limited(arrivals.empty() ? config_.global_window
                                                            : arrivals.front() +
                                                                  config_.global_window - arrival);
            }
            arrivals.push_back(arrival);
        }
        const bucket_rule& rule = rule_for(r);
        auto& w = windows_[std::pair{rule.hash, r.major}];
        const bool open = w.records != nullptr && arrival < w.end;
        const window_view view{open ? w.records->used : 0, open ? w.end : arrival + rule.window,
                               open ? w.end - arrival : rule.window};
        const std::uint32_t remaining = rule.limit > view.used ? rule.limit - view.used : 0;

        if (const shared_limit_rule* shared = shared_rule_for(r)) {
            if (++shared_counts_[shared->route] % shared->every == 0) {
                ++counters_.shared_429;
                return rate_limited(rule, remaining, view, "shared", shared->retry_after,
                                    R"({"message": "The resource is being rate limited.", )"
                                    R"("retry_after": )" +
                                        decimal_seconds(shared->retry_after) +
                                        R"(, "global": false, "code": 40062})");
            }
        }
        if (remaining == 0) {
            ++counters_.user_429;
            return rate_limited(rule, 0, view, "user", view.reset_after,
                                user_429_body(view.reset_after));
        }
        const bool name_edit = config_.name_edit_sub_limit && edits_name_or_topic(r, info.body);
        std::deque<time_point>* edits = nullptr;
        if (name_edit) {
            edits = &name_edits_[r.major.id];
            while (!edits->empty() && arrival - edits->front() >= config_.name_edit_window)
                edits->pop_front();
            if (edits->size() >= config_.name_edit_limit) {
                ++counters_.sub_limit_429;
                const duration wait = edits->empty()
                                          ? config_.name_edit_window
                                          : edits->front() + config_.name_edit_window - arrival;
                return rate_limited(rule, remaining, view, "user", wait, user_429_body(wait));
            }
        }

        if (!open) {
            history_.push_back(window_record{rule.hash, r.major.id, arrival, 0, rule.limit});
            w.records = &history_.back();
            w.end = view.end;
        }
        ++w.records->used;
        if (edits != nullptr)
            edits->push_back(arrival);
        ++counters_.ok;
        return bucket_reply(200, rule, remaining - 1, view);
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

    /// Requests without a token share key 0; `hash_token` never returns 0.
    static std::uint64_t token_key(std::string_view token) noexcept
    {
        return token.empty() ? 0 : detail::hash_token(token);
    }

    const bucket_rule& rule_for(const route& r)
    {
        if (const auto it = config_.routes.find(r.key.view()); it != config_.routes.end())
            return it->second;
        auto [it, inserted] = auto_rules_.try_emplace(std::string{r.key.view()});
        if (inserted)
            it->second.hash = "auto-" + std::to_string(r.key.hash());
        // The default rule may have changed through settings() since.
        it->second.limit = config_.default_rule.limit;
        it->second.window = config_.default_rule.window;
        return it->second;
    }

    const shared_limit_rule* shared_rule_for(const route& r) const noexcept
    {
        for (const shared_limit_rule& rule : config_.shared_limits)
            if (rule.every != 0 && rule.route == r.key.view())
                return &rule;
        return nullptr;
    }

    /// A `PATCH /channels/{channel_id}` whose body has a top-level "name" or "topic" (or, with no
    /// body given, whose route was parsed as such an edit).
    static bool edits_name_or_topic(const route& r, std::string_view body) noexcept
    {
        if (r.method != http_method::patch || r.major.kind != major_kind::channel ||
            r.key.view() != "PATCH /channels/{channel_id}")
            return false;
        if (body.empty())
            return r.channel_name_or_topic_edit;
        return body_edits_channel_name_or_topic(body);
    }

    static std::string user_429_body(duration wait)
    {
        return R"({"message": "You are being rate limited.", "retry_after": )" +
               decimal_seconds(wait) + R"(, "global": false})";
    }

    reply bucket_reply(int status, const bucket_rule& rule, std::uint32_t remaining,
                       const window_view& view) const
    {
        reply out;
        out.status = status;
        const auto reset_wall = config_.wall_clock_at_epoch + view.end.time_since_epoch();
        out.headers = {
            {"content-type", "application/json"},
            {"x-ratelimit-limit", std::to_string(rule.limit)},
            {"x-ratelimit-remaining", std::to_string(remaining)},
            {"x-ratelimit-reset",
             decimal_seconds(std::chrono::duration_cast<duration>(reset_wall))},
            {"x-ratelimit-reset-after", decimal_seconds(view.reset_after)},
            {"x-ratelimit-bucket", rule.hash},
            {"via", "1.1 google"},
        };
        out.body = "{}";
        return out;
    }

    /// A 429 of the route (scope `user` or `shared`) with the bucket's headers as they are.
    reply rate_limited(const bucket_rule& rule, std::uint32_t remaining, const window_view& view,
                       std::string scope, duration wait, std::string body) const
    {
        reply out = bucket_reply(429, rule, remaining, view);
        out.headers.emplace_back("retry-after", std::to_string(ceil_seconds(wait)));
        out.headers.emplace_back("x-ratelimit-scope", std::move(scope));
        out.body = std::move(body);
        return out;
    }

    static reply global_rate_limited(duration wait)
    {
        reply out;
        out.status = 429;
        out.headers = {
            {"content-type", "application/json"},
            {"retry-after", std::to_string(ceil_seconds(wait))},
            {"x-ratelimit-global", "true"},
            {"x-ratelimit-scope", "global"},
            {"via", "1.1 google"},
        };
        out.body = R"({"global": true, "message": "You are being rate limited.", "retry_after": )" +
                   decimal_seconds(wait) + "}";
        return out;
    }

    static reply ban_reply(ban_page page)
    {
        reply out;
        out.status = 429;
        switch (page) {
        case ban_page::html:
            out.headers = {{"content-type", "text/html; charset=UTF-8"}, {"server", "cloudflare"}};
            out.body = ban_html;
            break;
        case ban_page::error_1015:
            out.headers = {{"content-type", "text/plain; charset=UTF-8"}, {"server", "cloudflare"}};
            out.body = "error code: 1015";
            break;
        case ban_page::json:
            out.headers = {{"content-type", "application/json"}, {"server", "cloudflare"}};
            out.body = ban_notice;
            break;
        }
        return out;
    }

    config config_;
    counters counters_{};
    std::optional<ban_page> ban_;
    std::map<std::string, bucket_rule, std::less<>> auto_rules_;
    std::deque<window_record> history_;
    std::map<std::pair<std::string, major_parameter>, open_window, key_less> windows_;
    std::map<std::uint64_t, std::deque<time_point>> global_arrivals_; ///< per token hash
    std::map<std::uint64_t, std::deque<time_point>> name_edits_;      ///< per channel id
    std::map<std::string, std::uint64_t, std::less<>> shared_counts_; ///< per route key
    std::deque<reply> injected_;
    std::vector<arrival_record> arrivals_;
};

} // namespace discord_ratelimit::testing

#endif
