// A user's program: includes the library through its CMake target and uses the engine.
#include <discord_ratelimit/discord_ratelimit.hpp>

#include <chrono>
#include <cstdio>

int main()
{
    namespace drl = discord_ratelimit;
    drl::engine<std::chrono::steady_clock> engine;
    const auto now = std::chrono::steady_clock::now();
    const auto permit = engine.acquire(drl::make_route("POST", "/channels/1/messages"), now);
    if (!permit.granted())
        return 1;
    const auto done = engine.complete(permit.ticket, 200, drl::raw_header_block{"x-ratelimit-limit: 5\r\n"}, "{}", now);
    std::puts(done.status == drl::completion_status::done ? "consumer ok" : "consumer failed");
    return done.status == drl::completion_status::done ? 0 : 1;
}
