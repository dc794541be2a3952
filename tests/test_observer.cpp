#include <discord_ratelimit/observer.hpp>

#include "catch.hpp"

namespace drl = discord_ratelimit;

TEST_CASE("the stats index 429s by class and sum them", "[observer]")
{
    drl::engine_stats s;
    s.rate_limited[drl::engine_stats::index_of(drl::outcome::user_429)] += 2;
    s.rate_limited[drl::engine_stats::index_of(drl::outcome::cloudflare_429)] += 1;
    CHECK(s.rate_limited[0] == 2);
    CHECK(s.rate_limited[4] == 1);
    CHECK(s.rate_limited_total() == 3);
}

TEST_CASE("wait reasons have names for logs", "[observer]")
{
    CHECK(drl::to_string(drl::wait_reason::global_429) == "global_429");
    CHECK(drl::to_string(drl::wait_reason::unknown_bucket) == "unknown_bucket");
}

TEST_CASE("the default observer ignores every event", "[observer]")
{
    drl::engine_observer o;
    o.on_ban(std::chrono::seconds{1});
    o.on_invalid_request_warning(1, 1);
    SUCCEED();
}
