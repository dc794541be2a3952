// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_TESTING_SIMULATION_HPP
#define DISCORD_RATELIMIT_TESTING_SIMULATION_HPP

/// @file
/// Runs a workload through an engine against the simulated Discord on virtual time: every request
/// is submitted at once, the engine alone decides order and timing, and the clock jumps from event
/// to event, so an hour of traffic takes milliseconds.

#include <discord_ratelimit/engine.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <vector>

namespace discord_ratelimit::detail {

/// Ticket to request index for `testing::simulate`: open addressing in a table sized once for
/// every request (at most half full), so a lookup is a probe or two and no entry is a heap node.
class ticket_requests {
public:
    explicit ticket_requests(std::size_t count)
        : slots_(std::bit_ceil(2 * count + 2))
        , shift_(64 - std::countr_zero(slots_.size()))
    {
    }

    void set(ticket_id ticket, std::size_t request) { slot(ticket) = {ticket, request + 1}; }

    /// Throws std::out_of_range for a ticket never set, as std::map::at does.
    std::size_t at(ticket_id ticket)
    {
        const entry& e = slot(ticket);
        if (e.request_plus_one == 0)
            throw std::out_of_range{"simulate: a ticket the engine did not issue"};
        return e.request_plus_one - 1;
    }

private:
    struct entry {
        ticket_id ticket = 0;
        std::size_t request_plus_one = 0; ///< 0: a free slot
    };

    entry& slot(ticket_id ticket)
    {
        // Fibonacci hashing: the top bits of a product depend on every bit of the id.
        auto i = static_cast<std::size_t>((ticket * 0x9E3779B97F4A7C15ULL) >> shift_);
        while (slots_[i].request_plus_one != 0 && slots_[i].ticket != ticket)
            i = (i + 1) & (slots_.size() - 1);
        return slots_[i];
    }

    std::vector<entry> slots_;
    int shift_;
};

/// Items taken in the order of their due time, those due at the same time in the order they were
/// pushed (as a std::multimap keyed by time would). Items that come due no earlier than the last
/// one pushed in order (all of them when the latency is fixed) go to a FIFO; the others to a heap.
template <class TimePoint, class Item>
class due_queue {
public:
    void push(TimePoint due, const Item& item)
    {
        const entry e{due, sequence_++, item};
        if (in_order_.empty() || due >= in_order_.back().due) {
            in_order_.push_back(e);
            return;
        }
        out_of_order_.push_back(e);
        std::push_heap(out_of_order_.begin(), out_of_order_.end(), later);
    }

    bool empty() const noexcept { return in_order_.empty() && out_of_order_.empty(); }
    std::size_t size() const noexcept { return in_order_.size() + out_of_order_.size(); }

    /// The due time of the next item; not empty.
    TimePoint next_due() const
    {
        return heap_first() ? out_of_order_.front().due : in_order_.front().due;
    }

    /// Takes the next item; not empty.
    Item pop()
    {
        if (heap_first()) {
            std::pop_heap(out_of_order_.begin(), out_of_order_.end(), later);
            const Item item = out_of_order_.back().item;
            out_of_order_.pop_back();
            return item;
        }
        const Item item = in_order_.front().item;
        in_order_.pop_front();
        return item;
    }

private:
    struct entry {
        TimePoint due;
        std::uint64_t sequence;
        Item item;
    };

    /// std::push_heap keeps the greatest first: the latest is the least.
    static bool later(const entry& a, const entry& b) noexcept
    {
        return a.due != b.due ? a.due > b.due : a.sequence > b.sequence;
    }

    bool heap_first() const noexcept
    {
        return !out_of_order_.empty() &&
               (in_order_.empty() || later(in_order_.front(), out_of_order_.front()));
    }

    std::deque<entry> in_order_;
    std::vector<entry> out_of_order_;
    std::uint64_t sequence_ = 0;
};

} // namespace discord_ratelimit::detail

namespace discord_ratelimit::testing {

/// What happened to a simulated workload.
template <clock Clock>
struct simulation_result {
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    /// Waits from submission to the first send, one per request sent at least once.
    std::vector<typename Clock::duration> waits;
    typename Clock::time_point started{};
    typename Clock::time_point last_response{};
    /// False when the engine had nothing left to wake up for while requests were still open.
    bool hung = false;
};

/// Submits `requests` at `start` and drives `engine` and `server` until every request ended.
/// Single-threaded: the engine and the server must not be used elsewhere meanwhile.
/// `latency(n)` is the round trip of the n-th transfer; half of it to reach the server, half back.
/// Any callable whose result converts to a duration (a lambda, a std::function...).
/// Requests and their ends are processed in time order; nothing sleeps.
template <clock Clock, class Store, std::invocable<std::size_t> Latency>
simulation_result<Clock> simulate(engine<Clock, Store>& eng, simulated_discord<Clock>& server,
                                  const std::vector<route>& requests,
                                  typename Clock::time_point start, Latency latency)
{
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;
    using reply_view = typename simulated_discord<Clock>::reply_view;
    // A request on its way to the server (arriving) or back (with its reply in `replies`).
    struct transfer {
        ticket_id ticket;
        std::size_t request;
        std::size_t reply_slot;
        bool arriving;
    };
    detail::due_queue<time_point, transfer> transit;
    // Replies on their way back, recycled so that their buffers are allocated once; a deque, for
    // a reply_view never moves.
    std::deque<reply_view> replies;
    std::vector<std::size_t> free_replies;
    detail::ticket_requests request_of{requests.size()};
    std::vector<bool> sent_once(requests.size(), false);
    std::size_t transfers = 0;
    simulation_result<Clock> result;
    result.waits.reserve(requests.size());
    result.started = start;
    time_point now = start;
    std::size_t idle_turns = 0;
    std::size_t ended_before = 0;
    std::size_t in_transit_before = 0;

    const auto half_trip = [&] {
        const duration round_trip = latency(transfers++);
        return round_trip / 2;
    };
    auto send = [&](ticket_id ticket) {
        const std::size_t request = request_of.at(ticket);
        if (!sent_once[request]) {
            sent_once[request] = true;
            result.waits.push_back(now - start);
        }
        transit.push(now + half_trip(), transfer{ticket, request, 0, true});
    };
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto r = eng.acquire(requests[i], now);
        if (r.status == acquire_status::failed) {
            ++result.failed;
            continue;
        }
        request_of.set(r.ticket, i);
        if (r.granted())
            send(r.ticket);
    }
    while (result.succeeded + result.failed < requests.size()) {
        while (!transit.empty() && transit.next_due() <= now) {
            const transfer item = transit.pop();
            if (item.arriving) {
                std::size_t slot = replies.size();
                if (free_replies.empty()) {
                    replies.emplace_back();
                } else {
                    slot = free_replies.back();
                    free_replies.pop_back();
                }
                server.handle_into(requests[item.request], now, replies[slot]);
                transit.push(now + half_trip(), transfer{item.ticket, item.request, slot, false});
                continue;
            }
            const reply_view& back = replies[item.reply_slot];
            const auto c = eng.complete(item.ticket, back.status, back.headers, back.body, now);
            free_replies.push_back(item.reply_slot);
            result.last_response = now;
            if (c.status == completion_status::done)
                ++result.succeeded;
            else if (c.status == completion_status::failed)
                ++result.failed;
        }
        eng.advance(now, [&](ticket_id id, const acquire_result<Clock>& r) {
            if (r.granted())
                send(id);
            else
                ++result.failed;
        });
        if (result.succeeded + result.failed == requests.size())
            break;
        std::optional<time_point> next = eng.next_wakeup();
        if (!transit.empty() && (!next || transit.next_due() < *next))
            next = transit.next_due();
        // Hung: nothing left to wake up for, or waking up at the same instant without progress.
        const std::size_t ended = result.succeeded + result.failed;
        idle_turns =
            (next && *next <= now && ended == ended_before && transit.size() == in_transit_before)
                ? idle_turns + 1
                : 0;
        ended_before = ended;
        in_transit_before = transit.size();
        if (!next || idle_turns > 1000) {
            result.hung = true;
            break;
        }
        now = std::max(now, *next);
    }
    return result;
}

} // namespace discord_ratelimit::testing

#endif
