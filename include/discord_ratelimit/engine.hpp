// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ENGINE_HPP
#define DISCORD_RATELIMIT_ENGINE_HPP

/// @file
/// The sans-I/O engine: one object per bot token that decides, for every request, whether it may go
/// now or when, and learns from every response. It reads no clock, starts no timer and sends
/// nothing: the caller passes `now` in and turns "wait until T" into whatever waiting its stack
/// does.

#include <discord_ratelimit/bucket_registry.hpp>
#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/detail/saturating_ticks.hpp>
#include <discord_ratelimit/discord_bucket.hpp>
#include <discord_ratelimit/error.hpp>
#include <discord_ratelimit/global_limiter.hpp>
#include <discord_ratelimit/headers.hpp>
#include <discord_ratelimit/invalid_request_tracker.hpp>
#include <discord_ratelimit/observer.hpp>
#include <discord_ratelimit/response.hpp>
#include <discord_ratelimit/retry_policy.hpp>
#include <discord_ratelimit/route.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace discord_ratelimit {

/// Identifies a request inside an engine, from `acquire` until it completes, fails or is cancelled.
/// A granted ticket is the permit to send. Never 0; a value comes back only after 2^32 further
/// tickets used its slot.
using ticket_id = std::uint64_t;

/// Per-request limits and choices.
template <clock Clock>
struct request_options {
    /// Fail at once with `error::rate_limited` when the known wait exceeds this; a request that is
    /// still waiting this long after it was submitted fails with `error::rate_limited` too.
    std::optional<typename Clock::duration> max_wait;
    /// Fail with `error::deadline_exceeded` when the request cannot go before this time point, and
    /// at once when the known wait already ends after it.
    std::optional<typename Clock::time_point> deadline;
    /// Fail at once with `error::rate_limited` when one wait that Discord's limits impose is known
    /// to last longer than this: a bucket's reset, a global pause, a 429's `Retry-After` (up to a
    /// week is valid). Unlike `max_wait`, the time spent queued behind the bot's own earlier
    /// requests does not count, so a long backlog still drains: for tools that submit much work
    /// at once (`discord-bulk --max-wait`). Checked when the request is submitted or asked for
    /// again, when a 429's retry is scheduled, and for every queued request when its bucket's
    /// reset is learned or looked at again, and for every waiting request a global pause or a
    /// route block holds when one is learned. A retry's backoff after a 5xx or a network error is
    /// not a rate limit and does not count.
    std::optional<typename Clock::duration> max_rate_limit_wait;
    /// Resend this non-idempotent request (POST) even when an attempt may have reached Discord.
    bool resend_non_idempotent = false;
};

/// Everything an engine can be tuned with; the defaults suit a bot.
///
/// The engine's constructor refuses a value without a meaning with `std::invalid_argument` naming
/// the field: a limit of 0 (`global_limit`, `channel_edit_limit`, `invalid_request_stop`, a 0 in
/// `invalid_request_warnings`, `retry.max_attempts`, `retry.max_rate_limited_attempts`), a window
/// or interval that is not positive (`global_window`, `channel_edit_window`,
/// `eviction_interval`, the `registry` times), and a negative wait (`ban_cooldown`,
/// `default_retry_after`, `probe_hold_limit`, `critical_path_cap`, `retry`'s backoffs). Zero
/// means what each field's comment says. Waits of any length saturate at the clock's last time
/// point: `max_wait = duration::max()` is "no bound".
template <clock Clock>
struct engine_config {
    using duration = typename Clock::duration;

    /// The global limit: requests per `global_window` (Discord's default: 50 per second).
    std::uint32_t global_limit = 50;
    duration global_window = std::chrono::duration_cast<duration>(std::chrono::seconds{1});
    retry_policy retry{};
    /// Treat a 429 without a `Via` header as Cloudflare's (a ban). Discord's own answers carry
    /// `via: 1.1 google`; turn this off only behind a proxy that strips it.
    bool require_via = true;
    /// How long every request fails after a ban was detected (at least the ban's Retry-After).
    duration ban_cooldown = std::chrono::duration_cast<duration>(std::chrono::hours{1});
    /// The wait after a 429 that gives no valid Retry-After, retry_after or Reset-After (zero: retry
    /// at once).
    duration default_retry_after = std::chrono::duration_cast<duration>(std::chrono::seconds{1});
    /// Invalid requests per 10 minutes at which `on_invalid_request_warning` fires (rising only).
    std::vector<std::uint32_t> invalid_request_warnings{1000, 5000, 8000};
    /// Refuse every request while the invalid requests of the last 10 minutes reach this
    /// (Cloudflare bans at 10,000). No value: never refuse.
    std::optional<std::uint32_t> invalid_request_stop = 9000;
    /// The hidden limit of channel name and topic edits: this many per channel per window.
    std::uint32_t channel_edit_limit = 2;
    duration channel_edit_window = std::chrono::duration_cast<duration>(std::chrono::minutes{10});
    /// A route whose bucket is not known yet may share any bucket of its channel (guild, webhook):
    /// its probe waits while a known bucket on the same major parameter is spent and resets within
    /// this time, instead of risking a 429 there. Zero: probes never wait for that.
    duration probe_hold_limit = std::chrono::duration_cast<duration>(std::chrono::seconds{10});
    /// When global slots are scarce, the buckets that wait for them are served longest remaining
    /// chain of windows first (see `engine`); this is the most a chain counts. Each bucket's
    /// oldest waiting request adds its age, so a request is never passed by one submitted more
    /// than this after it. Zero: the oldest waiting request first.
    duration critical_path_cap = std::chrono::duration_cast<duration>(std::chrono::seconds{60});
    /// A bucket whose window reopens within one global window keeps enough global slots free for
    /// that moment from the buckets it outranks (see `critical_path_cap`), so that a long chain
    /// of windows does not wait at each reset for slots handed out in the second before.
    bool reserve_global_slots = true;
    /// Route hash lifetime and idle times before forgetting (bounded memory).
    typename bucket_registry<Clock>::config registry{};
    /// How often idle state is swept.
    duration eviction_interval = std::chrono::duration_cast<duration>(std::chrono::minutes{1});
    /// Seed of the backoff jitter: the engine is deterministic for a given seed and call sequence.
    std::uint64_t jitter_seed = 0x5EEDULL;
    /// Receives events; may be null. Not owned.
    engine_observer* observer = nullptr;
};

/// What `acquire` decided.
enum class acquire_status : std::uint8_t {
    granted, ///< send the request now, then call `complete` (or `cancel` if it was not sent)
    waiting, ///< the ticket is queued: ask again at `retry_at`, or wait for `advance` to grant it
    failed,  ///< the request ends here with `error`
};

template <clock Clock>
struct acquire_result {
    acquire_status status = acquire_status::failed;
    ticket_id ticket = 0;
    /// When waiting: when to ask again. The earliest time the request may go, as far as time alone
    /// tells; when only responses in flight can free it, its deadline or maximum wait if it has
    /// one (it fails then), else no value (ask again after the next `complete` or `cancel`).
    std::optional<typename Clock::time_point> retry_at;
    wait_reason reason = wait_reason::none;
    std::error_code error;
    /// When failed with `error::rate_limited` or `error::banned`: the known wait that was refused.
    typename Clock::duration wait{};

    bool granted() const noexcept { return status == acquire_status::granted; }
};

/// What `complete` decided.
enum class completion_status : std::uint8_t {
    done,  ///< a success: the request is over
    retry, ///< the same ticket waits to be granted again (from `retry_at` on): acquire it again
    failed ///< the request ends here with `error`
};

template <clock Clock>
struct completion {
    completion_status status = completion_status::failed;
    outcome result = outcome::success;
    std::optional<typename Clock::time_point> retry_at;
    std::error_code error;
    /// For 429s: how long Discord asked to wait.
    typename Clock::duration wait{};
};

/// The rate-limit engine for one bot token.
///
/// Use: `acquire(route, now)` gives a permit (send now) or a wait; `complete(ticket, response,
/// now)` after the response says done, retry or fail; `cancel(ticket, now)` gives back what a
/// ticket holds. Asynchronous drivers call `advance(now, on_ready)` whenever time passes or an
/// event happened, and set a timer to `next_wakeup()`; synchronous callers ask again with
/// `acquire(ticket, now)` at the time the engine named.
///
/// Guarantees: per bucket, waiting requests are granted in the order they came (FIFO), only as many
/// as the window allows; requests of independent buckets never wait for each other; every ticket
/// ends (granted then completed, failed, or cancelled), and a ticket with a deadline or maximum
/// wait fails once time passes it. Deterministic for a given configuration and call sequence.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe (single-threaded by contract; the Asio layer
/// serializes access).
template <clock Clock = std::chrono::steady_clock, class Store = memory_store<Clock>>
class engine {
public:
    using clock_type = Clock;
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;
    using config_type = engine_config<Clock>;
    using options_type = request_options<Clock>;
    using acquire_result_type = acquire_result<Clock>;
    using completion_type = completion<Clock>;
    using duration_rep = typename duration::rep;

    /// @throws std::invalid_argument naming the field, for a configuration field with a forbidden
    /// value (see `engine_config`).
    explicit engine(config_type config = {})
        : config_{validated(std::move(config))}
        , registry_{config_.registry}
        , global_{config_.global_limit, config_.global_window}
        , jitter_{config_.jitter_seed}
    {
    }

    /// Starts a request on `r` at `now`: granted, waiting (queued), or failed.
    [[nodiscard]] acquire_result_type acquire(const route& r, time_point now, const options_type& options = {})
    {
        ++stats_.requests;
        process(now);
        if (auto refused = refusal(now))
            return *refused;
        if (options.deadline && *options.deadline <= now)
            return failure(0, error::deadline_exceeded);
        const std::uint32_t index = allocate();
        ticket& t = slots_[index];
        t.r = r;
        t.options = options;
        if (options.max_rate_limit_wait) {
            ++rate_limit_bounded_;
            min_rate_limit_bound_ = std::min(min_rate_limit_bound_, *options.max_rate_limit_wait);
        }
        t.seq = ++sequence_;
        t.waiting_since = now;
        t.limit_at = options.deadline;
        t.limit_is_max_wait = false;
        if (options.max_wait && (!t.limit_at || later_by(now, *options.max_wait) < *t.limit_at)) {
            t.limit_at = later_by(now, *options.max_wait);
            t.limit_is_max_wait = true;
        }
        if (t.limit_at)
            push_timer(*t.limit_at, timer_kind::ticket, {}, id_of(index));
        t.bucket = registry_.resolve(r, now);
        auto& e = registry_.bucket(t.bucket);
        enqueue(index, e);
        drain(t.bucket, e, now);
        return settle(index, now, true);
    }

    /// Asks again for a waiting ticket: granted, still waiting, or failed.
    [[nodiscard]] acquire_result_type acquire(ticket_id id, time_point now)
    {
        process(now);
        const auto index = lookup(id);
        if (!index)
            return failure(id, error::unknown_permit);
        return settle(*index, now, false);
    }

    /// Reports the outcome of a granted ticket's attempt; parses the response's headers and body.
    template <header_source Headers>
    [[nodiscard]] completion_type complete(ticket_id id, int status, const Headers& headers,
                             std::string_view body, time_point now)
    {
        const auto index = lookup(id);
        const bool v6 = index && slots_[*index].r.retry_after_in_milliseconds();
        return complete(id, response::parse(status, headers, body, v6), now);
    }

    /// Reports a transport failure of a granted ticket's attempt.
    [[nodiscard]] completion_type complete(ticket_id id, transport_error failure, time_point now)
    {
        return complete(id, response::failed(failure), now);
    }

    /// Reports the outcome of a granted ticket's attempt.
    [[nodiscard]] completion_type complete(ticket_id id, const response& res, time_point now)
    {
        process(now);
        const auto index = lookup(id);
        if (!index || slots_[*index].stage != phase::granted) {
            completion_type c;
            c.error = make_error_code(error::unknown_permit);
            return c;
        }
        const outcome o = classify(res, config_.require_via);
        // Grants made before this response was read (at `process` above, or earlier) and not yet
        // handed to their callers must not go into the pause or the ban it reveals.
        if (o == outcome::global_429 || o == outcome::cloudflare_429)
            withdraw_unreported_grants(*index, o == outcome::global_429, now);
        ticket& t = slots_[*index];
        if (res.transport == transport_error::connect_failed) {
            // Nothing reached Discord: the attempt gives back its bucket capacity, its global slot,
            // its place in the edit log and its probe, as a cancel does; its retry waits only for
            // its backoff.
            give_back_grant(t, now);
        } else {
            if (t.holds_global) {
                global_.on_response(now);
                t.holds_global = false;
                arm_global_timer(now);
            }
            end_probe(t);
            if (t.r.channel_name_or_topic_edit)
                edit_answered(t, o, now);
            learn(*index, res, o, now);
        }
        if (is_invalid_request(o))
            record_invalid(now);
        return decide(*index, res, o, now);
    }

    /// Ends a ticket that will not be sent (or whose attempt was abandoned before sending): a
    /// waiting ticket leaves its queue, a granted one gives its capacity back at once. A ticket
    /// whose request was sent must be completed instead (with `transport_error::network` if the
    /// outcome is unknown).
    ///
    /// Cost: a waiting ticket leaves its queue in O(1) and frees nothing, so its bucket's queue is
    /// not walked again (see `drain_head`): cancelling N waiters one by one costs O(N), not the
    /// O(N^2) of a walk of the rest of the queue for each, whatever holds them (the global limit,
    /// a route block, an exhausted or unknown bucket). A granted ticket gives back capacity: its
    /// bucket's waiters are looked at again, as after any event that frees capacity.
    std::error_code cancel(ticket_id id, time_point now)
    {
        const auto index = lookup(id);
        if (!index)
            return make_error_code(error::unknown_permit);
        end_cancelled(*index, now);
        process(now);
        return {};
    }

    /// Ends every ticket of `ids` as `cancel` does each, then decides once what their leaving
    /// frees (a shutdown, an interrupted batch): O(number of ids + the queues left to drain),
    /// with no grant in between that the next cancel of the batch would take back. Unknown or
    /// already ended tickets are skipped. Returns how many tickets it ended.
    std::size_t cancel(std::span<const ticket_id> ids, time_point now)
    {
        std::size_t ended = 0;
        for (const ticket_id id : ids)
            if (const auto index = lookup(id)) {
                end_cancelled(*index, now);
                ++ended;
            }
        process(now);
        return ended;
    }

    /// Puts a granted ticket whose permit was not used back at its place in its bucket's queue: it
    /// gives back what it holds and is granted again when every limit allows, or fails at its
    /// deadline or maximum wait. For a driver holding a grant that nobody could use yet (a retry
    /// granted before its caller asked for it again): when the caller asks, the grant is decided
    /// anew, under what was learned meanwhile (a global 429, a ban). Never for a permit whose
    /// request may have been sent: that would send it twice. It decides nothing itself: the next
    /// `acquire(ticket, now)` (or `advance`) reports the new grant or the failure (a deadline or
    /// maximum wait already past fails the ticket). `error::unknown_permit` when the ticket is not
    /// granted.
    std::error_code requeue(ticket_id id, time_point now)
    {
        const auto index = lookup(id);
        if (!index || slots_[*index].stage != phase::granted)
            return make_error_code(error::unknown_permit);
        if (take_back_grant(*index, now))
            fail_waiting(*index, slots_[*index].limit_is_max_wait ? error::rate_limited
                                                                  : error::deadline_exceeded);
        return {};
    }

    /// Grants and fails what time and events allow at `now`, calling `on_ready(ticket_id, result)`
    /// for every waiting ticket that was granted or failed since the last call. Returns when to
    /// call again at the latest (no value: only after the next event).
    template <class OnReady>
    std::optional<time_point> advance(time_point now, OnReady&& on_ready)
    {
        process(now);
        std::vector<ticket_id> ready;
        ready.swap(ready_);
        for (const ticket_id id : ready) {
            const auto index = lookup(id);
            if (!index)
                continue;
            ticket& t = slots_[*index];
            if (t.stage == phase::granted && !t.notified) {
                mark_reported(t);
                on_ready(id, granted_result(id));
            } else if (t.stage == phase::failed) {
                auto result = failure(id, t.failure);
                result.wait = t.failure_wait;
                release(*index);
                on_ready(id, result);
            }
        }
        return next_wakeup();
    }

    /// The earliest time at which `advance` may have something to do without a new event.
    std::optional<time_point> next_wakeup() const
    {
        if (unreported_ > 0)
            return time_point{}; // results wait for `advance`: now
        if (timers_.empty())
            return std::nullopt;
        return timers_.top().at;
    }

    /// A snapshot of the counters.
    engine_stats stats(time_point now)
    {
        engine_stats s = stats_;
        s.invalid_requests_10min = invalid_.count(now);
        s.buckets = registry_.bucket_count();
        s.routes = registry_.route_count();
        s.live_tickets = live_tickets_;
        return s;
    }

    /// True while a ban detected earlier is cooling down.
    bool banned(time_point now) const noexcept { return now < ban_until_; }

    const config_type& config() const noexcept { return config_; }
    bucket_registry<Clock, Store>& registry() noexcept { return registry_; }
    global_limiter<Clock>& global() noexcept { return global_; }

private:
    enum class phase : std::uint8_t { free, queued, sleeping, granted, failed };
    enum class timer_kind : std::uint8_t { bucket, ticket, global, reservation };
    static constexpr std::uint32_t none = bucket_entry<Clock>::no_ticket;

    /// `allocate` resets each field but `r` and `options` by name: a new field needs a line there.
    struct ticket {
        route r{};
        options_type options{};
        bucket_id bucket{};
        std::optional<time_point> limit_at;
        time_point waiting_since{};
        time_point sent_at{}; ///< when a channel name/topic edit was granted
        time_point not_before{};
        std::uint64_t seq = 0;
        typename discord_bucket<Clock>::window_id window = 0;
        std::uint32_t generation = 0;
        std::uint32_t prev = none;
        std::uint32_t next = none;
        std::uint32_t attempts = 0;
        std::uint32_t rate_limited_attempts = 0;
        phase stage = phase::free;
        wait_reason reason = wait_reason::none;
        bool limit_is_max_wait = false;
        bool holds_global = false;
        bool probing =
            false; ///< granted on a provisional bucket: known buckets hold one back for it
        bool notified = false;
        bool counted_wait = false; ///< its grant counted in `engine_stats::waited`
        bool also_charged = false; ///< `also_key` names a bucket charged for it
        /// After its route's hash changed while it was in flight: the old bucket's key (same
        /// major parameter), which stays charged until this permit's answer says where it counted.
        std::uint64_t also_key = 0;
        error failure = error::shut_down;
        duration failure_wait{};
    };

    struct timer {
        time_point at;
        timer_kind kind;
        bucket_id bucket;
        ticket_id ticket;
        friend bool operator>(const timer& a, const timer& b) noexcept { return a.at > b.at; }
    };

    struct block_key {
        std::uint64_t route = 0;
        major_parameter major{};
        friend bool operator==(const block_key&, const block_key&) = default;
    };
    struct block_hasher {
        std::size_t operator()(const block_key& k) const noexcept
        {
            return static_cast<std::size_t>(k.route ^ (k.major.hash() * 0x9E3779B97F4A7C15ULL));
        }
    };
    struct major_hasher {
        std::size_t operator()(const major_parameter& m) const noexcept { return m.hash(); }
    };
    struct id_hasher {
        std::size_t operator()(const bucket_id& id) const noexcept { return id.hash(); }
    };

    // ---- configuration and time -----------------------------------------------------------------

    /// `t + d`, stopping at the clock's last time point (see `detail::later_by`).
    static time_point later_by(time_point t, duration d) noexcept { return detail::later_by(t, d); }

    /// The configuration with its warning thresholds sorted, or std::invalid_argument naming the
    /// first field whose value has no meaning.
    static config_type validated(config_type c)
    {
        const auto refuse = [](const char* field, const char* rule) {
            throw std::invalid_argument{std::string{"discord_ratelimit::engine_config::"} + field +
                                        " " + rule};
        };
        const duration zero = duration::zero();
        if (c.global_limit == 0)
            refuse("global_limit", "must be at least 1");
        if (c.global_window <= zero)
            refuse("global_window", "must be positive");
        if (c.retry.max_attempts == 0)
            refuse("retry.max_attempts", "must be at least 1 (the first attempt counts)");
        if (c.retry.max_rate_limited_attempts == 0)
            refuse("retry.max_rate_limited_attempts", "must be at least 1 (the first attempt counts)");
        if (c.retry.initial_backoff < std::chrono::nanoseconds::zero())
            refuse("retry.initial_backoff", "must not be negative");
        if (c.retry.max_backoff < std::chrono::nanoseconds::zero())
            refuse("retry.max_backoff", "must not be negative");
        if (c.ban_cooldown < zero)
            refuse("ban_cooldown", "must not be negative");
        if (c.default_retry_after < zero)
            refuse("default_retry_after", "must not be negative");
        if (std::find(c.invalid_request_warnings.begin(), c.invalid_request_warnings.end(), 0U) !=
            c.invalid_request_warnings.end())
            refuse("invalid_request_warnings", "must not hold 0 (a threshold of 0 never rises)");
        if (c.invalid_request_stop && *c.invalid_request_stop == 0)
            refuse("invalid_request_stop", "must be at least 1, or no value to never refuse");
        if (c.channel_edit_limit == 0)
            refuse("channel_edit_limit", "must be at least 1");
        if (c.channel_edit_window <= zero)
            refuse("channel_edit_window", "must be positive");
        if (c.probe_hold_limit < zero)
            refuse("probe_hold_limit", "must not be negative (zero: probes never wait)");
        if (c.critical_path_cap < zero)
            refuse("critical_path_cap", "must not be negative (zero: oldest request first)");
        if (c.registry.hash_lifetime <= zero)
            refuse("registry.hash_lifetime", "must be positive");
        if (c.registry.route_idle <= zero)
            refuse("registry.route_idle", "must be positive");
        if (c.registry.bucket_idle <= zero)
            refuse("registry.bucket_idle", "must be positive");
        if (c.eviction_interval <= zero)
            refuse("eviction_interval", "must be positive");
        std::sort(c.invalid_request_warnings.begin(), c.invalid_request_warnings.end());
        return c;
    }

    // ---- tickets -------------------------------------------------------------------------------

    static ticket_id id_of(std::uint32_t index, std::uint32_t generation) noexcept
    {
        return (static_cast<ticket_id>(generation) << 32U) | index;
    }
    ticket_id id_of(std::uint32_t index) const noexcept
    {
        return id_of(index, slots_[index].generation);
    }

    std::optional<std::uint32_t> lookup(ticket_id id) const noexcept
    {
        const auto index = static_cast<std::uint32_t>(id & 0xFFFF'FFFFULL);
        const auto generation = static_cast<std::uint32_t>(id >> 32U);
        if (index >= slots_.size() || slots_[index].generation != generation ||
            slots_[index].stage == phase::free)
            return std::nullopt;
        return index;
    }

    std::uint32_t allocate()
    {
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = static_cast<std::uint32_t>(slots_.size());
            slots_.emplace_back();
        }
        ticket& t = slots_[index];
        auto generation = std::max(t.generation, generation_floor_) + 1;
        if (generation == 0)
            generation = 1; // ids are never 0
        // Field by field: the route and options are assigned by `acquire` right after, so a
        // whole `ticket{}` would write them twice.
        t.bucket = {};
        t.limit_at.reset();
        t.waiting_since = t.sent_at = t.not_before = time_point{};
        t.seq = 0;
        t.window = 0;
        t.prev = t.next = none;
        t.attempts = t.rate_limited_attempts = 0;
        t.reason = wait_reason::none;
        t.limit_is_max_wait = t.holds_global = t.probing = t.counted_wait = t.also_charged = false;
        t.failure = error::shut_down;
        t.failure_wait = {};
        t.notified = true; // nothing to report yet
        t.generation = generation;
        t.stage = phase::queued;
        ++live_tickets_;
        return index;
    }

    /// The caller learned this ticket's grant or failure.
    void mark_reported(ticket& t) noexcept
    {
        if (!t.notified) {
            t.notified = true;
            --unreported_;
        }
    }

    /// `cancel` but the decisions: the ticket gives back what it holds and ends.
    void end_cancelled(std::uint32_t index, time_point now)
    {
        ticket& t = slots_[index];
        if (t.stage == phase::queued) {
            if (auto* e = registry_.find_bucket(t.bucket)) {
                unlink(index, *e);
                mark_thinned(t.bucket, *e);
            }
        } else if (t.stage == phase::granted) {
            give_back_grant(t, now);
        }
        // A ticket the engine already failed (its failure not yet reported) counts once: failed.
        if (t.stage != phase::failed)
            ++stats_.cancelled;
        release(index);
    }

    void release(std::uint32_t index)
    {
        if (slots_[index].options.max_rate_limit_wait && --rate_limit_bounded_ == 0)
            min_rate_limit_bound_ = duration::max();
        mark_reported(slots_[index]);
        slots_[index].stage = phase::free;
        free_.push_back(index);
        --live_tickets_;
    }

    /// A granted permit that was not sent gives back its bucket capacity, its global slot, its
    /// place in the channel's edit log and its probe.
    void give_back_grant(ticket& t, time_point now)
    {
        if (auto* e = registry_.find_bucket(t.bucket)) {
            e->state.on_cancel();
            note_spent(t.bucket, *e, now);
            if (e->queued > 0) // the capacity it gives back goes to those waiting
                mark_dirty(t.bucket, *e);
        }
        if (t.holds_global) {
            global_.on_cancel();
            t.holds_global = false;
            wake_global_waiters();
            wake_held_waiters();
        }
        if (t.also_charged) {
            const bucket_id also{t.also_key, t.r.major, false};
            if (auto* a = registry_.find_bucket(also)) {
                a->state.on_cancel();
                mark_dirty(also, *a);
            }
            t.also_charged = false;
        }
        if (t.r.channel_name_or_topic_edit)
            edit_cancelled(t);
        end_probe(t);
    }

    // ---- queues --------------------------------------------------------------------------------

    using entry_type = typename bucket_registry<Clock, Store>::entry_type;

    /// Inserts a ticket into its bucket's queue, ordered by arrival (a retry keeps its place).
    void enqueue(std::uint32_t index, entry_type& e)
    {
        ticket& t = slots_[index];
        t.stage = phase::queued;
        std::uint32_t after = e.queue_tail;
        while (after != none && slots_[after].seq > t.seq)
            after = slots_[after].prev;
        t.prev = after;
        t.next = after == none ? e.queue_head : slots_[after].next;
        (after == none ? e.queue_head : slots_[after].next) = index;
        (t.next == none ? e.queue_tail : slots_[t.next].prev) = index;
        ++e.queued;
        if (t.r.global_exempt && e.exempt_queued < entry_type::exempt_saturated)
            ++e.exempt_queued;
    }

    void unlink(std::uint32_t index, entry_type& e)
    {
        ticket& t = slots_[index];
        (t.prev == none ? e.queue_head : slots_[t.prev].next) = t.next;
        (t.next == none ? e.queue_tail : slots_[t.next].prev) = t.prev;
        t.prev = t.next = none;
        --e.queued;
        // A saturated count stays: its bucket then walks its queue, which is slower, not wrong.
        if (t.r.global_exempt && e.exempt_queued > 0 &&
            e.exempt_queued < entry_type::exempt_saturated)
            --e.exempt_queued;
    }

    /// How much of a bucket's queue its next drain looks at (`bucket_entry::dirty`; 0: it is not
    /// in `dirty_`). `drain_walk`: something may have freed or changed what its waiters wait for
    /// (`mark_dirty`); its queue is walked. `drain_head`: only waiters left it (`mark_thinned`).
    static constexpr std::uint8_t drain_head = 1;
    static constexpr std::uint8_t drain_walk = 2;

    void mark_dirty(const bucket_id& id, entry_type& e)
    {
        if (!e.dirty)
            dirty_.push_back(id);
        e.dirty = drain_walk;
    }

    /// A waiting ticket left the bucket's queue (a cancel). That frees nothing: no capacity, no
    /// global slot. Every event that can let a waiter go (a response, a give-back, a reset, a
    /// freed global slot, a block's end) marks its bucket with `mark_dirty`, or a timer does, so a
    /// bucket not marked had granted all it could at its last drain; the waiters it walked past
    /// then were each held by something of their own (a route block, the global limit or a
    /// reservation, the same for all of them), which one leaving does not lift. Its drain
    /// therefore looks again at what depends on the queue's head (its reason, a probe's hold, the
    /// reset timer) but does not walk the queue: a walk past waiters held by the global limit
    /// or a route block costs the queue's length, and for N cancels N times that.
    void mark_thinned(const bucket_id& id, entry_type& e)
    {
        if (!e.dirty) {
            e.dirty = drain_head;
            dirty_.push_back(id);
        }
    }

    void push_timer(time_point at, timer_kind kind, const bucket_id& bucket, ticket_id id)
    {
        timers_.push(timer{at, kind, bucket, id});
    }

    void wake_global_waiters()
    {
        for (const auto& id : global_waiters_)
            if (auto* e = registry_.find_bucket(id)) {
                e->waiting_global = false;
                mark_dirty(id, *e);
            }
        global_waiters_.clear();
    }

    void wake_held_waiters()
    {
        for (const auto& id : held_waiters_)
            if (auto* e = registry_.find_bucket(id))
                mark_dirty(id, *e);
        held_waiters_.clear();
    }

    // ---- the decisions -------------------------------------------------------------------------

    /// Time passes and events settle: timers fire, dirty buckets grant what they can.
    void process(time_point now)
    {
        while (!timers_.empty() && timers_.top().at <= now) {
            const timer due = timers_.top();
            timers_.pop();
            fire(due, now);
        }
        if (!global_waiters_.empty() && global_.may_send(now))
            wake_global_waiters();
        while (!dirty_.empty()) {
            // Buckets that grant during one event compete for the same global slots: the order of
            // the drains is the order in which they get them.
            draining_.swap(dirty_);
            if (draining_.size() > 1)
                order_by_urgency(draining_, now);
            for (const auto& id : draining_)
                drain(id, now);
            draining_.clear();
        }
        if (now >= next_eviction_) {
            evict(now);
            next_eviction_ = later_by(now, config_.eviction_interval);
        }
        if (ready_.size() > 1024 && ready_.size() > 2 * live_tickets_)
            std::erase_if(ready_, [this](ticket_id id) {
                const auto index = lookup(id);
                return !index || slots_[*index].notified;
            });
    }

    void fire(const timer& due, time_point now)
    {
        if (due.kind == timer_kind::global) {
            wake_global_waiters();
            return;
        }
        if (due.kind == timer_kind::reservation) {
            wake_held_waiters();
            return;
        }
        if (due.kind == timer_kind::bucket) {
            if (auto* e = registry_.find_bucket(due.bucket); e && e->queued > 0)
                mark_dirty(due.bucket, *e);
            return;
        }
        const auto index = lookup(due.ticket);
        if (!index)
            return;
        ticket& t = slots_[*index];
        if (t.limit_at && now >= *t.limit_at &&
            (t.stage == phase::queued || t.stage == phase::sleeping)) {
            fail_waiting(*index,
                         t.limit_is_max_wait ? error::rate_limited : error::deadline_exceeded);
            return;
        }
        if (t.stage == phase::sleeping && now >= t.not_before) {
            t.bucket = registry_.resolve(t.r, now);
            auto& e = registry_.bucket(t.bucket);
            enqueue(*index, e);
            mark_dirty(t.bucket, e);
        }
    }

    /// How urgently a bucket wants global slots: its remaining chain of windows (capped) plus the
    /// age of its oldest waiting request; ties go to the oldest request (the lowest sequence).
    struct urgency {
        duration score{};
        std::uint64_t seq = 0;
        std::size_t position = 0;
    };

    /// Orders buckets about to be drained so that the scarce global slots go to the critical path.
    ///
    /// The makespan of a backlog is set by its longest chain of bucket windows: a bucket with 61
    /// requests in windows of 5 per 5 s needs 12 more windows whatever else happens, while 300
    /// buckets of one request each can go in any second. Serving the longest remaining chain first
    /// starts that chain at once; any other order (the drain stack's, or oldest first) lets short
    /// work take the slots at the moments a long chain's window opens, and every window it misses
    /// adds a full window to the span.
    ///
    /// Starvation: a chain alone would let a few long backlogs keep a one-request bucket waiting as
    /// long as they exceed the global limit. The age of each bucket's oldest request is added to
    /// its chain, and the chain counts at most `critical_path_cap`: a bucket's score then grows
    /// with its wait at the same rate for everyone, so a request waiting for longer than the cap
    /// outranks any request submitted after it, and its wait is bounded by the work submitted up
    /// to one cap after it (a bounded lead over FIFO, not an unbounded one). Age rather than a
    /// plain cap alone, because a cap alone still ranks all capped chains above a waiting request
    /// forever.
    void order_by_urgency(std::vector<bucket_id>& ids, time_point now)
    {
        ranks_.clear();
        for (std::size_t i = 0; i < ids.size(); ++i)
            ranks_.push_back(urgency_of(ids[i], i, now));
        std::sort(ranks_.begin(), ranks_.end(), ranks_before);
        sorted_.clear();
        for (const auto& rank : ranks_)
            sorted_.push_back(ids[rank.position]);
        ids.swap(sorted_);
    }

    static bool ranks_before(const urgency& a, const urgency& b) noexcept
    {
        if (a.score != b.score)
            return a.score > b.score;
        if (a.seq != b.seq)
            return a.seq < b.seq;
        return a.position < b.position;
    }

    urgency urgency_of(const bucket_id& id, std::size_t position, time_point now)
    {
        urgency u;
        u.position = position;
        u.seq = std::numeric_limits<std::uint64_t>::max();
        auto* e = registry_.find_bucket(id);
        if (!e || e->queued == 0)
            return u; // nothing to grant: last
        const ticket& head = slots_[e->queue_head];
        u.seq = head.seq;
        const duration cap = std::max(config_.critical_path_cap, duration::zero());
        u.score = std::min(remaining_chain(e->state, e->queued, now), cap) +
                  std::max(now - head.waiting_since, duration::zero());
        return u;
    }

    /// About how long until a bucket's last queued request may go, if it got every global slot it
    /// wants: the wait for the window that takes the first request after the current one, plus a
    /// window for each further window the queue fills.
    ///
    /// A bucket of unknown limit can send only its probe, so ranking it too high costs one slot,
    /// while ranking it too low hides a long chain until its probe goes (with a backlog on every
    /// channel, behind everything submitted before it). Its chain is therefore estimated
    /// pessimistically: one request per window of the longest window learned so far.
    duration remaining_chain(discord_bucket<Clock>& b, std::uint32_t queued, time_point now) const
    {
        if (b.unlimited())
            return duration::zero();
        const std::uint32_t available = b.available(now);
        const auto limit = b.limit();
        if (!limit && available > 0) {
            if (longest_window_ <= duration::zero() || queued <= 1)
                return duration::zero();
            const auto most = static_cast<std::uint32_t>(std::min<duration_rep>(
                std::numeric_limits<duration_rep>::max() / longest_window_.count() / 2,
                std::numeric_limits<std::uint32_t>::max()));
            return longest_window_ * static_cast<duration_rep>(std::min(queued - 1, most));
        }
        if (queued <= available || !limit || *limit == 0) {
            if (available > 0)
                return duration::zero();
            const auto reset = b.next_reset();
            return reset && *reset > now ? *reset - now : duration::zero();
        }
        const duration window = b.window_length();
        // The current window ends at its (possibly estimated) deadline; a window not opened yet
        // opens with the next grant and lasts a full window.
        const duration current = b.reset_at() > now ? b.reset_at() - now : window;
        const std::uint64_t rest = queued - available;
        const std::uint64_t further = (rest + *limit - 1) / *limit - 1;
        if (window <= duration::zero())
            return current;
        const auto most = static_cast<std::uint64_t>(std::numeric_limits<duration_rep>::max() /
                                                     window.count() / 2);
        if (further >= most)
            return std::chrono::duration_values<duration>::max() / 2;
        return current + window * static_cast<duration_rep>(further);
    }

    /// Grants the waiting tickets of one bucket, in order, as far as every limit allows.
    void drain(const bucket_id& id, time_point now)
    {
        if (auto* e = registry_.find_bucket(id))
            drain(id, *e, now);
    }

    void drain(const bucket_id& id, entry_type& entry, time_point now)
    {
        entry_type* e = &entry;
        // A direct drain (from `acquire`, not from `dirty_`) walks.
        const bool walk = e->dirty != drain_head;
        e->dirty = 0;
        if (e->queued == 0)
            return;
        std::uint32_t available = 0;
        const gate_answer bucket = bucket_gate(id, *e, available, now);
        if (bucket.probe_held) {
            const time_point hold = *bucket.until;
            slots_[e->queue_head].reason = wait_reason::unknown_bucket;
            // A provisional bucket never waits for probes itself: its flag marks it held here.
            if (!e->waiting_probe) {
                e->waiting_probe = true;
                held_probes_.push_back(id);
            }
            if (!(e->wake_at > now && e->wake_at <= hold)) {
                e->wake_at = hold;
                push_timer(hold, timer_kind::bucket, id, 0);
            }
            return;
        }
        if (id.provisional && e->waiting_probe) {
            e->waiting_probe = false;
            std::erase(held_probes_, id);
        }
        std::optional<time_point> wake;
        std::optional<time_point> held;
        std::optional<urgency> mine;
        bool global_blocked = false;
        std::uint32_t global_skipped = 0;
        for (std::uint32_t index = walk ? e->queue_head : none; index != none && available > 0;) {
            ++stats_.queue_steps;
            ticket& t = slots_[index];
            const std::uint32_t next = t.next;
            const gate_answer answer = gate(t, id, mine, now);
            if (answer.go) {
                grant(index, *e, now);
                if (available != discord_bucket<Clock>::unlimited_capacity)
                    --available;
            } else {
                t.reason = answer.reason;
                if (!answer.global) {
                    if (answer.until)
                        wake = wake ? std::min(*wake, *answer.until) : *answer.until;
                } else if (!global_.may_send(now)) {
                    global_blocked = true; // woken by the global timer
                } else if (answer.until) {
                    held = held ? std::min(*held, *answer.until) : *answer.until;
                }
                // Past as many requests held by the global limit as the bucket could grant, only
                // an exempt request could still go: walking the rest of a long queue on every
                // freed global slot would cost the backlog squared.
                if (answer.global && ++global_skipped >= available && e->exempt_queued == 0)
                    break;
            }
            index = next;
        }
        note_spent(id, *e, now);
        if (e->queued == 0)
            return;
        if (available == 0) {
            // A reset already due means the bucket is held back for a probe in flight (woken by
            // `end_probe`), not by time: a timer at `now` would fire again and again.
            if (const auto reset = e->state.next_reset(); reset && *reset > now) {
                wake = wake ? std::min(*wake, *reset) : *reset;
                if (config_.reserve_global_slots)
                    reserved_.insert(id);
                // Every request of the queue waits at least until the reset, learned now or
                // before: those whose `max_rate_limit_wait` is shorter fail now, not at the reset.
                if (rate_limit_bounded_ != 0 && *reset - now > min_rate_limit_bound_)
                    fail_over_rate_limit_wait(*e, *reset, now);
            }
            if (e->queue_head != none)
                slots_[e->queue_head].reason = bucket_wait_reason(e->state);
        }
        if (global_blocked) {
            if (!e->waiting_global) {
                e->waiting_global = true;
                global_waiters_.push_back(id);
            }
            arm_global_timer(now);
        }
        if (held) {
            held_waiters_.insert(id);
            if (!(reservation_timer_ > now && reservation_timer_ <= *held)) {
                reservation_timer_ = *held;
                push_timer(*held, timer_kind::reservation, {}, 0);
            }
        }
        if (wake && !(e->wake_at > now && e->wake_at <= *wake)) {
            e->wake_at = *wake;
            push_timer(*wake, timer_kind::bucket, id, 0);
        }
    }

    /// Whether a request of bucket `id` must leave the free global slots to buckets that rank
    /// above it and whose windows reopen within one global window, and until when.
    ///
    /// Only a bucket whose remaining chain is longer than what the other waiting requests need at
    /// the global limit's pace reserves: then its chain, not the global limit, sets the span.
    ///
    /// A more urgent bucket that waits for its reset at T finds its global slots taken at T when
    /// they were handed out in the second before (each holds its slot one window after its
    /// response), and every window of a long chain then starts late. Slots granted now are still
    /// held at any T within one global window, so they count against what T needs. Holding back
    /// only delays a grant: it never grants more than the limiter allows.
    std::optional<time_point> reserved_until(const bucket_id& id, std::optional<urgency>& mine,
                                             time_point now)
    {
        if (!config_.reserve_global_slots || reserved_.empty())
            return std::nullopt;
        needs_.clear();
        // Every live ticket not in flight: an overestimate (exempt and sleeping ones count too).
        const std::size_t waiting =
            live_tickets_ - std::min<std::size_t>(live_tickets_, global_.in_flight());
        for (auto it = reserved_.begin(); it != reserved_.end();) {
            auto* e = registry_.find_bucket(*it);
            const auto reset = e && e->queued > 0 && e->state.available(now) == 0
                                   ? e->state.next_reset()
                                   : std::nullopt;
            if (!reset || *reset <= now) {
                it = reserved_.erase(it); // no longer waiting for a known reset
                continue;
            }
            const bucket_id other = *it;
            ++it;
            if (other == id || *reset - now >= global_.window())
                continue;
            if (!mine)
                mine = urgency_of(id, 1, now);
            if (!ranks_before(urgency_of(other, 0, now), *mine) ||
                remaining_chain(e->state, e->queued, now) <= others_need(waiting, e->queued))
                continue;
            needs_.emplace_back(*reset, std::min(e->queued, e->state.limit().value_or(1U)));
        }
        std::sort(needs_.begin(), needs_.end());
        std::uint64_t needed = 1; // this request
        for (const auto& [at, demand] : needs_) {
            needed += demand;
            if (global_.occupied_at(now, at) + needed > global_.limit())
                return at;
        }
        return std::nullopt;
    }

    /// About how long `waiting` requests but a bucket's `own` need at the global limit's pace. A
    /// chain no longer than that is not the critical path: the global limit is, and a slot kept
    /// idle for the chain would only delay the rest.
    duration others_need(std::size_t waiting, std::uint32_t own) const
    {
        const std::size_t others = waiting - std::min<std::size_t>(waiting, own);
        return global_.window() * static_cast<duration_rep>(others / global_.limit());
    }

    /// One pending timer for the moment a global slot frees, while buckets wait for one.
    void arm_global_timer(time_point now)
    {
        if (global_waiters_.empty())
            return;
        const auto free_at = global_.next_free(now);
        if (!free_at || *free_at <= now)
            return;
        if (global_timer_ > now && global_timer_ <= *free_at)
            return;
        global_timer_ = *free_at;
        push_timer(*free_at, timer_kind::global, {}, 0);
    }

    /// What a bucket may grant now. A known bucket keeps one request in reserve for each probe in
    /// flight on its major parameter: a route still being discovered may turn out to share it.
    std::uint32_t available_for(const bucket_id& id, entry_type& e, time_point now)
    {
        const std::uint32_t available = e.state.available(now);
        if (id.provisional || unknown_probes_.empty() ||
            available == discord_bucket<Clock>::unlimited_capacity)
            return available;
        const auto it = unknown_probes_.find(id.major);
        if (it == unknown_probes_.end())
            return available;
        if (available > it->second)
            return available - it->second;
        if (!e.waiting_probe) {
            e.waiting_probe = true;
            probe_waiters_.push_back(id);
        }
        return 0;
    }

    /// A channel name/topic edit was answered. Discord counts it when it arrived, at the latest
    /// now: its place in the channel's edit log moves from its send to now, so that a later edit
    /// that travels faster than this one cannot land inside Discord's window. An edit answered
    /// with a 429 was not made: it leaves the log (its retry is logged when it is sent).
    void edit_answered(const ticket& t, outcome o, time_point now)
    {
        auto& log = channel_edits_[t.r.major.id];
        // Gone only when it was sent a whole window ago: it may still have arrived just now.
        if (const auto sent = std::find(log.begin(), log.end(), t.sent_at); sent != log.end())
            log.erase(sent);
        if (!is_rate_limited(o))
            log.insert(std::upper_bound(log.begin(), log.end(), now), now);
    }

    /// A granted channel name/topic edit that will not be sent leaves the edit log.
    void edit_cancelled(const ticket& t)
    {
        const auto it = channel_edits_.find(t.r.major.id);
        if (it == channel_edits_.end())
            return;
        auto& log = it->second;
        if (const auto sent = std::find(log.begin(), log.end(), t.sent_at); sent != log.end())
            log.erase(sent);
    }

    /// Until when a provisional bucket's probe waits for a spent known bucket on its major
    /// parameter (see `engine_config::probe_hold_limit`); nothing when it may go. The hold ends
    /// `probe_hold_limit` after the probe began to wait at the latest: on a busy channel some
    /// bucket is nearly always spent, and the probe must not wait for the traffic to stop. A
    /// bucket spent by requests still in flight holds it until their answers tell more (they wake
    /// it, see `note_spent`).
    std::optional<time_point> probe_hold(const bucket_id& id, const entry_type& e, time_point now)
    {
        if (!id.provisional || spent_majors_.empty() || e.queue_head == none)
            return std::nullopt;
        const auto it = spent_majors_.find(id.major);
        if (it == spent_majors_.end())
            return std::nullopt;
        const time_point marked =
            it->second.in_flight_by ? spent_in_flight : it->second.until;
        if (marked <= now) {
            spent_majors_.erase(it);
            return std::nullopt;
        }
        const time_point until =
            std::min(marked,
                     later_by(slots_[e.queue_head].waiting_since, config_.probe_hold_limit));
        if (until <= now)
            return std::nullopt;
        return until;
    }

    /// Remembers that a known bucket is spent, for the probes of its major parameter (see
    /// `probe_hold`): until its reset when that is known, and while its window's end is not known
    /// yet (its requests are in flight) until their answers, a cancel or a hash change tell more
    /// (`spent_mark::in_flight_by`, which only that bucket clears).
    void note_spent(const bucket_id& id, entry_type& e, time_point now)
    {
        // Routes without a major parameter share no channel: no reason to hold one for another.
        if (id.provisional || id.major.kind == major_kind::none ||
            config_.probe_hold_limit <= duration::zero())
            return;
        const bool spent = e.state.available(now) == 0;
        if (!spent && in_flight_marks_ == 0)
            return; // the common case, a bucket with room: no lookup
        if (!spent && spent_majors_.empty())
            return;
        const auto it = spent_majors_.find(id.major);
        const auto reset = spent ? e.state.next_reset() : std::nullopt;
        if (spent && !reset) {
            if (e.state.limit() && e.state.in_flight() > 0) {
                if (it == spent_majors_.end()) {
                    spent_majors_.emplace(id.major, spent_mark{time_point{}, id.key});
                    ++in_flight_marks_;
                } else if (!it->second.in_flight_by) {
                    it->second.in_flight_by = id.key;
                    ++in_flight_marks_;
                }
            }
            return;
        }
        // This bucket's answers (or its cancel, or its hash change) end its in-flight mark.
        const bool ended_in_flight = it != spent_majors_.end() && it->second.in_flight_by == id.key;
        if (ended_in_flight) {
            it->second.in_flight_by.reset();
            --in_flight_marks_;
        }
        if (reset && *reset > now && *reset - now <= config_.probe_hold_limit) {
            if (it == spent_majors_.end())
                spent_majors_.emplace(id.major, spent_mark{*reset, std::nullopt});
            else
                it->second.until = std::max(it->second.until, *reset);
        } else if (it != spent_majors_.end() && !it->second.in_flight_by &&
                   it->second.until <= now) {
            spent_majors_.erase(it);
        }
        if (ended_in_flight)
            wake_held_probes(); // they look again: let go, or held until the reset now known
    }

    /// Probes held for a bucket spent in flight look again.
    void wake_held_probes() { wake_probe_list(held_probes_); }

    /// The buckets of `list` (each flagged `waiting_probe` while in it) look again.
    void wake_probe_list(std::vector<bucket_id>& list)
    {
        for (const auto& id : list)
            if (auto* e = registry_.find_bucket(id)) {
                e->waiting_probe = false;
                mark_dirty(id, *e);
            }
        list.clear();
    }

    /// A probe of a route being discovered ended: buckets that held capacity for it look again.
    void end_probe(ticket& t)
    {
        if (!t.probing)
            return;
        t.probing = false;
        const auto it = unknown_probes_.find(t.r.major);
        if (it == unknown_probes_.end())
            return;
        if (--it->second == 0)
            unknown_probes_.erase(it);
        wake_probe_list(probe_waiters_);
    }

    static wait_reason bucket_wait_reason(const discord_bucket<Clock>& b) noexcept
    {
        if (!b.limit())
            return wait_reason::unknown_bucket;
        return b.next_reset() ? wait_reason::bucket_exhausted : wait_reason::in_flight;
    }

    /// A route-level block (shared or sub-limit 429, hidden channel edit limit) and its end.
    std::optional<std::pair<time_point, wait_reason>> blocked_until(const ticket& t, time_point now)
    {
        if (!route_blocks_.empty()) {
            const auto it = route_blocks_.find(block_key{t.r.key.hash(), t.r.major});
            if (it != route_blocks_.end() && now < it->second)
                return std::pair{it->second, wait_reason::route_blocked};
        }
        if (t.r.channel_name_or_topic_edit) {
            const auto it = channel_edits_.find(t.r.major.id);
            if (it != channel_edits_.end()) {
                auto& log = it->second;
                while (!log.empty() && now - log.front() >= config_.channel_edit_window)
                    log.pop_front();
                if (log.size() >= config_.channel_edit_limit)
                    return std::pair{later_by(log.front(), config_.channel_edit_window),
                                     wait_reason::hidden_limit};
            }
        }
        return std::nullopt;
    }

    void grant(std::uint32_t index, entry_type& e, time_point now)
    {
        unlink(index, e);
        ticket& t = slots_[index];
        t.window = e.state.on_grant(now);
        if (t.bucket.provisional && !e.state.unlimited()) {
            t.probing = true;
            ++unknown_probes_[t.r.major];
        }
        if (!t.r.global_exempt) {
            global_.on_send();
            t.holds_global = true;
        }
        if (t.r.channel_name_or_topic_edit) {
            channel_edits_[t.r.major.id].push_back(now);
            t.sent_at = now;
        }
        t.stage = phase::granted;
        t.notified = false;
        ++unreported_;
        ready_.push_back(id_of(index));
        ++stats_.granted;
        t.counted_wait = now > t.waiting_since;
        if (t.counted_wait) {
            ++stats_.waited;
            if (config_.observer)
                config_.observer->on_waited(
                    t.r,
                    std::chrono::duration_cast<std::chrono::nanoseconds>(now - t.waiting_since),
                    t.reason);
        }
    }

    /// The answer for a ticket after its bucket was drained.
    acquire_result_type settle(std::uint32_t index, time_point now, bool first)
    {
        ticket& t = slots_[index];
        const ticket_id id = id_of(index);
        if (t.stage == phase::granted) {
            mark_reported(t);
            return granted_result(id);
        }
        if (t.stage == phase::failed) {
            auto result = failure(id, t.failure);
            result.wait = t.failure_wait;
            release(index);
            return result;
        }
        const auto [at, reason] = estimate(t, now);
        if (first && t.reason == wait_reason::none)
            t.reason = reason;
        // A retry's backoff is not a rate limit; once it rejoins its queue, `drain` checks it.
        const bool over_rate_limit_wait = at && t.options.max_rate_limit_wait &&
                                          t.stage == phase::queued && *at > now &&
                                          *at - now > *t.options.max_rate_limit_wait;
        if (over_rate_limit_wait || (at && t.limit_at && *at > *t.limit_at)) {
            // The known wait already ends past the request's limit: fail now, not at the limit.
            const error why = over_rate_limit_wait || t.limit_is_max_wait || !t.options.deadline
                                  ? error::rate_limited
                                  : error::deadline_exceeded;
            fail_waiting(index, why, *at - now);
            auto result = failure(id, why);
            result.wait = *at - now;
            release(index);
            return result;
        }
        acquire_result_type result;
        result.status = acquire_status::waiting;
        result.ticket = id;
        // Without a known time, ask again at the request's own limit at the latest: it fails then.
        result.retry_at = at ? at : t.limit_at;
        result.reason = reason;
        return result;
    }

    /// What holds something back: nothing (`go`), or until when (no time: until an event, such as
    /// a response in flight) and why. Holds combine to the latest; an unknown end wins.
    struct gate_answer {
        bool go = true;
        bool global = false; ///< the global limit or a reservation of global slots holds it
        bool probe_held = false; ///< a probe held for a spent bucket of its channel
        std::optional<time_point> until;
        wait_reason reason = wait_reason::none;

        void hold(std::optional<time_point> at, wait_reason why) noexcept
        {
            if (go || (until && (!at || *at > *until))) {
                until = at;
                reason = why;
            }
            go = false;
        }
        void hold(const gate_answer& other) noexcept
        {
            if (!other.go)
                hold(other.until, other.reason);
            global = global || other.global;
        }
    };

    /// The one answer to "may this ticket go now, as far as its own route and the global limit
    /// tell, or when and why not": a route block or the channel-edit limit, the global limit or a
    /// global 429, a reservation of global slots for a more urgent bucket. The drain grants by it
    /// and `estimate` reports it, so a caller told to ask again at T finds at T that the ticket
    /// goes or that something else now holds it. A reservation is looked at only when nothing
    /// else holds the ticket (it is the costly one, and the global limit outlasts it).
    gate_answer gate(const ticket& t, const bucket_id& id, std::optional<urgency>& mine,
                     time_point now)
    {
        gate_answer answer;
        if (const auto blocked = blocked_until(t, now))
            answer.hold(blocked->first, blocked->second);
        if (t.r.global_exempt)
            return answer;
        if (!global_.may_send(now)) {
            answer.hold(global_.next_free(now), now < global_.paused_until()
                                                     ? wait_reason::global_429
                                                     : wait_reason::global_limit);
            answer.global = true;
        } else if (answer.go) {
            if (const auto until = reserved_until(id, mine, now)) {
                answer.hold(*until, wait_reason::global_limit);
                answer.global = true;
            }
        }
        return answer;
    }

    /// What the bucket itself allows now: how many it may grant (`available_for`), and when none,
    /// until when: a probe held for a spent bucket of its channel, a probe in flight on its major
    /// parameter, or the bucket's reset (no time when only responses in flight can tell).
    gate_answer bucket_gate(const bucket_id& id, entry_type& e, std::uint32_t& available,
                            time_point now)
    {
        gate_answer answer;
        available = 0;
        if (const auto hold = probe_hold(id, e, now)) {
            answer.hold(*hold, wait_reason::unknown_bucket);
            answer.probe_held = true;
            return answer;
        }
        available = available_for(id, e, now);
        if (available > 0)
            return answer;
        if (e.state.available(now) > 0) // held back for a probe in flight on the major parameter
            answer.hold(std::nullopt, wait_reason::unknown_bucket);
        else if (const auto reset = e.state.next_reset(); reset && *reset > now)
            answer.hold(*reset, wait_reason::bucket_exhausted);
        else
            answer.hold(std::nullopt, bucket_wait_reason(e.state));
        return answer;
    }

    /// The earliest time a waiting ticket may go, as far as time alone tells, and the main reason:
    /// its retry's backoff, `gate`, and `bucket_gate` while it is queued.
    std::pair<std::optional<time_point>, wait_reason> estimate(const ticket& t, time_point now)
    {
        gate_answer answer;
        if (t.stage == phase::sleeping && t.not_before > now)
            answer.hold(t.not_before, wait_reason::retry_backoff);
        std::optional<urgency> mine;
        answer.hold(gate(t, t.bucket, mine, now));
        if (auto* e = registry_.find_bucket(t.bucket); e && t.stage == phase::queued) {
            std::uint32_t available = 0;
            answer.hold(bucket_gate(t.bucket, *e, available, now));
        }
        if (answer.go)
            return {now, wait_reason::queued};
        return {answer.until, answer.reason};
    }

    /// Refuses a new request during a ban or above the invalid-request stop.
    std::optional<acquire_result_type> refusal(time_point now)
    {
        if (now < ban_until_) {
            auto result = failure(0, error::banned);
            result.wait = ban_until_ - now;
            return result;
        }
        if (config_.invalid_request_stop && invalid_.count(now) >= *config_.invalid_request_stop)
            return failure(0, error::invalid_request_limit);
        return std::nullopt;
    }

    acquire_result_type granted_result(ticket_id id) const
    {
        acquire_result_type result;
        result.status = acquire_status::granted;
        result.ticket = id;
        return result;
    }

    acquire_result_type failure(ticket_id id, error e) const
    {
        acquire_result_type result;
        result.status = acquire_status::failed;
        result.ticket = id;
        result.error = make_error_code(e);
        return result;
    }

    /// Fails the queued tickets of `e` whose `max_rate_limit_wait` is shorter than the wait until
    /// `until`: one walk of the queue, only when that wait is longer than the smallest bound. The
    /// tickets it fails leave the queue, so with one bound for all (as `discord-bulk` sets) a queue
    /// is walked once per such reset; a queue that mixes bounds, or bounded and unbounded tickets,
    /// behind a reset longer than the smallest bound is walked on each drain.
    void fail_over_rate_limit_wait(entry_type& e, time_point until, time_point now)
    {
        const duration wait = until - now;
        for (std::uint32_t index = e.queue_head; index != none;) {
            ++stats_.queue_steps;
            ticket& t = slots_[index];
            const std::uint32_t next = t.next;
            if (t.options.max_rate_limit_wait && wait > *t.options.max_rate_limit_wait)
                fail_waiting(index, error::rate_limited, wait);
            index = next;
        }
    }

    /// Ends a queued or sleeping ticket with an error, to be reported by `advance` or `acquire`.
    void fail_waiting(std::uint32_t index, error why, duration wait = {})
    {
        ticket& t = slots_[index];
        if (t.stage == phase::queued)
            if (auto* e = registry_.find_bucket(t.bucket)) {
                unlink(index, *e);
                mark_dirty(t.bucket, *e);
            }
        t.stage = phase::failed;
        t.failure = why;
        t.failure_wait = wait;
        t.notified = false;
        ++unreported_;
        ++stats_.failed;
        ready_.push_back(id_of(index));
    }

    /// Takes back the grants not yet reported to their callers (all of them, or only those bound
    /// by the global limit): each gives back what it holds and waits again at its place in its
    /// bucket's queue, from which a pause holds it or a ban fails it. `except` is the ticket whose
    /// response revealed the pause or ban.
    void withdraw_unreported_grants(std::uint32_t except, bool global_only, time_point now)
    {
        if (unreported_ == 0)
            return;
        std::vector<std::uint32_t> expired;
        for (const ticket_id id : ready_) {
            const auto index = lookup(id);
            if (!index || *index == except)
                continue;
            const ticket& t = slots_[*index];
            if (t.stage != phase::granted || t.notified || (global_only && t.r.global_exempt))
                continue;
            if (take_back_grant(*index, now))
                expired.push_back(*index);
        }
        // Apart from the walk: failing a ticket adds to `ready_`.
        for (const auto index : expired)
            fail_waiting(index, slots_[index].limit_is_max_wait ? error::rate_limited
                                                                : error::deadline_exceeded);
    }

    /// A granted ticket gives back what it holds and waits again at its place in its bucket's
    /// queue, its grant uncounted. Returns true when its deadline or maximum wait has passed
    /// meanwhile (its timer fired while it was granted): the caller fails it.
    bool take_back_grant(std::uint32_t index, time_point now)
    {
        ticket& t = slots_[index];
        give_back_grant(t, now);
        mark_reported(t); // nothing to report any more: it waits again
        --stats_.granted;
        if (t.counted_wait)
            --stats_.waited;
        t.counted_wait = false;
        auto& e = registry_.bucket(t.bucket);
        enqueue(index, e);
        mark_dirty(t.bucket, e);
        return t.limit_at && *t.limit_at <= now;
    }

    /// Fails every waiting ticket (a ban, or the invalid-request stop).
    /// A pause learned now, ending at `until`: of every route (the global limit's, when `route` is
    /// null: exempt routes go on) or of one route and major parameter. Fails the waiting tickets
    /// it holds whose `max_rate_limit_wait` is shorter. A pass over the tickets, only when the
    /// pause is longer than the smallest live bound: never for pauses of ordinary length.
    void fail_over_rate_limit_wait(const block_key* route, time_point until, time_point now)
    {
        if (rate_limit_bounded_ == 0 || until <= now || until - now <= min_rate_limit_bound_)
            return;
        const duration wait = until - now;
        for (std::uint32_t index = 0; index < slots_.size(); ++index) {
            const ticket& t = slots_[index];
            if ((t.stage != phase::queued && t.stage != phase::sleeping) ||
                !t.options.max_rate_limit_wait || wait <= *t.options.max_rate_limit_wait)
                continue;
            const bool held = route == nullptr
                                  ? !t.r.global_exempt
                                  : *route == block_key{t.r.key.hash(), t.r.major};
            if (held)
                fail_waiting(index, error::rate_limited, wait);
        }
    }

    void fail_all_waiting(error why, duration wait)
    {
        for (std::uint32_t index = 0; index < slots_.size(); ++index) {
            const auto p = slots_[index].stage;
            if (p == phase::queued || p == phase::sleeping)
                fail_waiting(index, why, wait);
        }
    }

    // ---- learning from responses ---------------------------------------------------------------

    static bucket_update update_of(const rate_limit_headers& h) noexcept
    {
        bucket_update u;
        // A limit of 0 would let nothing through and name no time to wait for: the bucket's
        // waiters would hang. It teaches nothing; the route keeps probing one request at a time.
        if (h.limit && *h.limit > 0)
            u.limit = h.limit;
        u.remaining = h.remaining;
        u.reset_after = h.reset_after;
        u.reset_epoch = h.reset;
        // A Date nanoseconds cannot count (before 1970, after 2262) would overflow the conversion.
        constexpr std::chrono::seconds latest_date{std::chrono::nanoseconds::max().count() /
                                                   1'000'000'000};
        if (!u.reset_after && h.reset && h.date && *h.date >= std::chrono::seconds::zero() &&
            *h.date <= latest_date) {
            // Reset is on Discord's clock: only its distance from Discord's own Date is usable,
            // within the bounds of a Reset-After header (0 to 7 days).
            const auto distance =
                *h.reset - std::chrono::duration_cast<std::chrono::nanoseconds>(*h.date);
            if (distance.count() <= static_cast<std::int64_t>(detail::max_wait_ns))
                u.reset_after = std::max(distance, std::chrono::nanoseconds::zero());
        }
        return u;
    }

    void learn(std::uint32_t index, const response& res, outcome o, time_point now)
    {
        ticket& t = slots_[index];
        const bucket_update update = update_of(res.headers);
        const bool has_info = update.limit || update.remaining || update.reset_after;
        const bool trusted = res.transport == transport_error::none &&
                             o != outcome::cloudflare_429 && o != outcome::global_429;
        if (trusted && res.headers.bucket)
            follow_hash(index, *res.headers.bucket, now);
        if (t.also_charged) {
            const bucket_id also{t.also_key, t.r.major, false};
            if (auto* a = registry_.find_bucket(also)) {
                if (trusted && res.headers.bucket)
                    a->state.on_cancel();
                else
                    a->state.on_lost(now);
                note_spent(also, *a, now);
                mark_dirty(also, *a);
            }
            t.also_charged = false;
        }
        auto* e = registry_.find_bucket(t.bucket);
        if (!e) {
            // The bucket was merged away under an in-flight permit: charge it to where it went.
            t.bucket = registry_.resolve(t.r, now);
            e = &registry_.bucket(t.bucket);
            t.window = e->state.on_grant(now);
        }
        // A shared-scope, sub-limit or global 429 was not counted in the bucket: it costs no
        // window (Discord's shared 429 shows the bucket's Remaining unchanged).
        const bool uncounted = o == outcome::shared_429 || o == outcome::sublimit_429 ||
                               o == outcome::global_429;
        if (trusted && has_info) {
            if (uncounted)
                e->state.on_refused(t.window, update, now);
            else
                e->state.on_response(t.window, update, now);
            longest_window_ = std::max(longest_window_, e->state.window_length());
        } else if (o == outcome::success)
            e->state.on_headerless_success(now);
        else if (uncounted)
            e->state.on_refused(t.window, bucket_update{}, now);
        else if (is_rate_limited(o))
            // A 429 is an answer, not a lost request: Discord refused it, so no window counts it
            // (charging it as lost hung a bucket of unknown window length). Its wait applies.
            e->state.on_response(t.window, bucket_update{}, now);
        else
            e->state.on_lost(now, config_.default_retry_after);
        note_spent(t.bucket, *e, now);
        mark_dirty(t.bucket, *e);
    }

    /// A response named the route's bucket hash: follow it, merging or moving queues as needed.
    void follow_hash(std::uint32_t index, const bucket_hash& hash, time_point now)
    {
        ticket& t = slots_[index];
        const auto learned = registry_.learn(t.r, hash, now);
        if (config_.observer) {
            if (learned.what == bucket_registry<Clock, Store>::learned::discovered)
                config_.observer->on_bucket_discovered(t.r, hash);
            else if (learned.what == bucket_registry<Clock, Store>::learned::changed)
                config_.observer->on_bucket_changed(t.r, *learned.before, hash);
        }
        if (learned.what == bucket_registry<Clock, Store>::learned::discovered)
            adopt_provisional_waiters(index, hash);
        if (learned.bucket == t.bucket)
            return;
        const bucket_id from_id = t.bucket;
        auto* from = registry_.find_bucket(from_id);
        auto& to = registry_.bucket(learned.bucket);
        if (!from) {
            t.bucket = learned.bucket;
            t.window = to.state.on_grant(now);
            return;
        }
        if (from_id.provisional) {
            // The route's requests join the one queue of the bucket they turned out to share.
            to.state.absorb(from->state);
            move_queue(*from, learned.bucket, to, [](const ticket&) { return true; });
            if (from->state.in_flight() > 1)
                restamp_in_flight(from_id, learned.bucket, to);
            t.bucket = learned.bucket;
            t.window = to.state.window();
            registry_.erase_bucket(from_id);
        } else {
            // The hash changed: the response names the bucket that counted this request, so the
            // old one gives its charge back (charged as lost, it would hold a phantom request
            // when the route's hash comes back to it) and the new one takes it.
            from->state.on_cancel();
            note_spent(from_id, *from, now);
            mark_dirty(from_id, *from);
            const auto key = t.r.key;
            const auto major = t.r.major;
            move_queue(*from, learned.bucket, to, [&](const ticket& other) {
                return other.r.key == key && other.r.major == major;
            });
            // The route's other permits in flight land in the new bucket too: charge them there
            // (they stay charged to the old one as lost).
            for (std::uint32_t i = 0; i < slots_.size(); ++i) {
                ticket& other = slots_[i];
                if (i != index && other.stage == phase::granted && other.bucket == from_id &&
                    other.r.key == key && other.r.major == major) {
                    // The old bucket stays charged until the permit's answer names its bucket.
                    // One already moved keeps its first old bucket: this one only had a guess.
                    if (!other.also_charged) {
                        other.also_charged = true;
                        other.also_key = from_id.key;
                    } else
                        from->state.on_cancel();
                    other.bucket = learned.bucket;
                    other.window = to.state.on_grant(now);
                }
            }
            t.bucket = learned.bucket;
            t.window = to.state.on_grant(now);
        }
        mark_dirty(learned.bucket, to);
    }

    /// The route's waiters on other major parameters, queued in provisional buckets before its hash
    /// was known, join their (hash, major) buckets now: one queue per bucket, in arrival order.
    void adopt_provisional_waiters(std::uint32_t index, const bucket_hash& hash)
    {
        const auto key = slots_[index].r.key;
        const bucket_id own = slots_[index].bucket;
        for (std::uint32_t i = 0; i < slots_.size(); ++i) {
            ticket& other = slots_[i];
            if (other.stage != phase::queued || !other.bucket.provisional || other.bucket == own ||
                !(other.r.key == key))
                continue;
            const bucket_id from_id = other.bucket;
            if (auto* from = registry_.find_bucket(from_id)) {
                unlink(i, *from);
                mark_dirty(from_id, *from);
            }
            other.bucket = bucket_id{bucket_key_of(hash), other.r.major, false};
            auto& to = registry_.bucket(other.bucket);
            enqueue(i, to);
            mark_dirty(other.bucket, to);
        }
    }

    template <class Predicate>
    void move_queue(entry_type& from, const bucket_id& to_id, entry_type& to, Predicate&& pick)
    {
        for (std::uint32_t index = from.queue_head; index != none;) {
            const std::uint32_t next = slots_[index].next;
            if (pick(slots_[index])) {
                unlink(index, from);
                slots_[index].bucket = to_id;
                enqueue(index, to);
            }
            index = next;
        }
    }

    void restamp_in_flight(const bucket_id& from, const bucket_id& to_id, entry_type& to)
    {
        for (auto& other : slots_)
            if (other.stage == phase::granted && other.bucket == from) {
                other.bucket = to_id;
                other.window = to.state.window();
            }
    }

    void record_invalid(time_point now)
    {
        const std::uint32_t before = invalid_.count(now);
        const std::uint32_t after = invalid_.record(now);
        if (config_.observer)
            for (const auto threshold : config_.invalid_request_warnings)
                if (before < threshold && after >= threshold)
                    config_.observer->on_invalid_request_warning(after, threshold);
        if (config_.invalid_request_stop && before < *config_.invalid_request_stop &&
            after >= *config_.invalid_request_stop)
            fail_all_waiting(error::invalid_request_limit, {});
    }

    /// The policy: done, retry at T, or fail with a reason.
    completion_type decide(std::uint32_t index, const response& res, outcome o, time_point now)
    {
        ticket& t = slots_[index];
        completion_type c;
        c.result = o;
        std::optional<time_point> retry_at;
        bool retry_429 = false;

        if (is_rate_limited(o)) {
            ++stats_.rate_limited[engine_stats::index_of(o)];
            const auto asked = retry_after(res);
            c.wait = asked ? std::chrono::ceil<duration>(*asked) : config_.default_retry_after;
            if (config_.observer)
                config_.observer->on_rate_limited(
                    t.r, o, std::chrono::duration_cast<std::chrono::nanoseconds>(c.wait));
        }
        switch (o) {
        case outcome::success:
            c.status = completion_status::done;
            ++stats_.succeeded;
            release(index);
            return c;
        case outcome::user_429:
            if (auto* e = registry_.find_bucket(t.bucket)) {
                e->state.exhaust_until(later_by(now, c.wait));
                mark_dirty(t.bucket, *e);
            }
            retry_at = later_by(now, c.wait);
            retry_429 = true;
            break;
        case outcome::global_429:
            global_.pause_until(later_by(now, c.wait));
            fail_over_rate_limit_wait(nullptr, later_by(now, c.wait), now);
            retry_at = later_by(now, c.wait);
            retry_429 = true;
            break;
        case outcome::shared_429:
        case outcome::sublimit_429: {
            const block_key key{t.r.key.hash(), t.r.major};
            auto& until = route_blocks_[key];
            until = std::max(until, later_by(now, c.wait));
            fail_over_rate_limit_wait(&key, until, now);
            retry_at = later_by(now, c.wait);
            retry_429 = true;
            break;
        }
        case outcome::cloudflare_429: {
            const duration cooldown = std::max(config_.ban_cooldown, c.wait);
            ban_until_ = std::max(ban_until_, later_by(now, cooldown));
            if (config_.observer)
                config_.observer->on_ban(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(cooldown));
            fail_all_waiting(error::banned, cooldown);
            return finish_failed(index, c, error::banned, ban_until_ - now);
        }
        case outcome::unauthorized: return finish_failed(index, c, error::unauthorized);
        case outcome::forbidden: return finish_failed(index, c, error::forbidden);
        case outcome::not_found: return finish_failed(index, c, error::not_found);
        case outcome::client_error: return finish_failed(index, c, error::client_error);
        case outcome::server_error:
        case outcome::network_error:
        case outcome::timeout: {
            const bool resend_ok = t.r.idempotent() || t.options.resend_non_idempotent ||
                                   config_.retry.resend_non_idempotent;
            if (!resend_ok && retry_policy::may_have_arrived(res, o))
                return finish_failed(index, c, error::not_resent);
            ++t.attempts;
            if (t.attempts >= config_.retry.max_attempts)
                return finish_failed(index, c, error::retries_exhausted);
            const auto backoff = jitter_.uniform(config_.retry.backoff_ceiling(t.attempts));
            retry_at = later_by(now, std::chrono::ceil<duration>(backoff));
            // A lost probe holds its still-unknown bucket for a pause (see `on_lost`).
            if (const auto* e = registry_.find_bucket(t.bucket); e && !e->state.limit())
                retry_at = std::max(*retry_at, e->state.probe_held_until());
            break;
        }
        }
        if (retry_429 && ++t.rate_limited_attempts >= config_.retry.max_rate_limited_attempts)
            return finish_failed(index, c, error::retries_exhausted, c.wait);
        if (retry_429 && t.options.max_rate_limit_wait && *retry_at > now &&
            *retry_at - now > *t.options.max_rate_limit_wait)
            return finish_failed(index, c, error::rate_limited, *retry_at - now);
        if (t.limit_at && *retry_at > *t.limit_at) {
            const error limit_error =
                retry_429 || t.limit_is_max_wait ? error::rate_limited : error::deadline_exceeded;
            return finish_failed(index, c, limit_error, *retry_at - now);
        }
        // A ban or the invalid-request stop refuses a retry as it refuses a new request.
        if (now < ban_until_)
            return finish_failed(index, c, error::banned, ban_until_ - now);
        if (config_.invalid_request_stop && invalid_.count(now) >= *config_.invalid_request_stop)
            return finish_failed(index, c, error::invalid_request_limit);
        // Retry: the ticket sleeps until retry_at, then rejoins its bucket's queue at its old
        // place.
        ++stats_.retries;
        t.stage = phase::sleeping;
        t.not_before = *retry_at;
        t.reason = wait_reason::retry_backoff;
        push_timer(*retry_at, timer_kind::ticket, {}, id_of(index));
        c.status = completion_status::retry;
        c.retry_at = retry_at;
        return c;
    }

    completion_type finish_failed(std::uint32_t index, completion_type c, error why,
                                  duration wait = {})
    {
        c.status = completion_status::failed;
        c.error = make_error_code(why);
        if (wait != duration{})
            c.wait = wait;
        ++stats_.failed;
        release(index);
        return c;
    }

    // ---- memory ---------------------------------------------------------------------------------

    void evict(time_point now)
    {
        registry_.evict(now, [](const entry_type& e) {
            return e.dirty || e.waiting_global || e.waiting_probe;
        });
        std::erase_if(route_blocks_, [now](const auto& item) { return item.second <= now; });
        // A mark whose in-flight bucket was forgotten can no longer be ended by it.
        std::erase_if(spent_majors_, [&](const auto& item) {
            const auto& [major, mark] = item;
            const bool orphan = mark.in_flight_by &&
                                !registry_.find_bucket(bucket_id{*mark.in_flight_by, major, false});
            if ((!mark.in_flight_by || orphan) && mark.until <= now) {
                if (orphan)
                    --in_flight_marks_;
                return true;
            }
            return false;
        });
        std::erase_if(channel_edits_, [&](auto& item) {
            return item.second.empty() || now - item.second.back() >= config_.channel_edit_window;
        });
        if (live_tickets_ == 0)
            release_idle_memory();
    }

    /// With no ticket alive, gives back the storage a burst left behind. The next ticket's
    /// generation starts above every one handed out, so that a stale id never names a new ticket.
    void release_idle_memory()
    {
        for (const ticket& t : slots_)
            generation_floor_ = std::max(generation_floor_, t.generation);
        // A fresh vector moved in: `v = {}` would pick the initializer_list assignment, which
        // keeps the capacity.
        const auto release = [](auto& v) {
            if (v.capacity() > 64 && v.empty())
                v = std::remove_reference_t<decltype(v)>{};
        };
        const auto release_table = [](auto& table) {
            if (table.bucket_count() > 64 && table.empty())
                table = std::remove_reference_t<decltype(table)>{};
        };
        slots_.clear();
        free_.clear();
        ready_.clear();
        sorted_.clear(); // scratch: cleared before each use, not after
        ranks_.clear();
        needs_.clear();
        release(slots_);
        release(free_);
        release(ready_);
        release(dirty_);
        release(draining_);
        release(sorted_);
        release(ranks_);
        release(needs_);
        release(global_waiters_);
        release(probe_waiters_);
        if (held_probes_.empty()) // not scratch: rarely used, so not kept
            held_probes_ = std::vector<bucket_id>{};
        release_table(reserved_);
        release_table(held_waiters_);
        release_table(unknown_probes_);
        release_table(spent_majors_);
        release_table(route_blocks_);
        release_table(channel_edits_);
        if (timers_.empty())
            timers_ = decltype(timers_){};
    }

    config_type config_;
    bucket_registry<Clock, Store> registry_;
    global_limiter<Clock> global_;
    invalid_request_tracker<Clock> invalid_;
    jitter_source jitter_;
    engine_stats stats_{};
    std::vector<ticket> slots_;
    std::vector<std::uint32_t> free_;
    std::uint32_t generation_floor_ = 0; ///< see `release_idle_memory`
    std::size_t live_tickets_ = 0;
    std::size_t unreported_ = 0; ///< grants and failures not yet returned by `acquire` or `advance`
    /// Live tickets with `request_options::max_rate_limit_wait`, and the smallest bound any of them
    /// had since there were none: `drain` walks a queue for them only when a reset is further
    /// away than that, so waits of ordinary length never cost a walk.
    std::size_t rate_limit_bounded_ = 0;
    duration min_rate_limit_bound_ = duration::max();
    std::uint64_t sequence_ = 0;
    std::vector<ticket_id> ready_;
    std::vector<bucket_id> dirty_;
    std::vector<bucket_id> draining_; ///< the dirty buckets being drained (reused storage)
    std::vector<bucket_id> sorted_;   ///< scratch of `order_by_urgency`
    std::vector<urgency> ranks_;      ///< scratch of `order_by_urgency`
    std::vector<bucket_id> global_waiters_;
    /// Buckets waiting for a known reset: their windows may reserve global slots.
    std::unordered_set<bucket_id, id_hasher> reserved_;
    /// Buckets holding back for a reservation (see `reserved_until`), woken at its time.
    std::unordered_set<bucket_id, id_hasher> held_waiters_;
    std::vector<std::pair<time_point, std::uint32_t>> needs_; ///< scratch of `reserved_until`
    std::vector<bucket_id> probe_waiters_;
    /// Provisional buckets whose probe `probe_hold` holds, woken when a hold ends early.
    std::vector<bucket_id> held_probes_;
    /// How long `spent_mark::in_flight_by` holds a probe: until the answers come (at most
    /// `probe_hold_limit`).
    static constexpr time_point spent_in_flight = time_point::max();
    std::unordered_map<major_parameter, std::uint32_t, major_hasher> unknown_probes_;
    /// A channel (guild, webhook) with a known bucket spent.
    struct spent_mark {
        time_point until; ///< the latest known reset of a spent bucket
        /// `bucket_id::key` of a bucket spent by requests whose answers have not told its reset:
        /// the probes wait for them (at most `probe_hold_limit`).
        std::optional<std::uint64_t> in_flight_by;
    };
    /// Per major parameter: the latest reset of a known bucket seen spent (see `probe_hold`).
    std::unordered_map<major_parameter, spent_mark, major_hasher> spent_majors_;
    std::size_t in_flight_marks_ = 0; ///< marks of `spent_majors_` with `in_flight_by`
    std::priority_queue<timer, std::vector<timer>, std::greater<>> timers_;
    std::unordered_map<block_key, time_point, block_hasher> route_blocks_;
    std::unordered_map<std::uint64_t, std::deque<time_point>> channel_edits_;
    time_point ban_until_{};
    time_point next_eviction_{};
    time_point global_timer_{};
    time_point reservation_timer_{};
    /// The longest bucket window any response told of (see `remaining_chain`).
    duration longest_window_{};
};

} // namespace discord_ratelimit

#endif
