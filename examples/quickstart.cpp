// quickstart: a bot's burst of work through discord-ratelimit's engine, against the in-process
// simulated Discord on virtual time. Prints what happened and how close it came to the fastest
// schedule Discord's limits allow.
#include <discord_ratelimit/discord_ratelimit.hpp>
#include <discord_ratelimit/testing/simulation.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock; // virtual time: a minute of traffic runs in milliseconds

int main()
{
    // Discord's side: 5 messages per 5 s per channel, 1 reaction per 250 ms, 50 requests per
    // second.
    drl::testing::simulated_discord<clock_type>::config discord;
    discord.routes["POST /channels/{channel_id}/messages"] = {"messages", 5, 5s};
    discord.routes["PUT|DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/{user}"] = {
        "reactions", 1, 250ms};
    drl::testing::simulated_discord<clock_type> server{discord};

    // The bot's side: one engine per bot token.
    drl::engine<clock_type> engine;

    // 25 messages to each of 8 channels, and 40 reactions on one message.
    std::vector<drl::route> work;
    for (int i = 0; i < 25; ++i)
        for (int channel = 1; channel <= 8; ++channel)
            work.push_back(
                drl::make_route("POST", "/channels/" + std::to_string(channel) + "/messages"));
    for (int i = 0; i < 40; ++i)
        work.push_back(
            drl::make_route("PUT", "/channels/1/messages/42/reactions/%F0%9F%91%8D/@me"));

    const auto start = clock_type::now();
    const auto result = drl::testing::simulate(
        engine, server, work, start, [](std::size_t) { return clock_type::duration{80ms}; });
    const auto stats = engine.stats(result.last_response);
    const double span =
        std::chrono::duration<double>(result.last_response - result.started).count();
    // The fastest schedule that never risks a 429: Discord opens a channel's window when the first
    // request arrives and only the response tells when it ends, so each of the 5 windows a channel
    // needs costs 5 s plus one 80 ms round trip; the last one ends with its own round trip.
    const double minimum = 4 * (5.0 + 0.080) + 0.080;

    std::printf("requests        %zu\n", work.size());
    std::printf("succeeded       %zu\n", result.succeeded);
    std::printf("failed          %zu\n", result.failed);
    std::printf("429s (engine)   %llu\n",
                static_cast<unsigned long long>(stats.rate_limited_total()));
    std::printf("429s (server)   %llu\n",
                static_cast<unsigned long long>(server.seen().rate_limited()));
    std::printf("simulated span  %.3f s (theoretical minimum at 80 ms latency: %.3f s)\n", span,
                minimum);
    return result.succeeded == work.size() && stats.rate_limited_total() == 0 ? 0 : 1;
}
