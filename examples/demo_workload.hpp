// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_EXAMPLES_DEMO_WORKLOAD_HPP
#define DISCORD_RATELIMIT_EXAMPLES_DEMO_WORKLOAD_HPP

/// @file
/// The demo's world, shared by `discord-ratelimit-demo` and the benchmarks (which run the same
/// workload through the engine and through a baseline): the rules the simulated Discord enforces,
/// the bot's workload, how the demo runs it, and the theoretical minimum of its span. To try your
/// own bot's traffic, replace `make_workload` (and `discord_rules` if your routes differ).

#include <discord_ratelimit/discord_ratelimit.hpp>
#include <discord_ratelimit/testing/simulation.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace demo {

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

using clock_type = drl::manual_clock; // virtual time: nothing sleeps
using duration = clock_type::duration;
using time_point = clock_type::time_point;
using server_type = drl::testing::simulated_discord<clock_type>;
using result_type = drl::testing::simulation_result<clock_type>;

/// Every request's round trip: half of it to reach Discord, half to come back. Fixed, so that a run
/// is deterministic and the theoretical minimum below is exact.
constexpr duration round_trip = 60ms;

constexpr std::uint32_t global_limit = 50;
constexpr duration global_window = 1s;

inline double seconds(duration d)
{
    return std::chrono::duration<double>(d).count();
}

/// "5 s", "250 ms".
inline std::string describe(duration d)
{
    if (d % 1s == duration::zero())
        return std::to_string(d / 1s) + " s";
    return std::to_string(d / 1ms) + " ms";
}

/// "5 per 5 s", "50 per second".
inline std::string describe_rate(std::uint32_t limit, duration window)
{
    return std::to_string(limit) + " per " + (window == 1s ? "second" : describe(window));
}

// ---- Discord's side: the rules the simulated server enforces ---------------------------------

/// One bucket: the routes that share its hash, and its limit per window (per major parameter).
struct bucket_spec {
    std::string hash;
    std::uint32_t limit = 0;
    duration window{};
    std::vector<std::string> routes; ///< route keys, exactly as `route::key` prints them
    std::string major_name;          ///< what its major parameter is: "channel", "interaction"
    std::string color;               ///< its colour in the timeline
};

inline std::vector<bucket_spec> discord_rules()
{
    return {
        // Documented: 5 messages per 5 seconds per channel.
        {"messages", 5, 5s, {"POST /channels/{channel_id}/messages"}, "channel", "#4e79a7"},
        // Adding and removing a reaction (any emoji, @me or another user) share one bucket per
        // channel: 1 per 250 ms. make_route gives all of them one key.
        {"reactions",
         1,
         250ms,
         {"PUT|DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/{user}"},
         "channel",
         "#f28e2b"},
        // Edits and deletes of messages: Discord's real limits vary (deletes even by message age);
        // one hash shared by both, 5 per 5 s per channel, is a plausible stand-in. make_route adds
        // a delete's age class to its key only when given the wall-clock time
        // (`route_options::now`); this demo does not, so the delete key is the plain one.
        {"message-edit-delete",
         5,
         5s,
         {"PATCH /channels/{channel_id}/messages/{id}",
          "DELETE /channels/{channel_id}/messages/{id}"},
         "channel",
         "#59a14f"},
        // An interaction callback has a bucket per interaction (id and token) and is exempt from
        // the global limit. The limit is an assumption: a bot answers an interaction once, so it
        // never binds.
        {"interaction-callback",
         5,
         5s,
         {"POST /interactions/{interaction_id}/{interaction_token}/callback"},
         "interaction",
         "#b07aa1"},
    };
}

inline server_type::config discord_config(const std::vector<bucket_spec>& rules)
{
    server_type::config c;
    c.global_limit = global_limit;
    c.global_window = global_window;
    c.record_arrivals = true; // the statistics and the timeline are built from the arrival log
    // A route that no rule names would silently get `default_rule` under a hash "auto-...":
    // `unmatched_route` and `all_rules_matched` catch that before and after the run.
    for (const auto& rule : rules)
        for (const auto& key : rule.routes)
            c.routes[key] = server_type::bucket_rule{rule.hash, rule.limit, rule.window};
    return c;
}

// ---- The bot's side: the workload -------------------------------------------------------------

/// SplitMix64: a tiny generator whose output is fully specified, so that a seed gives the same
/// workload with every standard library (std::uniform_int_distribution is implementation-defined).
class random_source {
public:
    explicit random_source(std::uint64_t seed)
        : state_{seed}
    {
    }

    std::uint64_t next()
    {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }

    /// A number in [0, n) (the modulo bias is negligible for the small n used here).
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

    /// A number in [low, high].
    std::size_t between(std::size_t low, std::size_t high) { return low + below(high - low + 1); }

    template <class T>
    void shuffle(std::vector<T>& v)
    {
        for (std::size_t i = v.size(); i > 1; --i)
            std::swap(v[i - 1], v[below(i)]);
    }

private:
    std::uint64_t state_;
};

/// One request of the workload: as the bot writes it (method and path, which a limiter keyed by
/// path strings needs) and as the engine sees it.
struct workload_request {
    std::string method;
    std::string path; ///< relative to the versioned root: "/channels/{id}/messages"
    drl::route route;
};

/// A bot's backlog, as after a restart or in a busy moment. `simulate` submits it all at once, in
/// this order, which is the FIFO order within each bucket.
inline std::vector<workload_request> make_workload(std::uint64_t seed)
{
    random_source random{seed};
    std::vector<workload_request> work;
    auto add = [&](std::string_view method, const std::string& path) {
        work.push_back(workload_request{std::string{method}, path, drl::make_route(method, path)});
    };

    // Snowflakes in disjoint ranges, so that a major parameter's id names one resource.
    constexpr std::uint64_t first_channel = 1'100'000'000'000'000'000ULL;
    constexpr std::uint64_t first_interaction = 1'300'000'000'000'000'000ULL;
    constexpr std::size_t channels = 300;
    constexpr std::size_t hot_channels = 5;
    std::uint64_t next_message_id = 1'200'000'000'000'000'000ULL;
    struct message {
        std::uint64_t channel;
        std::uint64_t id;
    };
    auto message_path = [](const message& m) {
        return "/channels/" + std::to_string(m.channel) + "/messages/" + std::to_string(m.id);
    };
    std::vector<message> sent;
    auto post = [&](std::uint64_t channel) {
        add("POST", "/channels/" + std::to_string(channel) + "/messages");
        sent.push_back(message{channel, next_message_id++});
    };

    // 1. Notifications to 300 channels (a feed, a scheduler): 1 to 6 messages each.
    for (std::size_t i = 0; i < channels; ++i)
        for (std::size_t n = random.between(1, 6); n > 0; --n)
            post(first_channel + i);
    // 2. A burst on a few hot channels (a game's round results, a live event): 40 messages each.
    std::vector<std::uint64_t> hot(channels);
    for (std::size_t i = 0; i < channels; ++i)
        hot[i] = first_channel + i;
    random.shuffle(hot);
    hot.resize(hot_channels);
    const std::size_t burst_start = sent.size();
    for (std::size_t n = 0; n < 40; ++n)
        for (const auto channel : hot)
            post(channel);
    // Per hot channel, the burst's first message (a poll) and its last one (a scoreboard).
    std::vector<message> polls(sent.begin() + static_cast<std::ptrdiff_t>(burst_start),
                               sent.begin() +
                                   static_cast<std::ptrdiff_t>(burst_start + hot_channels));
    std::vector<message> scoreboards(sent.end() - static_cast<std::ptrdiff_t>(hot_channels),
                                     sent.end());

    // 3. Reactions: a poll in each hot channel (10 option emoji added, 4 of them taken back), a
    // check mark on 100 random messages, 20 reaction roles set up on one message.
    const std::array<std::string_view, 10> letters{
        "%F0%9F%87%A6", "%F0%9F%87%A7", "%F0%9F%87%A8", "%F0%9F%87%A9", "%F0%9F%87%AA",
        "%F0%9F%87%AB", "%F0%9F%87%AC", "%F0%9F%87%AD", "%F0%9F%87%AE", "%F0%9F%87%AF"};
    auto react = [&](std::string_view method, const message& m, const std::string& emoji) {
        add(method, message_path(m) + "/reactions/" + emoji + "/@me");
    };
    for (const auto& poll : polls) {
        for (const auto letter : letters)
            react("PUT", poll, std::string{letter});
        for (std::size_t i = 0; i < 4; ++i)
            react("DELETE", poll, std::string{letters[i]});
    }
    for (std::size_t i = 0; i < 100; ++i)
        react("PUT", sent[random.below(sent.size())], "%E2%9C%85");
    const message roles = sent[random.below(sent.size())];
    for (std::size_t i = 0; i < 20; ++i)
        react("PUT", roles, "role_" + std::to_string(i) + ":" + std::to_string(900 + i));

    // 4. Edits: a live scoreboard in each hot channel edited 15 times, and 300 random messages
    // corrected once. Deletes: 200 random messages, and a moderator's purge of 30 messages that
    // users posted in the first hot channel.
    for (std::size_t n = 0; n < 15; ++n)
        for (const auto& scoreboard : scoreboards)
            add("PATCH", message_path(scoreboard));
    std::vector<std::size_t> order(sent.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    random.shuffle(order);
    for (std::size_t i = 0; i < 300; ++i)
        add("PATCH", message_path(sent[order[i]]));
    random.shuffle(order);
    for (std::size_t i = 0; i < 200; ++i)
        add("DELETE", message_path(sent[order[i]]));
    for (std::size_t n = 0; n < 30; ++n)
        add("DELETE", message_path(message{hot.front(), next_message_id++}));

    // 5. Slash commands used meanwhile: 400 interactions, each answered by one callback.
    for (std::uint64_t i = 0; i < 400; ++i)
        add("POST", "/interactions/" + std::to_string(first_interaction + i) +
                        "/aW50ZXJhY3Rpb246ZGVtbw" + std::to_string(i) + "/callback");
    return work;
}

/// The routes of `work`, in its order: what `simulate` takes.
inline std::vector<drl::route> routes_of(const std::vector<workload_request>& work)
{
    std::vector<drl::route> routes;
    routes.reserve(work.size());
    for (const auto& request : work)
        routes.push_back(request.route);
    return routes;
}

/// Every route must be named by a rule: an unmatched one would quietly run under the default rule.
inline std::optional<std::string> unmatched_route(const std::vector<drl::route>& work,
                                                  const std::vector<bucket_spec>& rules)
{
    std::set<std::string, std::less<>> keys;
    for (const auto& rule : rules)
        keys.insert(rule.routes.begin(), rule.routes.end());
    for (const auto& r : work)
        if (keys.find(r.key.view()) == keys.end())
            return std::string{r.key.view()};
    return std::nullopt;
}

// ---- The run ----------------------------------------------------------------------------------

/// The engine's settings for the demo: Discord's global limit; everything else as by default.
inline drl::engine_config<clock_type> engine_settings()
{
    drl::engine_config<clock_type> config;
    config.global_limit = global_limit;
    config.global_window = global_window;
    return config;
}

/// Drives the whole workload through `engine` against `server`, from the clock's current time,
/// with the fixed round trip.
inline result_type run(drl::engine<clock_type>& engine, server_type& server,
                       const std::vector<drl::route>& work)
{
    return drl::testing::simulate(engine, server, work, clock_type::now(),
                                  [](std::size_t) { return round_trip; });
}

/// True when every request the server saw matched a rule (an "auto-" hash is the default rule's).
inline bool all_rules_matched(const server_type& server)
{
    return std::none_of(server.arrivals().begin(), server.arrivals().end(),
                        [](const auto& a) { return a.hash.starts_with("auto-"); });
}

// ---- The theoretical minimum ------------------------------------------------------------------
//
// The fastest schedule that can never risk a 429, given the round trip, for requests that are all
// there at the start. It is a lower bound: the best schedule must meet every constraint below at
// once, so it can only be slower.
//
// - A bucket: Discord opens a window of a (hash, major parameter) when its first request arrives,
//   and the client learns when the window ends only from a response (Reset-After, which the client
//   must count from when the response arrived, not knowing how the round trip splits). So each
//   further window starts one window plus one round trip after the previous one, and the last
//   request needs its own round trip: n requests on a bucket of `limit` per `window` take
//   (ceil(n / limit) - 1) x (window + RTT) + RTT.
// - The global limit: a request arrives anywhere between its send and its response, and Discord
//   counts arrivals over every rolling second. To be sure that no second ever holds more than 50,
//   a request may go only one second after the response of the one sent 50 requests before it
//   (which may have arrived just then): each further 50 non-exempt requests cost 1 s + RTT. This
//   is how the engine's global pacing holds a slot (global_limiter.hpp): from the send until one
//   second after the response.

struct lower_bound {
    duration span{};
    std::string reason; ///< which constraint gives it
};

/// (ceil(n / limit) - 1) x (window + RTT) + RTT, for n >= 1.
inline duration chain_span(std::size_t n, std::uint32_t limit, duration window)
{
    const auto further = static_cast<duration::rep>((n + limit - 1) / limit - 1);
    return further * (window + round_trip) + round_trip;
}

inline lower_bound theoretical_minimum(const std::vector<drl::route>& work,
                                       const std::vector<bucket_spec>& rules)
{
    std::map<std::string, const bucket_spec*, std::less<>> rule_of_key;
    for (const auto& rule : rules)
        for (const auto& key : rule.routes)
            rule_of_key[key] = &rule;
    std::map<std::pair<const bucket_spec*, std::uint64_t>, std::size_t> per_bucket;
    std::size_t non_exempt = 0;
    for (const auto& r : work) {
        const auto rule = rule_of_key.find(r.key.view()); // found: `unmatched_route` checked
        ++per_bucket[{rule->second, r.major.id}];
        if (!r.global_exempt)
            ++non_exempt;
    }
    lower_bound best;
    for (const auto& [bucket, n] : per_bucket) {
        const bucket_spec& rule = *bucket.first;
        if (const duration span = chain_span(n, rule.limit, rule.window); span > best.span)
            best = {span, "bucket " + rule.hash + " of " + rule.major_name + " " +
                              std::to_string(bucket.second) + ": " + std::to_string(n) +
                              " requests, " + std::to_string((n + rule.limit - 1) / rule.limit) +
                              " windows of " + describe_rate(rule.limit, rule.window)};
    }
    if (non_exempt > 0)
        if (const duration span = chain_span(non_exempt, global_limit, global_window);
            span > best.span)
            best = {span, "global limit: " + std::to_string(non_exempt) + " non-exempt requests, " +
                              std::to_string((non_exempt + global_limit - 1) / global_limit) +
                              " rounds of " + std::to_string(global_limit)};
    return best;
}

} // namespace demo

#endif
