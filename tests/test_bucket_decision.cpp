#include <discord_ratelimit/bucket_decision.hpp>

#include "catch.hpp"

#include <chrono>

using discord_ratelimit::bucket_decision;
using discord_ratelimit::bucket_verdict;

TEST_CASE("a bucket decision converts to true only when granted", "[bucket_decision]")
{
    using ms = std::chrono::milliseconds;
    CHECK(static_cast<bool>(bucket_decision<ms>{bucket_verdict::granted, ms{0}}));
    CHECK_FALSE(static_cast<bool>(bucket_decision<ms>{bucket_verdict::wait, ms{20}}));
    CHECK_FALSE(static_cast<bool>(bucket_decision<ms>{bucket_verdict::never, ms::max()}));
}
