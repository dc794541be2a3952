// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BLOCKING_LIMITER_HPP
#define DISCORD_RATELIMIT_BLOCKING_LIMITER_HPP

/// @file
/// `blocking_limiter`: the engine behind one mutex, for synchronous HTTP stacks (libcurl's easy
/// interface, cpr) where every request runs on a thread that may simply block until it may go.

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/error.hpp>
#include <discord_ratelimit/headers.hpp>
#include <discord_ratelimit/observer.hpp>
#include <discord_ratelimit/response.hpp>
#include <discord_ratelimit/route.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace discord_ratelimit {

/// Whether a thread blocked on `Clock` may wait for its time points in real time (a condition
/// variable's `wait_until`). False for `basic_manual_clock`, which moves only when told to: there a
/// blocked thread waits for an event or for `notify_time_changed()`. Specialize it as `false` for a
/// fake clock of your own.
template <class Clock>
inline constexpr bool waits_in_real_time = true;

template <class Tag>
inline constexpr bool waits_in_real_time<basic_manual_clock<Tag>> = false;

/// The engine for threads that block: `acquire` returns when the request may be sent (or has
/// failed), never with `acquire_status::waiting`.
///
/// Use, on any thread: `r = acquire(route)`; if `r.granted()`, send the request, then
/// `c = complete(r.ticket, status, headers, body)` (or `complete(r.ticket, transport_error::...)`);
/// while `c.status == completion_status::retry`, `r = acquire(r.ticket)` and send again.
///
/// Waiting: a blocked thread waits on one condition variable and asks the engine again whenever
/// something happened (a `complete`, a `cancel`, `shutdown`, `notify_time_changed`) and, with a
/// real-time clock, when its retry time or its deadline comes. With `basic_manual_clock` it never
/// waits in real time: move the clock, then call `notify_time_changed()`. Per bucket, threads are
/// released in the order they asked (the engine's FIFO).
///
/// @par Cancellation
/// - `cancel(ticket)` from another thread ends the ticket; a thread blocked on it returns a failed
///   result with `std::errc::operation_canceled`. A ticket cancelled while no thread blocks on it
///   is gone: a later `acquire(ticket)` fails with `error::unknown_permit`, as any ended ticket.
/// - A `std::stop_token` passed to `acquire` does the same for its call: once stop is requested,
///   the waiting call cancels its ticket and fails with `std::errc::operation_canceled`. It is the
///   only way to end a blocked `acquire(route)` from outside, since its ticket is not known yet.
/// - `shutdown()` and the destructor end every blocked `acquire` with `error::shut_down`; its
///   ticket is cancelled, even if the engine granted it meanwhile. Later `acquire` calls fail with
///   it at once. `complete`, `cancel` and `stats` keep working, so that requests in flight are
///   still accounted for; a `retry` they report then fails at `acquire(ticket)`.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; every member may be called from many threads at
/// once. The engine's observer is called with the internal lock held: it must not call back into
/// the limiter (nor request a stop of a token passed to it).
///
/// @par Lifetime
/// Do not destroy the limiter while other threads may still call it: call `shutdown()`, join the
/// threads that use it, then destroy it. The destructor shuts down as well and does not return
/// while a thread is still inside a member, but a call that starts during or after destruction is
/// undefined behaviour.
template <clock Clock = std::chrono::steady_clock, class Store = memory_store<Clock>>
class blocking_limiter {
public:
    using clock_type = Clock;
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;
    using engine_type = engine<Clock, Store>;
    using config_type = engine_config<Clock>;
    using options_type = request_options<Clock>;
    using acquire_result_type = acquire_result<Clock>;
    using completion_type = completion<Clock>;

    explicit blocking_limiter(config_type config = {})
        : engine_{std::move(config)}
    {
    }

    blocking_limiter(const blocking_limiter&) = delete;
    blocking_limiter& operator=(const blocking_limiter&) = delete;

    /// Shuts down (every blocked thread returns `error::shut_down`) and waits until no thread is
    /// inside a member any more.
    ~blocking_limiter()
    {
        std::unique_lock lock{mutex_};
        shut_down_ = true;
        announce();
        idle_.wait(lock, [this] { return inside_ == 0; });
    }

    /// Blocks the calling thread until the request on `r` may go (a granted result: send it now)
    /// or fails (a failed result with the error); never returns `acquire_status::waiting`.
    /// `options` are the engine's (maximum wait, deadline); a stop request on `stop` cancels the
    /// wait (`std::errc::operation_canceled`) but not a grant already returned.
    acquire_result_type acquire(const route& r, const options_type& options = {},
                                std::stop_token stop = {})
    {
        waiter w;
        stoppable_call call{*this, std::move(stop), w};
        if (shut_down_)
            return failure(0, error::shut_down);
        if (w.cancelled)
            return failure(0, std::errc::operation_canceled);
        const time_point now = Clock::now();
        auto result = engine_.acquire(r, now, options);
        if (result.status == acquire_status::failed)
            return result;
        return block(call.lock, w, std::move(result));
    }

    /// After `complete` said `retry`: blocks until the same ticket is granted again (send it again)
    /// or fails. A ticket that was granted and not completed is returned granted at once. While
    /// another thread blocks on the same ticket, fails at once with `error::already_waiting` and
    /// leaves that thread's wait alone.
    acquire_result_type acquire(ticket_id ticket, std::stop_token stop = {})
    {
        waiter w;
        stoppable_call call{*this, std::move(stop), w};
        if (shut_down_)
            return abandon(ticket, error::shut_down);
        if (w.cancelled)
            return abandon(ticket, std::errc::operation_canceled);
        if (std::any_of(blocked_.begin(), blocked_.end(),
                        [&](const waiter* other) { return other->ticket == ticket; }))
            return failure(ticket, error::already_waiting); // both would be granted, and send
        return block(call.lock, w, engine_.acquire(ticket, Clock::now()));
    }

    /// Reports the response to a granted ticket's attempt: `done`, `retry` (call
    /// `acquire(ticket)`) or `failed`. Wakes every blocked thread to ask again.
    template <header_source Headers>
    completion_type complete(ticket_id ticket, int status, const Headers& headers,
                             std::string_view body)
    {
        const call_scope call{*this};
        return completed(engine_.complete(ticket, status, headers, body, Clock::now()));
    }

    /// Reports a transport failure of a granted ticket's attempt (see `engine::complete`).
    completion_type complete(ticket_id ticket, transport_error failure)
    {
        const call_scope call{*this};
        return completed(engine_.complete(ticket, failure, Clock::now()));
    }

    /// Ends a ticket that will not be sent (see `engine::cancel`); a thread blocked on it returns
    /// `std::errc::operation_canceled`. Returns `error::unknown_permit` for a ticket already ended.
    std::error_code cancel(ticket_id ticket)
    {
        const call_scope call{*this};
        const std::error_code result = engine_.cancel(ticket, Clock::now());
        for (waiter* w : blocked_)
            if (w->ticket == ticket)
                w->cancelled = true;
        announce();
        return result;
    }

    /// For fake clocks: the clock moved; every blocked thread asks the engine again.
    void notify_time_changed()
    {
        const call_scope call{*this};
        announce();
    }

    /// Ends every blocked `acquire` with `error::shut_down`; later `acquire` calls fail with it at
    /// once. Idempotent.
    void shutdown()
    {
        const call_scope call{*this};
        shut_down_ = true;
        announce();
    }

    /// The engine's counters (see `engine::stats`).
    engine_stats stats()
    {
        const call_scope call{*this};
        return engine_.stats(Clock::now());
    }

    /// How many threads are blocked in `acquire` and have asked the engine since the last event:
    /// a thread woken by an event counts again once it looked and went back to waiting. When it
    /// equals the number of threads that can block, nothing happens until an event or the clock
    /// moves: tests that drive a fake clock wait for that before they move it.
    std::size_t waiting_threads()
    {
        const call_scope call{*this};
        return static_cast<std::size_t>(
            std::count_if(blocked_.begin(), blocked_.end(),
                          [this](const waiter* w) { return w->seen == events_; }));
    }

private:
    /// One blocked call, on its thread's stack.
    struct waiter {
        ticket_id ticket = 0;
        std::uint64_t seen = 0; ///< `events_` when it last asked the engine; guarded by `mutex_`
        bool cancelled = false; ///< by `cancel(ticket)` or a stop request; guarded by `mutex_`
    };

    /// Holds the lock for a member call and counts it, so that the destructor can wait for it.
    struct call_scope {
        explicit call_scope(blocking_limiter& l)
            : self{l}
            , lock{l.mutex_}
        {
            ++self.inside_;
        }
        call_scope(const call_scope&) = delete;
        call_scope& operator=(const call_scope&) = delete;
        ~call_scope()
        {
            if (--self.inside_ == 0 && self.shut_down_)
                self.idle_.notify_all(); // still under the lock: the destructor cannot pass yet
        }

        blocking_limiter& self;
        std::unique_lock<std::mutex> lock;
    };

    /// A stop request marks the waiter and wakes it, under the lock like every other event. Its
    /// registration is made before a call takes the lock and ends after the call released it: the
    /// callback may run at once in the registering thread, or concurrently with its unregistering.
    struct stop_request {
        blocking_limiter* self;
        waiter* w;
        void operator()() const
        {
            const std::lock_guard lock{self->mutex_};
            w->cancelled = true;
            self->announce();
        }
    };

    /// A call that blocks, with its stop callback: registered before the lock is taken (it may run at
    /// once, in this thread) and unregistered before the call counts as left, so that no callback
    /// can touch a limiter whose destructor saw no call inside.
    struct stoppable_call {
        stoppable_call(blocking_limiter& l, std::stop_token stop, waiter& w)
            : self{l}
        {
            on_stop.emplace(std::move(stop), stop_request{&l, &w});
            lock = std::unique_lock{l.mutex_};
            ++self.inside_;
        }
        stoppable_call(const stoppable_call&) = delete;
        stoppable_call& operator=(const stoppable_call&) = delete;
        ~stoppable_call()
        {
            lock.unlock();
            on_stop.reset(); // waits for a callback running on another thread
            lock.lock();
            if (--self.inside_ == 0 && self.shut_down_)
                self.idle_.notify_all();
        }

        blocking_limiter& self;
        std::optional<std::stop_callback<stop_request>> on_stop;
        std::unique_lock<std::mutex> lock;
    };

    /// Keeps a waiter in `blocked_` while it blocks.
    struct registration {
        registration(blocking_limiter& l, waiter& w)
            : self{l}
            , entry{&w}
        {
            self.blocked_.push_back(entry);
        }
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;
        ~registration()
        {
            auto& all = self.blocked_;
            all.erase(std::find(all.begin(), all.end(), entry));
        }

        blocking_limiter& self;
        waiter* entry;
    };

    /// Waits, with the lock held between each answer of the engine and the next wait, until the
    /// ticket is granted or fails, is cancelled, or the limiter shuts down.
    acquire_result_type block(std::unique_lock<std::mutex>& lock, waiter& w,
                              acquire_result_type result)
    {
        if (result.status != acquire_status::waiting)
            return result;
        w.ticket = result.ticket;
        const registration registered{*this, w};
        for (;;) {
            // Every event changes `events_` under the lock; it cannot slip in between the engine's
            // answer above and this wait, which releases the lock atomically.
            w.seen = events_;
            const auto happened = [&] {
                return events_ != w.seen || w.cancelled || shut_down_;
            };
            if constexpr (waits_in_real_time<Clock>) {
                // The engine's retry time includes the request's deadline: it fails then.
                if (result.retry_at)
                    changed_.wait_until(lock, *result.retry_at, happened);
                else
                    changed_.wait(lock, happened);
            } else {
                changed_.wait(lock, happened);
            }
            if (w.cancelled)
                return abandon(result.ticket, std::errc::operation_canceled);
            if (shut_down_)
                return abandon(result.ticket, error::shut_down);
            result = engine_.acquire(result.ticket, Clock::now());
            if (result.status != acquire_status::waiting)
                return result;
        }
    }

    completion_type completed(completion_type c)
    {
        announce();
        return c;
    }

    /// Ends a ticket the caller gives up on; what it held goes back to the others.
    template <class Error>
    acquire_result_type abandon(ticket_id ticket, Error why)
    {
        engine_.cancel(ticket, Clock::now()); // error::unknown_permit if `cancel` ended it already
        announce();
        return failure(ticket, why);
    }

    template <class Error>
    static acquire_result_type failure(ticket_id ticket, Error why)
    {
        acquire_result_type result;
        result.status = acquire_status::failed;
        result.ticket = ticket;
        result.error = make_error_code(why);
        return result;
    }

    /// Something changed that may let a blocked thread go: each one asks the engine again.
    /// Called with the lock held.
    void announce()
    {
        ++events_;
        changed_.notify_all();
    }

    std::mutex mutex_;
    std::condition_variable changed_; ///< blocked threads wait here for events
    std::condition_variable idle_;    ///< the destructor waits here for `inside_ == 0`
    engine_type engine_;
    std::vector<waiter*> blocked_;
    std::uint64_t events_ = 0;
    std::size_t inside_ = 0;
    bool shut_down_ = false;
};

} // namespace discord_ratelimit

#endif
