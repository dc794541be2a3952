#include <discord_ratelimit/retry_policy.hpp>

#include "catch.hpp"

#include <chrono>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

TEST_CASE("the backoff ceiling doubles per attempt up to its maximum", "[retry]")
{
    drl::retry_policy p;
    p.initial_backoff = 500ms;
    p.max_backoff = 3s;
    CHECK(p.backoff_ceiling(1) == 500ms);
    CHECK(p.backoff_ceiling(2) == 1s);
    CHECK(p.backoff_ceiling(3) == 2s);
    CHECK(p.backoff_ceiling(4) == 3s);
    CHECK(p.backoff_ceiling(1000) == 3s); // no overflow
}

TEST_CASE("full jitter draws uniformly within [0, ceiling]", "[retry]")
{
    drl::jitter_source jitter{42};
    std::chrono::nanoseconds low = 10s;
    std::chrono::nanoseconds high = 0s;
    for (int i = 0; i < 10'000; ++i) {
        const auto d = jitter.uniform(1s);
        REQUIRE(d >= 0s);
        REQUIRE(d <= 1s);
        low = std::min(low, d);
        high = std::max(high, d);
    }
    CHECK(low < 10ms);
    CHECK(high > 990ms);
    CHECK(jitter.uniform(0s) == 0s);
    CHECK(jitter.uniform(-5s) == 0s);
}

TEST_CASE("a failed POST may have reached Discord unless nothing was sent or Discord said 503",
          "[retry]")
{
    using drl::outcome;
    using drl::response;
    using drl::transport_error;
    CHECK(drl::retry_policy::may_have_arrived(response::failed(transport_error::timeout),
                                              outcome::timeout));
    CHECK(drl::retry_policy::may_have_arrived(response::failed(transport_error::network),
                                              outcome::network_error));
    CHECK_FALSE(drl::retry_policy::may_have_arrived(
        response::failed(transport_error::connect_failed), outcome::network_error));
    response r;
    r.status = 503;
    CHECK_FALSE(drl::retry_policy::may_have_arrived(r, outcome::server_error));
    r.status = 502;
    CHECK(drl::retry_policy::may_have_arrived(r, outcome::server_error));
}
