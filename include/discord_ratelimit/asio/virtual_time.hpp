// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_ASIO_VIRTUAL_TIME_HPP
#define DISCORD_RATELIMIT_ASIO_VIRTUAL_TIME_HPP

/// @file
/// Virtual time for Asio: timers on a `basic_manual_clock` never wait in real time, and
/// `run_virtual` runs an `io_context` by moving the clock from one timer's expiry to the next, so
/// hours of timers take milliseconds.
///
/// How it hooks into Asio (Boost 1.81, epoll with timerfd, the Linux default): the reactor asks
/// each timer queue how long to wait for its earliest timer by calling
/// `WaitTraits::to_wait_duration(expiry - Clock::now())`, the duration form (`timer_queue`'s
/// `wait_duration_usec` via `chrono_time_traits::to_posix_duration`). It does so whenever a timer
/// becomes the earliest of its queue and after every reactor pass that checked the timers, for
/// every non-empty queue. `virtual_wait_traits` records `now + d` there, the earliest expiry of
/// that clock's queue, and answers zero. Zero never disarms the timerfd: the reactor turns a zero
/// wait into an absolute expiry of 1 ns (an all-zero `it_value` would disarm it), already past,
/// so the kernel reports it right away and the reactor compares expiries against `Clock::now()`,
/// the virtual time. Asio 1.81 never calls the time-point form; it records and answers the same
/// way for callers that do.

#include <discord_ratelimit/clock.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/wait_traits.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>

namespace discord_ratelimit {

namespace detail {

/// The earliest expiry Asio's reactor reported for timers of `Clock` since the last `forget()`.
/// One record per clock type, shared by every `io_context`: `run_virtual` forgets, makes the
/// reactor report, and reads, all on its own thread.
template <clock Clock>
requires std::integral<typename Clock::rep>
class reported_expiry {
public:
    using rep = typename Clock::rep;
    using time_point = typename Clock::time_point;

    static void record(time_point expiry) noexcept
    {
        const rep ticks = expiry.time_since_epoch().count();
        rep current = earliest().load(std::memory_order_acquire);
        while (ticks < current &&
               !earliest().compare_exchange_weak(current, ticks, std::memory_order_acq_rel)) {
        }
    }

    static void forget() noexcept { earliest().store(none, std::memory_order_release); }

    /// The earliest expiry recorded since `forget()`; none if no timer of `Clock` was reported, or
    /// only timers at `time_point::max()`, which never expire.
    static std::optional<time_point> get() noexcept
    {
        const rep ticks = earliest().load(std::memory_order_acquire);
        if (ticks == none)
            return std::nullopt;
        return time_point{typename Clock::duration{ticks}};
    }

private:
    static constexpr rep none = std::numeric_limits<rep>::max();

    static std::atomic<rep>& earliest() noexcept
    {
        static std::atomic<rep> value{none};
        return value;
    }
};

/// `t + d`, clamped to the time point's range instead of overflowing.
template <class TimePoint>
TimePoint saturating_add(TimePoint t, typename TimePoint::duration d) noexcept
{
    if (d > TimePoint::duration::zero() && t > (TimePoint::max)() - d)
        return (TimePoint::max)();
    if (d < TimePoint::duration::zero() && t < (TimePoint::min)() - d)
        return (TimePoint::min)();
    return t + d;
}

} // namespace detail

/// Wait traits that make a `basic_waitable_timer` on a fake clock wait in virtual time.
///
/// Both `to_wait_duration` overloads record the expiry they are asked about (for the duration
/// form, `Clock::now() + d`) in a record per `Clock` that `run_virtual` reads, and return a
/// real-time wait of zero, so the reactor never blocks in real time for a virtual timer. The timer
/// still expires only when `Clock::now()` reaches its expiry, which `run_virtual` (or whoever owns
/// the clock) arranges.
///
/// A context *blocked* in `run()` with a virtual timer pending therefore busy-waits in real time
/// until another thread advances the clock, as does a synchronous `timer.wait()`; `run_virtual`
/// does neither.
///
/// @par Thread Safety
/// All functions are safe to call concurrently: the record is one atomic per `Clock`.
template <class Clock>
struct virtual_wait_traits {
    static_assert(clock<Clock> && std::integral<typename Clock::rep>,
                  "virtual_wait_traits needs a clock with an integral tick count");

    /// Called by Asio's reactor with `expiry - Clock::now()` for the earliest timer of a queue.
    static typename Clock::duration to_wait_duration(const typename Clock::duration& d) noexcept
    {
        detail::reported_expiry<Clock>::record(detail::saturating_add(Clock::now(), d));
        return Clock::duration::zero();
    }

    /// The same for an absolute expiry; Asio 1.81 itself does not call this form.
    static typename Clock::duration to_wait_duration(const typename Clock::time_point& t) noexcept
    {
        detail::reported_expiry<Clock>::record(t);
        return Clock::duration::zero();
    }
};

/// The wait traits the library's timers use for `Clock`: Asio's defaults for real clocks,
/// `virtual_wait_traits` for every `basic_manual_clock`.
template <class Clock>
struct wait_traits_for {
    using type = boost::asio::wait_traits<Clock>;
};

template <class Tag>
struct wait_traits_for<basic_manual_clock<Tag>> {
    using type = virtual_wait_traits<basic_manual_clock<Tag>>;
};

/// The timer type the library declares for `Clock`: `boost::asio::steady_timer` for
/// `std::chrono::steady_clock`, a virtual-time timer for a `basic_manual_clock`.
template <class Clock, class Executor = boost::asio::any_io_executor>
using waitable_timer_for =
    boost::asio::basic_waitable_timer<Clock, typename wait_traits_for<Clock>::type, Executor>;

namespace detail {

/// Whether the reactor behaves as `run_virtual` relies on: it reports the earliest timer of every
/// queue whenever a timer becomes the earliest of its queue (epoll with timerfd does; the
/// kqueue, select and io_uring back ends report only when blocking).
template <class>
inline constexpr bool virtual_time_supported =
#if defined(BOOST_ASIO_HAS_EPOLL) && defined(BOOST_ASIO_HAS_TIMERFD) &&                            \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    true;
#else
    false;
#endif

/// Wait traits of `run_virtual`'s probe timer alone, so that it has a timer queue of its own.
struct expiry_probe_wait_traits : boost::asio::wait_traits<std::chrono::steady_clock> {};

/// Learns the earliest pending timer of `Clock` in one `io_context`, fresh, and runs handlers
/// without counting the probe's own.
///
/// Asio reports a queue's earliest timer when a timer is armed as the earliest of its queue, but
/// not when one is cancelled, so an old report may name a timer that is gone. Arming a timer in a
/// queue of its own makes the reactor report every queue at once, synchronously, inside
/// `async_wait`; the probe is cancelled right away and its completion is discounted.
template <class Clock>
class expiry_probe {
public:
    using time_point = typename Clock::time_point;

    explicit expiry_probe(boost::asio::io_context& ctx)
        : ctx_{ctx}
        , timer_{ctx}
    {
    }

    /// The earliest expiry among the pending timers of `Clock` in the context, or none.
    std::optional<time_point> earliest_pending()
    {
        reported_expiry<Clock>::forget();
        timer_.expires_at((std::chrono::steady_clock::time_point::max)());
        // The completion may outlive run_virtual if a handler stops the context: own the count.
        timer_.async_wait([count = completions_](const boost::system::error_code&) { ++*count; });
        timer_.cancel();
        return reported_expiry<Clock>::get();
    }

    std::size_t poll()
    {
        return discounted([this] { return ctx_.poll(); });
    }
    std::size_t run_one()
    {
        return discounted([this] { return ctx_.run_one(); });
    }

private:
    template <class Run>
    std::size_t discounted(Run run)
    {
        const std::size_t before = *completions_;
        const std::size_t ran = run();
        return ran - (*completions_ - before);
    }

    boost::asio::io_context& ctx_;
    boost::asio::basic_waitable_timer<std::chrono::steady_clock, expiry_probe_wait_traits,
                                      boost::asio::io_context::executor_type>
        timer_;
    std::shared_ptr<std::size_t> completions_ = std::make_shared<std::size_t>(0);
};

} // namespace detail

/// Runs `ctx` in virtual time until it is idle, and returns the number of handlers run (as
/// `io_context::run` counts them: a strand's batch of handlers counts once).
///
/// It polls every ready handler; when none is ready but a timer of `basic_manual_clock<Tag>`
/// (declared with `waitable_timer_for`) is pending, it advances the clock to the earliest pending
/// expiry, never past `until`, and polls again. Timers that expire together run at their common
/// expiry, so every timer's handler sees `now()` equal to its expiry. Handlers may post work, arm,
/// re-arm and cancel timers; the earliest pending expiry is asked of the reactor afresh each time,
/// so a cancelled timer never moves the clock.
///
/// *Idle* means: no handler is ready, and no timer of this clock is pending at or before `until`.
/// Other outstanding work (sockets, real-clock timers, work guards, timers of other fake clocks)
/// does not keep it running and is not waited for. On an idle return with a finite `until`, the
/// clock is left at `until` (or later, if it already was), whether a timer is pending past it or
/// none is; with the default `until` the clock stays at the last expiry reached. If a handler
/// calls `ctx.stop()`, it returns right away, leaving the context stopped and the clock where it
/// is. A stopped context is restarted on entry. A periodic timer with the default `until` makes
/// it run forever, as it would make `run()`.
///
/// It never sleeps or spins while virtual timers wait. Once the clock has reached a timer's
/// expiry, it may block in the reactor for the few microseconds the kernel takes to report the
/// already-expired timerfd that tells the reactor to look at its timers.
///
/// @par Thread Safety
/// For one thread, which runs `ctx`: no other thread may run, poll or stop `ctx` meanwhile,
/// advance the clock, or arm or cancel its timers, and no other `io_context` may have timers of
/// the same clock pending, since the clock's record of expiries is shared (give each simulation
/// its own `Tag`). Other threads may post to `ctx`; work that becomes ready after it decided it is
/// idle is left for the next call. Distinct contexts on distinct clocks: safe.
///
/// @par Exceptions
/// An exception thrown by a handler propagates out, as from `io_context::poll`; calling it again
/// carries on.
///
/// @note Relies on Asio's epoll reactor with timerfd (the default on Linux); it does not compile
/// for the other back ends, whose reactors do not report timers when polled.
template <class Tag, class Duration>
std::size_t run_virtual(boost::asio::io_context& ctx,
                        std::chrono::time_point<basic_manual_clock<Tag>, Duration> until_time)
{
    const auto until = std::chrono::time_point_cast<typename basic_manual_clock<Tag>::duration>(until_time);
    static_assert(detail::virtual_time_supported<Tag>,
                  "run_virtual needs Asio's epoll reactor with timerfd");
    using clock_type = basic_manual_clock<Tag>;

    // With work held the context never stops itself for lack of work, so stopped() means stop().
    const auto work = boost::asio::make_work_guard(ctx);
    if (ctx.stopped())
        ctx.restart();
    detail::expiry_probe<clock_type> probe{ctx};

    std::size_t handlers = probe.poll();
    if (ctx.stopped())
        return handlers;
    // Here nothing is ready: every handler that was has run.
    for (;;) {
        const auto next = probe.earliest_pending();
        const bool due = next && *next <= until;
        if (due)
            clock_type::advance_to(*next);

        // Runs the probe's completion, the due timers if the reactor saw them already, and
        // anything else that became ready; what ran may have armed or cancelled timers, so after
        // anything ran, ask again.
        const std::size_t ran = probe.poll();
        handlers += ran;
        if (ctx.stopped())
            return handlers;
        if (ran != 0)
            continue;

        if (!due) {
            if (until != (clock_type::time_point::max)())
                clock_type::advance_to(until);
            return handlers;
        }
        // A timer is due but the reactor has not looked yet: it will as soon as the timerfd,
        // armed in the past, is reported, which a blocking run_one() waits for.
        handlers += probe.run_one();
        if (ctx.stopped())
            return handlers;
        handlers += probe.poll();
        if (ctx.stopped())
            return handlers;
    }
}

/// `run_virtual(ctx, Clock::time_point::max())`: runs until idle, however far the clock must go.
/// Name the clock: `run_virtual<my_clock>(ctx)`.
template <class Clock>
    requires requires { &Clock::advance_to; } && clock<Clock>
std::size_t run_virtual(boost::asio::io_context& ctx)
{
    return run_virtual(ctx, (Clock::time_point::max)());
}

} // namespace discord_ratelimit

#endif
