// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ASIO_RATE_LIMITER_HPP
#define DISCORD_RATELIMIT_ASIO_RATE_LIMITER_HPP

/// @file
/// The Asio layer: one `rate_limiter` per bot token, on an executor, that hands out permission to
/// send with any completion token (callbacks, `use_future`, `use_awaitable`, `deferred`,
/// `as_tuple`). It is a thin shell around `engine`: the engine decides, this turns "wait until T"
/// into one timer.

#include <discord_ratelimit/asio/virtual_time.hpp>
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace discord_ratelimit {

/// Permission to send one request: hand it back to `complete` (or `cancel` if it was not sent).
struct permit {
    ticket_id ticket = 0;
    friend bool operator==(const permit&, const permit&) = default;
};

/// Rate-limits one bot token's requests on an Asio executor.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe. Every member may be called from any thread; the
/// engine runs under one mutex, and completion handlers are never invoked while it is held: each
/// one is posted to its associated executor (the limiter's executor by default).
///
/// The engine's observer (`engine_config::observer`) is called with that mutex held: it must not
/// call back into the limiter.
///
/// @par Lifetime
/// Destroying the limiter (or calling `shutdown`) completes every pending operation with
/// `error::shut_down`. Destroy it before its execution context.
template <clock Clock = std::chrono::steady_clock, class Executor = boost::asio::any_io_executor>
class basic_rate_limiter {
public:
    using clock_type = Clock;
    using executor_type = Executor;
    using time_point = typename Clock::time_point;
    using engine_type = engine<Clock>;
    using options_type = request_options<Clock>;
    /// The completion signature of `async_acquire`.
    using acquire_signature = void(boost::system::error_code, permit);

    explicit basic_rate_limiter(const executor_type& ex, engine_config<Clock> config = {})
        : state_{std::make_shared<state>(ex, std::move(config))}
    {
    }

    basic_rate_limiter(const basic_rate_limiter&) = delete;
    basic_rate_limiter& operator=(const basic_rate_limiter&) = delete;

    ~basic_rate_limiter() { shutdown(); }

    executor_type get_executor() const noexcept { return state_->executor; }

    /// Waits until a request on `r` may be sent.
    ///
    /// @par Completion Signature
    /// `void(boost::system::error_code ec, permit p)`: on success send the request, then call
    /// `complete(p, ...)`; or, if it will not be sent after all, `cancel(p)`. On failure `ec` is an
    /// `error` (`rate_limited` when the known wait exceeds `options.max_wait`, `deadline_exceeded`,
    /// `banned`, `invalid_request_limit`, `shut_down`) or `boost::asio::error::operation_aborted`.
    ///
    /// @par Per-Operation Cancellation
    /// Terminal, partial and total cancellation: a waiting acquisition completes with
    /// `operation_aborted` at once and leaves its queue, so the next waiter moves up. An
    /// acquisition that was already granted is not affected (cancel the permit instead).
    template <class CompletionToken>
    auto async_acquire(const route& r, const options_type& options, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, acquire_signature>(
            [](auto handler, std::shared_ptr<state> s, route rt, options_type opt) {
                s->start(std::move(handler),
                         [&](engine_type& e, time_point now) { return e.acquire(rt, now, opt); });
            },
            token, state_, r, options);
    }

    /// `async_acquire(r, {}, token)`.
    template <class CompletionToken>
    auto async_acquire(const route& r, CompletionToken&& token)
    {
        return async_acquire(r, options_type{}, std::forward<CompletionToken>(token));
    }

    /// Waits until a permit whose completion said `retry` may be sent again (same completion
    /// signature and cancellation as above; a cancelled retry ends the request). Once per retry:
    /// a second acquisition of the same retry, while the first waits or after it was granted,
    /// completes with `error::already_waiting` (the first is not affected).
    ///
    /// A retry must end: acquire it, or `cancel` it. An acquisition that is never started (a
    /// `deferred` operation or an awaitable destroyed unused) gives the retry up as `cancel` does.
    template <class CompletionToken>
    auto async_acquire(const permit& retrying, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, acquire_signature>(
            [](auto handler, retry_claim claim) {
                const ticket_id ticket = claim.ticket();
                const std::shared_ptr<state> s = std::move(claim).start();
                s->start(std::move(handler), [&](engine_type& e, time_point now) {
                    return s->claim_retry(e, ticket, now);
                });
            },
            token, retry_claim{state_, retrying.ticket, state_->retry_round(retrying.ticket)});
    }

    /// Reports the response to a permit's request: done, retry (acquire the same permit again),
    /// or failed. Parses the headers (any `header_source`) and the body.
    template <header_source Headers>
    completion<Clock> complete(const permit& p, int status, const Headers& headers,
                               std::string_view body)
    {
        return state_->update([&](engine_type& e, time_point now) {
            return state_->completed(p.ticket, e.complete(p.ticket, status, headers, body, now));
        });
    }

    /// Reports that a permit's request failed in transport.
    completion<Clock> complete(const permit& p, transport_error failure)
    {
        return state_->update([&](engine_type& e, time_point now) {
            return state_->completed(p.ticket, e.complete(p.ticket, failure, now));
        });
    }

    /// Gives back a permit whose request was never sent, or a retry that will not be acquired (even
    /// one the engine failed meanwhile). An acquisition waiting for it completes with
    /// `operation_aborted`. Returns `error::unknown_permit` for a permit already ended.
    std::error_code cancel(const permit& p) { return state_->cancel_permit(p.ticket); }

    /// Completes every pending acquisition with `error::shut_down`; later ones fail at once.
    void shutdown() { state_->shutdown(); }

    /// The engine's counters.
    engine_stats stats()
    {
        return state_->update([](engine_type& e, time_point now) { return e.stats(now); });
    }

    /// How many tickets the limiter itself keeps an entry for: acquisitions waiting for a grant,
    /// and retries whose acquisition has not started. Zero once every request has ended, as the
    /// engine's `stats().live_tickets`: a check for leaks.
    std::size_t tracked_tickets()
    {
        const std::lock_guard lock{state_->mutex};
        return state_->waiters.size() + state_->retries.size();
    }

private:
    using timer_type = waitable_timer_for<Clock, Executor>;

    /// A pending acquisition, type-erased: its handler, work on the executor it completes on, and
    /// its cancellation slot.
    struct waiter {
        virtual ~waiter() = default;
        /// Posts the completion to the handler's executor; never invokes it inline.
        virtual void deliver(boost::system::error_code ec, permit p) = 0;
        boost::asio::cancellation_slot slot;
    };

    template <class Handler>
    struct waiter_for final : waiter {
        waiter_for(Handler&& h, const executor_type& fallback)
            : handler{std::move(h)}
            , work{boost::asio::get_associated_executor(handler, fallback)}
        {
        }

        void deliver(boost::system::error_code ec, permit p) override
        {
            auto ex = work.get_executor();
            boost::asio::post(ex, [h = std::move(handler), slot = this->slot, ec, p]() mutable {
                if (slot.is_connected())
                    slot.clear();
                std::move(h)(ec, p);
            });
            work.reset();
        }

        Handler handler;
        boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler, executor_type>>
            work;
    };

    /// A result to deliver once the mutex is released.
    struct delivery {
        std::unique_ptr<waiter> w;
        boost::system::error_code ec;
        permit p;
    };

    struct state : std::enable_shared_from_this<state> {
        state(const executor_type& ex, engine_config<Clock> config)
            : executor{ex}
            , eng{std::move(config)}
            , timer{ex}
        {
        }

        template <class Handler, class Decide>
        void start(Handler handler, Decide&& decide)
        {
            auto slot = boost::asio::get_associated_cancellation_slot(handler);
            std::unique_ptr<waiter> w =
                std::make_unique<waiter_for<Handler>>(std::move(handler), executor);
            w->slot = slot;
            std::vector<delivery> out;
            {
                std::lock_guard lock{mutex};
                if (shut) {
                    out.push_back({std::move(w), make_error_code(error::shut_down), {}});
                } else {
                    const auto r = decide(eng, Clock::now());
                    if (r.status == acquire_status::waiting) {
                        if (w->slot.is_connected())
                            w->slot.template emplace<cancel_waiter>(this->weak_from_this(),
                                                                    r.ticket);
                        waiters.emplace(r.ticket, std::move(w));
                    } else {
                        out.push_back({std::move(w), result_code(r), permit{r.ticket}});
                    }
                    collect(out);
                }
            }
            deliver(out);
        }

        template <class Operation>
        auto update(Operation&& op)
        {
            std::vector<delivery> out;
            auto result = [&] {
                std::lock_guard lock{mutex};
                auto r = op(eng, Clock::now());
                collect(out);
                return r;
            }();
            deliver(out);
            return result;
        }

        /// Under the mutex: `c` is the engine's answer to `complete(ticket)`. A retry is recorded
        /// until its acquisition starts (`claim_retry`) or it is cancelled; after `shutdown`, when
        /// its acquisition can only fail, it ends at once.
        completion<Clock> completed(ticket_id ticket, completion<Clock> c)
        {
            if (c.status == completion_status::retry) {
                if (shut)
                    eng.cancel(ticket, Clock::now());
                else
                    retries.try_emplace(ticket, retry_entry{++rounds, std::nullopt, false});
            }
            return c;
        }

        /// Under the mutex: what an acquisition of the retry `ticket` gets. Only the first one
        /// since `complete` said retry asks the engine; any other gets `already_waiting`.
        acquire_result<Clock> claim_retry(engine_type& e, ticket_id ticket, time_point now)
        {
            if (waiters.contains(ticket))
                return refusal(ticket, error::already_waiting);
            const auto it = retries.find(ticket);
            if (it == retries.end()) {
                // Acquired before (granted, or ended), or never a retry: only the engine knows.
                const auto r = e.acquire(ticket, now);
                return r.status == acquire_status::failed ? r
                                                          : refusal(ticket, error::already_waiting);
            }
            // A retry the engine failed before anyone asked for it: report that failure.
            const auto failed = std::move(it->second.failed);
            const bool granted_meanwhile = it->second.granted_meanwhile;
            retries.erase(it);
            if (failed)
                return *failed;
            // Granted before anyone asked: decided anew now, under what the engine learned since
            // (a global 429 or a ban must hold it, as they hold every grant not handed out).
            if (granted_meanwhile)
                (void)e.requeue(ticket, now);
            return e.acquire(ticket, now);
        }

        /// A retry whose acquisition was never started: ends it, unless an acquisition did start.
        void abandon_retry(ticket_id ticket, std::uint64_t round)
        {
            std::vector<delivery> out;
            {
                std::lock_guard lock{mutex};
                const auto it = retries.find(ticket);
                if (it == retries.end() || it->second.round != round)
                    return; // claimed, ended, or a later retry of the same permit: not this claim's
                const bool ended = it->second.failed.has_value(); // failed: the engine released it
                retries.erase(it);
                if (!ended)
                    eng.cancel(ticket, Clock::now());
                collect(out);
            }
            deliver(out);
        }

        /// `basic_rate_limiter::cancel`: ends the ticket wherever it is, and completes an
        /// acquisition that waits for it.
        std::error_code cancel_permit(ticket_id ticket)
        {
            std::vector<delivery> out;
            std::error_code result;
            {
                std::lock_guard lock{mutex};
                if (const auto it = waiters.find(ticket); it != waiters.end()) {
                    out.push_back({std::move(it->second), boost::asio::error::operation_aborted,
                                   permit{ticket}});
                    waiters.erase(it);
                }
                const auto retry = retries.find(ticket);
                const bool ended = retry != retries.end() && retry->second.failed.has_value();
                if (retry != retries.end())
                    retries.erase(retry);
                if (!ended) // a failed retry was released by the engine when it failed
                    result = eng.cancel(ticket, Clock::now());
                collect(out);
            }
            deliver(out);
            return result;
        }

        /// Cancels a waiting acquisition (its cancellation slot).
        void cancel(ticket_id ticket)
        {
            std::vector<delivery> out;
            {
                std::lock_guard lock{mutex};
                const auto it = waiters.find(ticket);
                if (it == waiters.end())
                    return; // completed already: nothing to cancel
                out.push_back(
                    {std::move(it->second), boost::asio::error::operation_aborted, permit{ticket}});
                waiters.erase(it);
                eng.cancel(ticket, Clock::now());
                collect(out);
            }
            deliver(out);
        }

        /// Ends every waiter and retry in one batch of the engine (`engine::cancel` of a span),
        /// which decides what they free once, at the end: O(waiters), however long their queues.
        void shutdown()
        {
            std::vector<delivery> out;
            {
                std::lock_guard lock{mutex};
                if (shut)
                    return;
                shut = true;
                std::vector<ticket_id> ended;
                ended.reserve(waiters.size() + retries.size());
                out.reserve(waiters.size());
                for (auto& [ticket, w] : waiters) {
                    ended.push_back(ticket);
                    out.push_back(
                        {std::move(w), make_error_code(error::shut_down), permit{ticket}});
                }
                waiters.clear();
                for (const auto& [ticket, entry] : retries)
                    if (!entry.failed)
                        ended.push_back(ticket);
                retries.clear();
                eng.cancel(std::span<const ticket_id>{ended}, Clock::now());
                timer.cancel();
                armed.reset();
            }
            deliver(out);
        }

        /// Under the mutex: results the engine produced since the last call, and the timer.
        void collect(std::vector<delivery>& out)
        {
            const auto now = Clock::now();
            eng.advance(now, [&](ticket_id ticket, const acquire_result<Clock>& r) {
                const auto it = waiters.find(ticket);
                if (it == waiters.end()) {
                    // A retry whose `async_acquire(permit)` has not started yet (cancelled and
                    // shut-down waiters left the engine with their waiter). A grant stays in the
                    // engine and is decided anew when the retry is claimed (`claim_retry`); a
                    // failure (the ticket is released now) is kept for it.
                    if (const auto retry = retries.find(ticket); retry != retries.end()) {
                        if (r.granted())
                            retry->second.granted_meanwhile = true;
                        else
                            retry->second.failed = r;
                    }
                    return;
                }
                out.push_back({std::move(it->second), result_code(r), permit{ticket}});
                waiters.erase(it);
            });
            arm(now);
        }

        /// Under the mutex: one timer, at the engine's next wake-up.
        void arm(time_point now)
        {
            if (shut)
                return;
            const auto next = eng.next_wakeup();
            if (!next || (armed && *armed <= *next && *armed > now))
                return;
            armed = *next;
            timer.expires_at(*next);
            timer.async_wait(
                [weak = this->weak_from_this(), at = *next](boost::system::error_code ec) {
                    if (ec)
                        return; // re-armed or shut down
                    if (auto s = weak.lock())
                        s->on_timer(at);
                });
        }

        void on_timer(time_point at)
        {
            std::vector<delivery> out;
            {
                std::lock_guard lock{mutex};
                if (armed && *armed == at)
                    armed.reset();
                collect(out);
            }
            deliver(out);
        }

        static acquire_result<Clock> refusal(ticket_id ticket, error why)
        {
            acquire_result<Clock> r;
            r.status = acquire_status::failed;
            r.ticket = ticket;
            r.error = make_error_code(why);
            return r;
        }

        static boost::system::error_code result_code(const acquire_result<Clock>& r)
        {
            return r.granted() ? boost::system::error_code{} : boost::system::error_code{r.error};
        }

        /// Outside the mutex: each handler completes on its own executor, never inline.
        static void deliver(std::vector<delivery>& out)
        {
            for (auto& d : out)
                d.w->deliver(d.ec, d.p);
            out.clear();
        }

        executor_type executor;
        std::mutex mutex;
        engine_type eng;
        timer_type timer;
        std::optional<time_point> armed;
        std::unordered_map<ticket_id, std::unique_ptr<waiter>> waiters;
        /// Retries (`complete` said retry) whose `async_acquire(permit)` has not started, with the
        /// engine's failure of one that failed meanwhile. Entered by `completed`; left by
        /// `claim_retry`, `abandon_retry`, `cancel_permit` or `shutdown`.
        struct retry_entry {
            std::uint64_t round; ///< which `complete` said retry: a stale claim ends no later one
            std::optional<acquire_result<Clock>> failed;
            bool granted_meanwhile = false; ///< the engine granted it before anyone asked
        };
        std::unordered_map<ticket_id, retry_entry> retries;
        std::uint64_t rounds = 0;

        std::uint64_t retry_round(ticket_id ticket)
        {
            const std::lock_guard lock{mutex};
            const auto it = retries.find(ticket);
            return it == retries.end() ? 0 : it->second.round;
        }
        bool shut = false;
    };

    /// The argument of a retry's acquisition until it starts: an operation destroyed unstarted (a
    /// `deferred` one dropped, an awaitable never awaited) gives the retry up, so that neither the
    /// engine nor the limiter keeps it.
    class retry_claim {
    public:
        retry_claim(std::shared_ptr<state> s, ticket_id t, std::uint64_t round) noexcept
            : state_{std::move(s)}
            , ticket_{t}
            , round_{round}
        {
        }
        retry_claim(retry_claim&& other) noexcept
            : state_{std::move(other.state_)}
            , ticket_{other.ticket_}
            , round_{other.round_}
        {
        }
        retry_claim& operator=(retry_claim&&) = delete;
        ~retry_claim()
        {
            if (state_)
                state_->abandon_retry(ticket_, round_);
        }

        ticket_id ticket() const noexcept { return ticket_; }

        /// The acquisition starts: the claim is used.
        std::shared_ptr<state> start() && noexcept { return std::move(state_); }

    private:
        std::shared_ptr<state> state_;
        ticket_id ticket_;
        std::uint64_t round_;
    };

    /// Installed in a waiting acquisition's cancellation slot.
    struct cancel_waiter {
        std::weak_ptr<state> weak;
        ticket_id ticket;

        cancel_waiter(std::weak_ptr<state> s, ticket_id t)
            : weak{std::move(s)}
            , ticket{t}
        {
        }

        void operator()(boost::asio::cancellation_type type) const
        {
            using boost::asio::cancellation_type;
            if ((type & (cancellation_type::terminal | cancellation_type::partial |
                         cancellation_type::total)) == cancellation_type::none)
                return;
            if (auto s = weak.lock())
                s->cancel(ticket);
        }
    };

    std::shared_ptr<state> state_;
};

/// The rate limiter on the real monotonic clock and any I/O executor.
using rate_limiter = basic_rate_limiter<>;

} // namespace discord_ratelimit

#endif
