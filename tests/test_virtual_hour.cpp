#include <discord_ratelimit/asio/send.hpp>

#include "catch.hpp"

#include <discord_ratelimit/asio/virtual_time.hpp>
#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

// An hour of a 1,000-channel bot's traffic, on virtual time, through the Asio layer and the
// simulated Discord: every request succeeds and Discord never answers 429.

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace drl = discord_ratelimit;

namespace {

struct hour_clock_tag {};
using vclock = drl::basic_manual_clock<hour_clock_tag>;
using server_type = drl::testing::simulated_discord<vclock>;

struct planned {
    vclock::duration at;
    drl::route r;
};

/// 1,000 channels posting a few messages at random moments, 20 busy channels posting bursts of 30,
/// reactions on the busy channels: deterministic.
std::vector<planned> workload()
{
    std::vector<planned> plan;
    std::uint64_t seed = 12345;
    auto next = [&] {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return seed >> 33;
    };
    for (int channel = 1; channel <= 1000; ++channel)
        for (int i = 0; i < 3; ++i)
            plan.push_back(
                {std::chrono::seconds{next() % 3600},
                 drl::make_route("POST", "/channels/" + std::to_string(channel) + "/messages")});
    for (int channel = 1; channel <= 20; ++channel) {
        const auto burst = std::chrono::seconds{next() % 3500};
        for (int i = 0; i < 30; ++i) {
            plan.push_back({burst, drl::make_route("POST", "/channels/" + std::to_string(channel) +
                                                               "/messages")});
            plan.push_back(
                {burst, drl::make_route("PUT", "/channels/" + std::to_string(channel) +
                                                   "/messages/" + std::to_string(5000 + i) +
                                                   "/reactions/%F0%9F%91%8D/@me")});
        }
    }
    std::stable_sort(plan.begin(), plan.end(),
                     [](const planned& a, const planned& b) { return a.at < b.at; });
    return plan;
}

} // namespace

TEST_CASE("an hour of a 1,000-channel bot on virtual time earns zero 429s", "[asio][virtual]")
{
    vclock::reset();
    server_type::config discord;
    discord.routes["POST /channels/{channel_id}/messages"] = {"messages", 5, 5s};
    discord.routes["PUT|DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/{user}"] = {
        "reactions", 1, 250ms};
    server_type server{discord};
    asio::io_context ctx;
    drl::basic_rate_limiter<vclock> limiter{ctx.get_executor()};
    const auto plan = workload();
    std::size_t succeeded = 0;
    std::size_t failed = 0;

    auto send_to_server = [&](const drl::route& r) {
        return [&ctx, &server, r](auto handler) {
            const auto reply = server.handle(r, vclock::now());
            asio::post(
                ctx, [h = std::move(handler),
                      res = drl::http_response{reply.status, reply.headers, reply.body}]() mutable {
                    std::move(h)(boost::system::error_code{}, std::move(res));
                });
        };
    };
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            drl::waitable_timer_for<vclock> timer{ctx};
            for (const auto& item : plan) {
                if (vclock::now().time_since_epoch() < item.at) {
                    timer.expires_at(vclock::time_point{item.at});
                    co_await timer.async_wait(asio::use_awaitable);
                }
                drl::async_send(limiter, item.r, send_to_server(item.r),
                                [&](boost::system::error_code ec, drl::http_response) {
                                    ec ? ++failed : ++succeeded;
                                });
            }
        },
        asio::detached);
    drl::run_virtual<vclock>(ctx);

    CHECK(succeeded == plan.size());
    CHECK(failed == 0);
    CHECK(server.seen().rate_limited() == 0);
    CHECK(server.seen().requests == plan.size());
    CHECK(vclock::now() < vclock::time_point{} + 1h + 1min);
    vclock::reset();
}
