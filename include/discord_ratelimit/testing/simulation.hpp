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
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

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
/// Requests and their ends are processed in time order; nothing sleeps.
template <clock Clock, class Store>
simulation_result<Clock>
simulate(engine<Clock, Store>& eng, simulated_discord<Clock>& server,
         const std::vector<route>& requests, typename Clock::time_point start,
         const std::function<typename Clock::duration(std::size_t)>& latency)
{
    using time_point = typename Clock::time_point;
    struct in_transit {
        bool arriving;
        ticket_id ticket;
        std::size_t request;
        typename simulated_discord<Clock>::reply reply;
    };
    std::multimap<time_point, in_transit> transit;
    std::map<ticket_id, std::size_t> request_of;
    std::vector<bool> sent_once(requests.size(), false);
    std::size_t transfers = 0;
    simulation_result<Clock> result;
    result.started = start;
    time_point now = start;
    std::size_t idle_turns = 0;
    std::size_t ended_before = 0;
    std::size_t in_transit_before = 0;

    auto send = [&](ticket_id ticket) {
        const std::size_t request = request_of.at(ticket);
        if (!sent_once[request]) {
            sent_once[request] = true;
            result.waits.push_back(now - start);
        }
        transit.emplace(now + latency(transfers++) / 2, in_transit{true, ticket, request, {}});
    };
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto r = eng.acquire(requests[i], now);
        if (r.status == acquire_status::failed) {
            ++result.failed;
            continue;
        }
        request_of[r.ticket] = i;
        if (r.granted())
            send(r.ticket);
    }
    while (result.succeeded + result.failed < requests.size()) {
        while (!transit.empty() && transit.begin()->first <= now) {
            auto node = transit.extract(transit.begin());
            in_transit& item = node.mapped();
            if (item.arriving) {
                auto reply = server.handle(requests[item.request], now);
                transit.emplace(now + latency(transfers++) / 2,
                                in_transit{false, item.ticket, item.request, std::move(reply)});
                continue;
            }
            const auto c = eng.complete(item.ticket, item.reply.status, item.reply.headers,
                                        item.reply.body, now);
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
        if (!transit.empty() && (!next || transit.begin()->first < *next))
            next = transit.begin()->first;
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
