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

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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

private:
    /// A number's text in a buffer of its own, so that a reply's numbers cost no allocation.
    /// Written from its last digit backwards: the text is `chars[first, end)`.
    struct number_text {
        std::array<char, 32> chars{};
        std::size_t first = chars.size();

        std::string_view view() const noexcept
        {
            return {chars.data() + first, chars.size() - first};
        }
        void prepend(char c) noexcept { chars[--first] = c; }
        void prepend_digits(std::uint64_t value) noexcept
        {
            do {
                prepend(static_cast<char>('0' + value % 10));
                value /= 10;
            } while (value != 0);
        }
    };

public:
    /// A `reply` whose header names, values and body are views: what `simulate` hands the engine,
    /// so that an answer copies no string, and answering into the same object again reuses its
    /// buffers. The views point into the object itself or into static text, so it is neither
    /// copied nor moved; they are valid until the next answer written into it.
    class reply_view {
    public:
        int status = 200;
        std::vector<std::pair<std::string_view, std::string_view>> headers;
        std::string_view body;

        reply_view() = default;
        reply_view(const reply_view&) = delete;
        reply_view& operator=(const reply_view&) = delete;

        /// The same answer with strings of its own.
        reply to_reply() const
        {
            reply out;
            out.status = status;
            out.headers.reserve(headers.size());
            for (const auto& [name, value] : headers)
                out.headers.emplace_back(name, value);
            out.body = body;
            return out;
        }

    private:
        friend class simulated_discord;

        std::array<number_text, 5> numbers_{}; ///< the headers' numbers
        std::string hash_;                     ///< the bucket hash
        std::string text_;                     ///< a 429's body
        reply injected_;                       ///< an injected answer, shown as it was given
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
        reply_view out;
        handle_into(r, arrival, out, info);
        return out.to_reply();
    }

    /// Like `handle`, answering into `out` (see `reply_view`): no string is copied, and once
    /// `out` has been used nothing is allocated for the answer.
    void handle_into(const route& r, time_point arrival, reply_view& out,
                     const request_info& info = {})
    {
        const bucket_rule* rule = answer(r, arrival, info, out);
        if (config_.record_arrivals)
            arrivals_.push_back(arrival_record{arrival,
                                               rule != nullptr ? rule->hash : rule_for(r).hash,
                                               r.major.id, out.status, r.global_exempt});
    }

    const counters& seen() const noexcept { return counters_; }

    /// Every window any bucket opened, in order.
    const std::deque<window_record>& windows() const noexcept { return history_; }

    /// Every request in arrival order, when `config::record_arrivals` is set; empty otherwise.
    const std::vector<arrival_record>& arrivals() const noexcept { return arrivals_; }

    /// Decimal seconds with millisecond precision, rounded up, as Discord formats them.
    static std::string decimal_seconds(duration d) { return std::string{seconds_text(d).view()}; }

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
        number_text reset; ///< X-RateLimit-Reset: `end` on Discord's wall clock
    };

    /// A bucket rule and the id of its hash, which names its windows with `major`.
    struct resolved_rule {
        const bucket_rule* rule = nullptr;
        std::uint32_t hash_id = 0;
    };

    /// Decides a request and writes its answer over `out`; returns the rule of the request's
    /// bucket when the decision got that far, null otherwise.
    const bucket_rule* answer(const route& r, time_point arrival, const request_info& info,
                              reply_view& out)
    {
        ++counters_.requests;
        if (r.global_exempt)
            ++counters_.exempt;
        if (ban_) {
            ++counters_.banned;
            ban_reply(*ban_, out);
            return nullptr;
        }
        if (!injected_.empty()) {
            out.injected_ = std::move(injected_.front());
            injected_.pop_front();
            ++counters_.injected;
            show_injected(out);
            return nullptr;
        }
        if (!r.global_exempt) {
            auto& arrivals = global_arrivals_of(token_key(info.token));
            while (!arrivals.empty() && arrival - arrivals.front() >= config_.global_window)
                arrivals.pop_front();
            if (arrivals.size() >= config_.global_limit) {
                ++counters_.global_429;
                global_rate_limited(arrivals.empty()
                                        ? config_.global_window
                                        : arrivals.front() + config_.global_window - arrival,
                                    out);
                return nullptr;
            }
            arrivals.push_back(arrival);
        }
        const resolved_rule resolved = resolve(r);
        const bucket_rule& rule = *resolved.rule;
        open_window& w = windows_[window_key{resolved.hash_id, r.major}];
        const bool open = w.records != nullptr && arrival < w.end;
        const window_view view{open ? w.records->used : 0, open ? w.end : arrival + rule.window,
                               open ? w.end - arrival : rule.window,
                               open ? cached_reset(w) : reset_text(arrival + rule.window)};
        const std::uint32_t remaining = rule.limit > view.used ? rule.limit - view.used : 0;

        if (const shared_limit_rule* shared = shared_rule_for(r)) {
            if (++shared_counts_[shared->route] % shared->every == 0) {
                ++counters_.shared_429;
                rate_limited(out, rule, remaining, view, "shared", shared->retry_after,
                             shared_429_body);
                return &rule;
            }
        }
        if (remaining == 0) {
            ++counters_.user_429;
            rate_limited(out, rule, 0, view, "user", view.reset_after, user_429_body);
            return &rule;
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
                rate_limited(out, rule, remaining, view, "user", wait, user_429_body);
                return &rule;
            }
        }

        if (!open) {
            history_.push_back(window_record{rule.hash, r.major.id, arrival, 0, rule.limit});
            w.records = &history_.back();
            w.end = view.end;
            w.reset = view.reset;
            w.reset_epoch = config_.wall_clock_at_epoch;
        }
        ++w.records->used;
        if (edits != nullptr)
            edits->push_back(arrival);
        ++counters_.ok;
        bucket_reply(out, 200, rule, remaining - 1, view);
        return &rule;
    }

    struct open_window {
        window_record* records = nullptr;
        time_point end{};
        /// The window's X-RateLimit-Reset, formatted once, and the wall clock it was formatted for.
        number_text reset;
        std::chrono::nanoseconds reset_epoch{};
    };
    /// A window's bucket: its hash by id (see `hash_ids_`) and the major parameter.
    struct window_key {
        std::uint32_t hash_id = 0;
        major_parameter major;

        friend bool operator==(const window_key&, const window_key&) = default;
    };
    struct window_key_hash {
        // A few multiplies mixing the four fields; the table's prime modulus does the rest.
        std::size_t operator()(const window_key& k) const noexcept
        {
            const std::uint64_t kind_and_hash =
                (std::uint64_t{k.hash_id} << 8U) | static_cast<std::uint64_t>(k.major.kind);
            const std::uint64_t mixed = (k.major.id ^ (k.major.token_hash * 0x9E3779B97F4A7C15ULL) ^
                                         (kind_and_hash * 0xC2B2AE3D27D4EB4FULL)) *
                                        0xFF51AFD7ED558CCDULL;
            return static_cast<std::size_t>(mixed ^ (mixed >> 32U));
        }
    };
    struct route_key_hash {
        std::size_t operator()(const route_key& k) const noexcept { return k.hash(); }
    };
    /// The rule of a route no `config::routes` entry names, and the id of its hash.
    struct auto_rule {
        bucket_rule rule;
        std::uint32_t hash_id = 0;
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

    /// A configured rule's hash may change through settings(), so its id is looked up each time;
    /// an auto rule's hash never changes and keeps its id.
    resolved_rule resolve(const route& r)
    {
        if (const auto it = config_.routes.find(r.key.view()); it != config_.routes.end())
            return {&it->second, hash_id(it->second.hash)};
        auto it = auto_rules_.find(r.key);
        if (it == auto_rules_.end()) {
            it = auto_rules_.emplace(r.key, auto_rule{}).first;
            it->second.rule.hash = "auto-" + std::to_string(r.key.hash());
            it->second.hash_id = hash_id(it->second.rule.hash);
        }
        // The default rule may have changed through settings() since.
        it->second.rule.limit = config_.default_rule.limit;
        it->second.rule.window = config_.default_rule.window;
        return {&it->second.rule, it->second.hash_id};
    }

    const bucket_rule& rule_for(const route& r) { return *resolve(r).rule; }

    /// The arrival log of a token. Most traffic has one token: the first one seen needs no lookup.
    std::deque<time_point>& global_arrivals_of(std::uint64_t token)
    {
        if (!first_token_)
            first_token_ = token;
        if (token == *first_token_)
            return first_token_arrivals_;
        return global_arrivals_[token];
    }

    /// X-RateLimit-Reset of a window ending at `end`: Discord's wall clock then.
    number_text reset_text(time_point end) const noexcept
    {
        const auto reset_wall = config_.wall_clock_at_epoch + end.time_since_epoch();
        return seconds_text(std::chrono::duration_cast<duration>(reset_wall));
    }

    /// The open window's Reset, formatted again only when settings() changed Discord's wall clock.
    number_text cached_reset(open_window& w) noexcept
    {
        if (w.reset_epoch != config_.wall_clock_at_epoch) {
            w.reset = reset_text(w.end);
            w.reset_epoch = config_.wall_clock_at_epoch;
        }
        return w.reset;
    }

    /// Equal hashes get equal ids, so windows are keyed by an integer instead of a string.
    std::uint32_t hash_id(const std::string& hash)
    {
        const auto next = static_cast<std::uint32_t>(hash_ids_.size());
        return hash_ids_.try_emplace(hash, next).first->second;
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

    /// As std::to_string prints it.
    static number_text integer_text(std::integral auto value) noexcept
    {
        number_text text;
        const bool negative = std::cmp_less(value, 0);
        // The magnitude in unsigned arithmetic, where negating the least value is defined.
        const auto bits = static_cast<std::uint64_t>(value);
        text.prepend_digits(negative ? 0 - bits : bits);
        if (negative)
            text.prepend('-');
        return text;
    }

    /// `decimal_seconds`, without the string.
    static number_text seconds_text(duration d) noexcept
    {
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
        const bool negative = ms < 0;
        const auto bits = static_cast<std::uint64_t>(ms);
        std::uint64_t magnitude = negative ? 0 - bits : bits;
        number_text text;
        for (int digit = 0; digit < 3; ++digit) {
            text.prepend(static_cast<char>('0' + magnitude % 10));
            magnitude /= 10;
        }
        text.prepend('.');
        text.prepend_digits(magnitude);
        if (negative)
            text.prepend('-');
        return text;
    }

    using header_field = std::pair<std::string_view, std::string_view>;

    /// The JSON body of a 429: `head`, the wait in decimal seconds, `tail`.
    struct wait_body {
        std::string_view head;
        std::string_view tail;
    };
    static constexpr wait_body user_429_body{
        R"({"message": "You are being rate limited.", "retry_after": )", R"(, "global": false})"};
    static constexpr wait_body shared_429_body{
        R"({"message": "The resource is being rate limited.", "retry_after": )",
        R"(, "global": false, "code": 40062})"};
    static constexpr wait_body global_429_body{
        R"({"global": true, "message": "You are being rate limited.", "retry_after": )", "}"};

    static void set_body(reply_view& out, wait_body body, duration wait)
    {
        out.text_.assign(body.head);
        out.text_.append(seconds_text(wait).view());
        out.text_.append(body.tail);
        out.body = out.text_;
    }

    /// An injected answer as it was given: the views show `out.injected_`.
    static void show_injected(reply_view& out)
    {
        const reply& given = out.injected_;
        out.status = given.status;
        out.headers.clear();
        for (const auto& [name, value] : given.headers)
            out.headers.emplace_back(name, value);
        out.body = given.body;
    }

    /// The bucket's headers as they are; with a `scope`, a 429's `retry-after` (`wait`) and
    /// `x-ratelimit-scope` after them.
    void bucket_reply(reply_view& out, int status, const bucket_rule& rule, std::uint32_t remaining,
                      const window_view& view, std::string_view scope = {},
                      duration wait = {}) const
    {
        out.status = status;
        auto& [limit, left, reset, reset_after, retry_after] = out.numbers_;
        limit = integer_text(rule.limit);
        left = integer_text(remaining);
        reset = view.reset;
        reset_after = seconds_text(view.reset_after);
        if (!scope.empty())
            retry_after = integer_text(ceil_seconds(wait));
        if (out.hash_ != rule.hash) // most answers repeat the last one's bucket
            out.hash_ = rule.hash;
        out.headers.resize(scope.empty() ? 7 : 9);
        header_field* fields = out.headers.data();
        fields[0] = {"content-type", "application/json"};
        fields[1] = {"x-ratelimit-limit", limit.view()};
        fields[2] = {"x-ratelimit-remaining", left.view()};
        fields[3] = {"x-ratelimit-reset", reset.view()};
        fields[4] = {"x-ratelimit-reset-after", reset_after.view()};
        fields[5] = {"x-ratelimit-bucket", out.hash_};
        fields[6] = {"via", "1.1 google"};
        if (!scope.empty()) {
            fields[7] = {"retry-after", retry_after.view()};
            fields[8] = {"x-ratelimit-scope", scope};
        }
        out.body = "{}";
    }

    /// A 429 of the route (scope `user` or `shared`) with the bucket's headers as they are.
    void rate_limited(reply_view& out, const bucket_rule& rule, std::uint32_t remaining,
                      const window_view& view, std::string_view scope, duration wait,
                      wait_body body) const
    {
        bucket_reply(out, 429, rule, remaining, view, scope, wait);
        set_body(out, body, wait);
    }

    static void global_rate_limited(duration wait, reply_view& out)
    {
        out.status = 429;
        number_text& retry_after = out.numbers_[0];
        retry_after = integer_text(ceil_seconds(wait));
        out.headers.assign({
            {"content-type", "application/json"},
            {"retry-after", retry_after.view()},
            {"x-ratelimit-global", "true"},
            {"x-ratelimit-scope", "global"},
            {"via", "1.1 google"},
        });
        set_body(out, global_429_body, wait);
    }

    static void ban_reply(ban_page page, reply_view& out)
    {
        out.status = 429;
        std::string_view content_type;
        switch (page) {
        case ban_page::html:
            content_type = "text/html; charset=UTF-8";
            out.body = ban_html;
            break;
        case ban_page::error_1015:
            content_type = "text/plain; charset=UTF-8";
            out.body = "error code: 1015";
            break;
        case ban_page::json:
            content_type = "application/json";
            out.body = ban_notice;
            break;
        }
        out.headers.assign({{"content-type", content_type}, {"server", "cloudflare"}});
    }

    config config_;
    counters counters_{};
    std::optional<ban_page> ban_;
    std::unordered_map<route_key, auto_rule, route_key_hash> auto_rules_;
    std::unordered_map<std::string, std::uint32_t> hash_ids_; ///< bucket hash to its id
    std::deque<window_record> history_;
    std::unordered_map<window_key, open_window, window_key_hash> windows_;
    std::optional<std::uint64_t> first_token_;
    std::deque<time_point> first_token_arrivals_;
    std::unordered_map<std::uint64_t, std::deque<time_point>> global_arrivals_; ///< other tokens
    std::unordered_map<std::uint64_t, std::deque<time_point>> name_edits_;      ///< per channel id
    std::map<std::string, std::uint64_t, std::less<>> shared_counts_;           ///< per route key
    std::deque<reply> injected_;
    std::vector<arrival_record> arrivals_;
};

} // namespace discord_ratelimit::testing

#endif
