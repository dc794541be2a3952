#include <discord_ratelimit/error.hpp>

#include "catch.hpp"

#include <string>

TEST_CASE("library errors are std::error_codes of their own category with clear messages",
          "[error]")
{
    const std::error_code ec = discord_ratelimit::error::banned;
    CHECK(ec.category().name() == std::string{"discord_ratelimit"});
    CHECK(ec.message().find("Cloudflare") != std::string::npos);
    CHECK(ec == discord_ratelimit::error::banned);
    CHECK(ec != discord_ratelimit::error::rate_limited);
    for (int value = 1; value <= static_cast<int>(discord_ratelimit::error::already_waiting);
         ++value)
        CHECK(discord_ratelimit::make_error_code(static_cast<discord_ratelimit::error>(value))
                  .message() != "unknown discord_ratelimit error");
}
