#include <discord_ratelimit/discord_bucket.hpp>

#include "catch.hpp"

#include <chrono>

using namespace std::chrono_literals;
using discord_ratelimit::bucket_update;
using discord_ratelimit::manual_clock;
using bucket = discord_ratelimit::discord_bucket<manual_clock>;

namespace {

const manual_clock::time_point t0{};

bucket_update headers(std::uint32_t limit, std::uint32_t remaining,
                      std::chrono::nanoseconds reset_after)
{
    return bucket_update{limit, remaining, reset_after, std::nullopt};
}

} // namespace

TEST_CASE("an unknown bucket admits exactly one probe until its headers arrive", "[bucket]")
{
    bucket b;
    REQUIRE(b.available(t0) == 1);
    const auto w = b.on_grant(t0);
    CHECK(b.available(t0) == 0);
    CHECK(b.available(t0 + 1h) == 0);
    CHECK_FALSE(b.next_reset().has_value());
    CHECK(b.on_response(w, headers(5, 4, 5s), t0 + 100ms));
    CHECK(b.available(t0 + 100ms) == 4);
}

TEST_CASE("a probe lost without headers holds the next probe back for its pause", "[bucket]")
{
    bucket b;
    b.on_grant(t0);
    b.on_lost(t0 + 1s, 500ms);
    CHECK(b.available(t0 + 1s) == 0);
    REQUIRE(b.next_reset());
    CHECK(*b.next_reset() == t0 + 1500ms);
    CHECK(b.available(t0 + 1500ms) == 1);
}

TEST_CASE("up to remaining requests are in flight at once, never more", "[bucket]")
{
    bucket b;
    b.on_response(b.on_grant(t0), headers(5, 4, 5s), t0);
    int granted = 0;
    while (b.available(t0) > 0) {
        b.on_grant(t0);
        ++granted;
    }
    CHECK(granted == 4);
    CHECK(b.in_flight() == 4);
}

TEST_CASE("the reset deadline counts Reset-After from the moment the response was received",
          "[bucket]")
{
    bucket b;
    b.on_response(b.on_grant(t0), headers(1, 0, 2500ms), t0 + 300ms);
    CHECK(b.available(t0 + 300ms) == 0);
    REQUIRE(b.next_reset());
    CHECK(*b.next_reset() == t0 + 2800ms);
    CHECK(b.available(t0 + 2799ms) == 0);
    CHECK(b.available(t0 + 2800ms) == 1);
}

TEST_CASE("a response that arrives out of order never restores a stale, higher remaining",
          "[bucket]")
{
    bucket b;
    const auto w = b.on_grant(t0);
    b.on_response(w, headers(5, 4, 5s), t0);
    // three in flight; the server answers them 3, 2, 1 but we receive 1 first.
    const auto a = b.on_grant(t0);
    const auto c = b.on_grant(t0);
    const auto d = b.on_grant(t0);
    b.on_response(d, headers(5, 1, 5s), t0 + 10ms);
    CHECK(b.available(t0 + 10ms) == 0); // two may still be uncounted by the server
    b.on_response(a, headers(5, 3, 5s), t0 + 20ms);
    CHECK(b.available(t0 + 20ms) == 0); // one may still be uncounted
    b.on_response(c, headers(5, 2, 5s), t0 + 30ms);
    CHECK(b.available(t0 + 30ms) == 1); // remaining 2 and 3 are stale: the server already said 1
}

TEST_CASE("a lower remaining than our own count (another client) is obeyed", "[bucket]")
{
    bucket b;
    b.on_response(b.on_grant(t0), headers(10, 2, 5s), t0);
    CHECK(b.available(t0) == 2);
}

TEST_CASE("the latest deadline of the window is kept when a route slides", "[bucket]")
{
    bucket b;
    b.on_response(b.on_grant(t0), headers(2, 1, 1s), t0);
    b.on_response(b.on_grant(t0 + 500ms), headers(2, 0, 1s), t0 + 500ms);
    REQUIRE(b.next_reset());
    CHECK(*b.next_reset() == t0 + 1500ms);
    CHECK(b.available(t0 + 1s) == 0);
    CHECK(b.available(t0 + 1500ms) == 2);
}

TEST_CASE("after a reset the window allows exactly its limit", "[bucket]")
{
    bucket b;
    b.on_response(b.on_grant(t0), headers(3, 2, 1s), t0);
    b.on_grant(t0);
    b.on_grant(t0);
    CHECK(b.available(t0 + 999ms) == 0);
    CHECK(b.available(t0 + 1s) == 1); // two are still in flight: they may count in the new window
}

TEST_CASE("a request in flight across the reset is charged to the new window until its answer says "
          "otherwise",
          "[bucket]")
{
    const std::chrono::nanoseconds epoch = 1'470'173'023s;
    bucket b;
    b.on_response(b.on_grant(t0), bucket_update{2, 1, 1s, epoch}, t0);
    const auto late = b.on_grant(t0 + 900ms);
    CHECK(b.available(t0 + 1s) == 1);

    SECTION("its Reset names the previous window: the capacity comes back")
    {
        b.on_response(late, bucket_update{2, 0, 0ms, epoch}, t0 + 1010ms);
        CHECK(b.available(t0 + 1010ms) == 2);
    }
    SECTION("its Reset names a new window: it stays charged")
    {
        b.on_response(late, bucket_update{2, 1, 1s, epoch + 1s}, t0 + 1010ms);
        CHECK(b.available(t0 + 1010ms) == 1);
        REQUIRE(b.next_reset());
        CHECK(*b.next_reset() == t0 + 2010ms);
    }
    SECTION("without Reset, a deadline close to the previous window's end names that window")
    {
        b.on_response(late, headers(2, 0, 0ms), t0 + 1010ms);
        CHECK(b.available(t0 + 1010ms) == 2);
    }
}

TEST_CASE("a cancelled permit gives its capacity back", "[bucket]")
{
    bucket b;
    b.on_response(b.on_grant(t0), headers(2, 1, 1s), t0);
    b.on_grant(t0);
    CHECK(b.available(t0) == 0);
    b.on_cancel();
    CHECK(b.available(t0) == 1);
}

TEST_CASE("a success without rate-limit headers makes the bucket unlimited", "[bucket]")
{
    bucket b;
    b.on_headerless_success(t0);
    b.on_grant(t0);
    CHECK(b.available(t0) == bucket::unlimited_capacity);
}

TEST_CASE("a user-scope 429 spends the bucket until its retry time", "[bucket]")
{
    bucket b;
    b.on_response(b.on_grant(t0), headers(5, 4, 1s), t0);
    b.exhaust_until(t0 + 3s);
    CHECK(b.available(t0 + 2s) == 0);
    CHECK(b.available(t0 + 3s) == 5);
}

TEST_CASE("a limit that shrinks between windows is obeyed", "[bucket]")
{
    bucket b;
    b.on_response(b.on_grant(t0), headers(5, 4, 1s), t0);
    const auto w = b.on_grant(t0 + 1s);
    b.on_response(w, headers(2, 1, 1s), t0 + 1s);
    CHECK(b.available(t0 + 1s) == 1);
}

TEST_CASE("an idle bucket with nothing charged may be forgotten", "[bucket]")
{
    bucket b;
    const auto w = b.on_grant(t0);
    CHECK_FALSE(b.idle(t0));
    b.on_response(w, headers(5, 4, 1s), t0);
    CHECK_FALSE(b.idle(t0 + 500ms));
    CHECK(b.idle(t0 + 1s));
}
