// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/headers.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

using namespace discord_ratelimit;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

namespace {

using header_pairs = std::vector<std::pair<std::string_view, std::string_view>>;

/// The headers of a response that carries only `name: value`.
rate_limit_headers parse_one(std::string_view name, std::string_view value,
                             header_parse_options options = {})
{
    return parse_rate_limit_headers(header_pairs{{name, value}}, options);
}

field_status status_of(header_field field, std::string_view value)
{
    return parse_one(header_name(field), value).status_of(field);
}

/// Every value, then the status each must get for `field`.
void require_status(header_field field, std::initializer_list<std::string_view> values,
                    field_status expected)
{
    for (const std::string_view value : values) {
        INFO(header_name(field) << ": \"" << std::string(value) << "\"");
        const auto headers = parse_one(header_name(field), value);
        REQUIRE(headers.status_of(field) == expected);
        REQUIRE(headers.has_errors() == (expected != field_status::ok));
    }
}

std::optional<nanoseconds> reset_after_of(std::string_view value)
{
    return parse_one("X-RateLimit-Reset-After", value).reset_after;
}

std::string repeated(char c, std::size_t count)
{
    return std::string(count, c);
}

using test_support::exact_copy;

} // namespace

// ---------------------------------------------------------------------------------------------
// Names and descriptions

TEST_CASE("header_name gives the lowercase name Discord sends for every field")
{
    const std::array<std::string_view, header_field_count> expected{"x-ratelimit-limit",
                                                                    "x-ratelimit-remaining",
                                                                    "x-ratelimit-reset",
                                                                    "x-ratelimit-reset-after",
                                                                    "x-ratelimit-bucket",
                                                                    "x-ratelimit-global",
                                                                    "x-ratelimit-scope",
                                                                    "retry-after",
                                                                    "date",
                                                                    "via"};
    for (std::size_t i = 0; i < header_field_count; ++i)
        REQUIRE(header_name(static_cast<header_field>(i)) == expected[i]);
}

TEST_CASE("describe gives a distinct reason for every field status")
{
    const std::array all{
        field_status::absent,       field_status::ok,       field_status::empty,
        field_status::malformed,    field_status::negative, field_status::not_finite,
        field_status::out_of_range, field_status::too_long, field_status::invalid_value};
    std::set<std::string_view> reasons;
    for (const auto status : all) {
        REQUIRE_FALSE(describe(status).empty());
        reasons.insert(describe(status));
    }
    REQUIRE(reasons.size() == all.size());
    REQUIRE(describe(field_status::negative) == "negative value");
}

// ---------------------------------------------------------------------------------------------
// X-RateLimit-Limit and X-RateLimit-Remaining

TEST_CASE("Limit and Remaining accept decimal integers from 0 to 1'000'000")
{
    REQUIRE(parse_one("X-RateLimit-Limit", "5").limit == 5u);
    REQUIRE(parse_one("X-RateLimit-Limit", "0").limit == 0u);
    REQUIRE(parse_one("X-RateLimit-Limit", "1000000").limit == 1'000'000u);
    REQUIRE(parse_one("X-RateLimit-Remaining", "007").remaining == 7u);
    REQUIRE(parse_one("X-RateLimit-Remaining", " \t9 \t").remaining == 9u);
    REQUIRE(parse_one("X-RateLimit-Remaining", repeated('0', 400) + "1").remaining == 1u);
    REQUIRE(status_of(header_field::remaining, "9") == field_status::ok);
}

TEST_CASE("a Limit above 1'000'000 is out of range, however many digits it has")
{
    require_status(header_field::limit, {"1000001", "4294967296", "18446744073709551616"},
                   field_status::out_of_range);
    const std::string forty_digits = repeated('9', 40);
    const std::string four_hundred_digits = "1" + repeated('0', 399);
    require_status(header_field::limit, {forty_digits, four_hundred_digits},
                   field_status::out_of_range);
    REQUIRE_FALSE(parse_one("X-RateLimit-Limit", forty_digits).limit);
}

TEST_CASE("a negative Remaining is rejected as negative")
{
    require_status(header_field::remaining, {"-1", "-0", "-1000001", " -5 "},
                   field_status::negative);
    REQUIRE_FALSE(parse_one("X-RateLimit-Remaining", "-1").remaining);
}

TEST_CASE("an empty or blank Limit is rejected as empty")
{
    require_status(header_field::limit, {"", " ", "\t \t"}, field_status::empty);
}

TEST_CASE("a Limit that is not only digits is malformed")
{
    require_status(header_field::limit,
                   {"5x", "0x10", "+5", "1e3", "5.0", "5.", ".5", "1 000", "-", "- 1", "--1", "x",
                    "nan", "inf", "5\r", "\xd9\xa3" /* ARABIC-INDIC DIGIT THREE */},
                   field_status::malformed);
    REQUIRE_FALSE(parse_one("X-RateLimit-Limit", "5x").limit);
}

// ---------------------------------------------------------------------------------------------
// Decimal seconds: X-RateLimit-Reset-After (the same rules serve Retry-After and Reset)

TEST_CASE("Reset-After is read exactly into nanoseconds")
{
    REQUIRE(reset_after_of("64.57") == 64'570'000'000ns);
    REQUIRE(reset_after_of("5.000") == 5s);
    REQUIRE(reset_after_of("0.333") == 333ms);
    REQUIRE(reset_after_of("1") == 1s);
    REQUIRE(reset_after_of("0") == 0ns);
    REQUIRE(reset_after_of("0.0") == 0ns);
    REQUIRE(reset_after_of("0.000000001") == 1ns);
    REQUIRE(reset_after_of("0.1") == 100ms);
    REQUIRE(reset_after_of("123456.789012345") == 123'456'789'012'345ns);
    REQUIRE(reset_after_of("0064.570") == 64'570'000'000ns);
    REQUIRE(reset_after_of(" 64.57\t") == 64'570'000'000ns);
    REQUIRE(reset_after_of("604800") == 604'800s);
    REQUIRE(reset_after_of("604800.000000000000") == 604'800s);
}

TEST_CASE("Reset-After with more than nine fraction digits is rounded up, never down")
{
    REQUIRE(reset_after_of("0.0000000001") == 1ns);
    REQUIRE(reset_after_of("0.0000000009") == 1ns);
    REQUIRE(reset_after_of("1.0000000001") == 1'000'000'001ns);
    REQUIRE(reset_after_of("0.1234567891") == 123'456'790ns);
    REQUIRE(reset_after_of("0.999999999999") == 1s);
    REQUIRE(reset_after_of("2.5000000000000") == 2'500'000'000ns); // zeros do not round
    REQUIRE(reset_after_of("0." + repeated('0', 400) + "1") == 1ns);
    REQUIRE(reset_after_of("1." + repeated('0', 400)) == 1s);
}

TEST_CASE("a non-finite Reset-After is rejected as not finite")
{
    require_status(header_field::reset_after,
                   {"nan", "NaN", "NAN", "inf", "INF", "Inf", "infinity", "Infinity", "INFINITY",
                    "-inf", "-Infinity", "+inf", "-nan", " inf "},
                   field_status::not_finite);
    REQUIRE_FALSE(reset_after_of("inf"));
}

TEST_CASE("a negative Reset-After is rejected as negative")
{
    require_status(header_field::reset_after, {"-1", "-0.5", "-0", "-0.000", "-604801"},
                   field_status::negative);
    REQUIRE_FALSE(reset_after_of("-0.5"));
}

TEST_CASE("Reset-After in exponent or hexadecimal notation is malformed")
{
    require_status(header_field::reset_after,
                   {"1e308", "1e9", "1E3", "6.457e1", "1e-3", "0x1p3", "0x10", "1e", "e5"},
                   field_status::malformed);
}

TEST_CASE("Reset-After needs digits on both sides of a decimal point")
{
    // ".5" and "5." are read as JSON reads numbers, so one grammar serves headers and bodies.
    require_status(header_field::reset_after, {".5", "5.", ".", "-.5", "-5."},
                   field_status::malformed);
}

TEST_CASE("a Reset-After that is not one decimal number is malformed")
{
    require_status(header_field::reset_after,
                   {"1.2.3", "1,5", "1 .5", "1. 5", "+1", "+0.5", "--1", "-", "5s", "5 s",
                    "\xef\xbc\x95" /* FULLWIDTH DIGIT FIVE */, "nanx", "infinit", "in"},
                   field_status::malformed);
}

TEST_CASE("an empty Reset-After is rejected as empty")
{
    require_status(header_field::reset_after, {"", "   "}, field_status::empty);
}

TEST_CASE("a Reset-After above seven days is out of range")
{
    require_status(header_field::reset_after,
                   {"604800.000000001", "604800.0000000000001", "604801", "9223372037",
                    "18446744073.709551616", "99999999999999999999999", "1" + repeated('0', 400),
                    repeated('9', 400) + "." + repeated('9', 400)},
                   field_status::out_of_range);
    REQUIRE_FALSE(reset_after_of("604801"));
}

TEST_CASE("decimal parsing never reads past the end of a value")
{
    // Every prefix of long values, each in a block of exactly its size.
    for (const std::string_view value :
         {"1470173023.123456789123", "-0.000000000001", "Infinity", "604800.0000000001"}) {
        for (std::size_t length = 0; length <= value.size(); ++length) {
            const exact_copy copy{value.substr(0, length)};
            const auto headers = parse_one("X-RateLimit-Reset-After", copy.view());
            REQUIRE(headers.status_of(header_field::reset_after) != field_status::absent);
            REQUIRE(headers.reset_after.has_value() ==
                    (headers.status_of(header_field::reset_after) == field_status::ok));
        }
    }
}

TEST_CASE("any mix of number characters gives a status and a value within bounds")
{
    // A small deterministic fuzzer over the characters the grammar cares about.
    constexpr std::string_view alphabet = "0123456789.-+eEnaifNAIF x\t";
    std::uint32_t state = 12345;
    const auto next = [&state] {
        state = state * 1'103'515'245u + 12'345u;
        return state >> 16;
    };
    for (int round = 0; round < 20'000; ++round) {
        std::string value(next() % 24, ' ');
        for (char& c : value)
            c = alphabet[next() % alphabet.size()];
        const exact_copy copy{value};
        for (std::size_t i = 0; i < header_field_count; ++i) {
            const auto field = static_cast<header_field>(i);
            const auto headers = parse_one(header_name(field), copy.view());
            INFO(header_name(field) << ": \"" << value << "\"");
            REQUIRE(headers.status_of(field) != field_status::absent);
        }
        const auto headers = parse_one("X-RateLimit-Reset-After", copy.view());
        if (headers.reset_after)
            REQUIRE((*headers.reset_after >= 0ns && *headers.reset_after <= 604'800s));
    }
}

// ---------------------------------------------------------------------------------------------
// X-RateLimit-Reset

TEST_CASE("X-RateLimit-Reset is read as exact nanoseconds since the Unix epoch")
{
    REQUIRE(parse_one("X-RateLimit-Reset", "1470173023").reset == 1'470'173'023s);
    REQUIRE(parse_one("X-RateLimit-Reset", "1470173023.123").reset == 1'470'173'023'123'000'000ns);
    REQUIRE(parse_one("X-RateLimit-Reset", "1470173023.1234567891").reset ==
            1'470'173'023'123'456'790ns);
}

TEST_CASE("an X-RateLimit-Reset outside 2014 to the end of nanoseconds is out of range")
{
    REQUIRE(parse_one("X-RateLimit-Reset", "1400000000").reset == 1'400'000'000s);
    REQUIRE(parse_one("X-RateLimit-Reset", "9223372036.854775807").reset == nanoseconds::max());
    require_status(header_field::reset,
                   {"0", "1", "64.57", "1399999999.999999999", "9223372036.854775808", "9999999999",
                    "10000000000", "1" + repeated('0', 400)},
                   field_status::out_of_range);
}

TEST_CASE("a negative, non-finite or exponent X-RateLimit-Reset is rejected")
{
    require_status(header_field::reset, {"-1470173023"}, field_status::negative);
    require_status(header_field::reset, {"inf", "nan"}, field_status::not_finite);
    require_status(header_field::reset, {"1.470173023e9", "Sun, 06 Nov 1994 08:49:37 GMT"},
                   field_status::malformed);
    require_status(header_field::reset, {""}, field_status::empty);
}

// ---------------------------------------------------------------------------------------------
// Retry-After

TEST_CASE("Retry-After is seconds, whole or decimal")
{
    REQUIRE(parse_one("Retry-After", "65").retry_after == 65s);
    REQUIRE(parse_one("Retry-After", "0.661").retry_after == 661ms);
    REQUIRE(parse_one("Retry-After", "0").retry_after == 0s);
}

TEST_CASE("with the API v6 option, Retry-After is milliseconds")
{
    const header_parse_options v6{.retry_after_in_milliseconds = true};
    REQUIRE(parse_one("Retry-After", "64570", v6).retry_after == 64'570ms);
    REQUIRE(parse_one("Retry-After", "1.5", v6).retry_after == 1'500'000ns);
    REQUIRE(parse_one("Retry-After", "0.0000001", v6).retry_after == 1ns);
    REQUIRE(parse_one("Retry-After", "604800000", v6).retry_after == 604'800s);
    REQUIRE(parse_one("Retry-After", "604800001", v6).status_of(header_field::retry_after) ==
            field_status::out_of_range);
}

TEST_CASE("the millisecond option changes Retry-After only")
{
    const header_parse_options v6{.retry_after_in_milliseconds = true};
    REQUIRE(parse_one("X-RateLimit-Reset-After", "5", v6).reset_after == 5s);
    REQUIRE(parse_one("X-RateLimit-Reset", "1470173023", v6).reset == 1'470'173'023s);
}

TEST_CASE("Retry-After follows the decimal rules and rejects the HTTP-date form")
{
    require_status(header_field::retry_after, {"-1"}, field_status::negative);
    require_status(header_field::retry_after, {"Infinity"}, field_status::not_finite);
    require_status(header_field::retry_after, {"604801"}, field_status::out_of_range);
    require_status(header_field::retry_after, {""}, field_status::empty);
    require_status(header_field::retry_after, {"Sun, 06 Nov 1994 08:49:37 GMT", "1e3", "5."},
                   field_status::malformed);
}

// ---------------------------------------------------------------------------------------------
// X-RateLimit-Bucket and bucket_hash

TEST_CASE("a bucket of 1 to 64 visible characters is kept exactly as sent")
{
    REQUIRE(parse_one("X-RateLimit-Bucket", "abcd1234").bucket->view() == "abcd1234");
    REQUIRE(parse_one("X-RateLimit-Bucket", " abcd1234\t").bucket->view() == "abcd1234");
    const std::string longest = repeated('f', 64);
    REQUIRE(parse_one("X-RateLimit-Bucket", longest).bucket->view() == longest);
    REQUIRE(parse_one("X-RateLimit-Bucket", "!\"#~").bucket->view() == "!\"#~");
    REQUIRE(parse_one("X-RateLimit-Bucket", "x").bucket->view() == "x");
}

TEST_CASE("a bucket longer than 64 characters is too long")
{
    require_status(header_field::bucket, {repeated('a', 65), repeated('a', 1000)},
                   field_status::too_long);
    REQUIRE_FALSE(parse_one("X-RateLimit-Bucket", repeated('a', 65)).bucket);
}

TEST_CASE("an empty bucket is rejected as empty")
{
    require_status(header_field::bucket, {"", "  "}, field_status::empty);
}

TEST_CASE("a bucket with a character that is not visible ASCII is an invalid value")
{
    using namespace std::string_view_literals;
    require_status(header_field::bucket,
                   {"ab cd", "ab\tcd", "ab\x7f", "\x80", "caf\xc3\xa9", "ab\0cd"sv, "ab\rcd"},
                   field_status::invalid_value);
}

TEST_CASE("bucket_hash::from accepts exactly 1 to 64 visible ASCII characters, untrimmed")
{
    REQUIRE(bucket_hash::from("abcd1234"));
    REQUIRE(bucket_hash::from(repeated('z', 64)));
    REQUIRE_FALSE(bucket_hash::from(""));
    REQUIRE_FALSE(bucket_hash::from(repeated('z', 65)));
    REQUIRE_FALSE(bucket_hash::from(" abcd"));
    REQUIRE_FALSE(bucket_hash::from("ab\ncd"));
    REQUIRE_FALSE(bucket_hash::from("\xff"));
    REQUIRE(bucket_hash::max_size == 64);
}

TEST_CASE("bucket hashes compare, order and hash by their text")
{
    const auto a = *bucket_hash::from("abcd1234");
    const auto a_again = *bucket_hash::from(std::string("abcd1234"));
    const auto b = *bucket_hash::from("abcd1235");
    REQUIRE(a == a_again);
    REQUIRE(a != b);
    REQUIRE(a < b);
    REQUIRE(a.hash() == a_again.hash());
    REQUIRE(std::hash<bucket_hash>{}(a) == a.hash());
    std::unordered_set<bucket_hash> set{a, a_again, b};
    REQUIRE(set.size() == 2);
    std::set<bucket_hash> ordered{b, a};
    REQUIRE(ordered.begin()->view() == "abcd1234");
}

// ---------------------------------------------------------------------------------------------
// X-RateLimit-Global and X-RateLimit-Scope

TEST_CASE("X-RateLimit-Global accepts true and false in any case")
{
    for (const std::string_view value : {"true", "TRUE", "True", " tRuE "})
        REQUIRE(parse_one("X-RateLimit-Global", value).global);
    for (const std::string_view value : {"false", "FALSE", "False"}) {
        const auto headers = parse_one("X-RateLimit-Global", value);
        REQUIRE_FALSE(headers.global);
        REQUIRE(headers.status_of(header_field::global) == field_status::ok);
    }
}

TEST_CASE("any other X-RateLimit-Global is an invalid value")
{
    require_status(header_field::global, {"1", "0", "yes", "truee", "t", "\"true\""},
                   field_status::invalid_value);
    require_status(header_field::global, {""}, field_status::empty);
    REQUIRE_FALSE(parse_one("X-RateLimit-Global", "yes").global);
}

TEST_CASE("X-RateLimit-Scope accepts user, global and shared in any case")
{
    REQUIRE(parse_one("X-RateLimit-Scope", "user").scope == rate_limit_scope::user);
    REQUIRE(parse_one("X-RateLimit-Scope", "GLOBAL").scope == rate_limit_scope::global);
    REQUIRE(parse_one("X-RateLimit-Scope", " Shared ").scope == rate_limit_scope::shared);
}

TEST_CASE("any other X-RateLimit-Scope is an invalid value and leaves the scope none")
{
    require_status(header_field::scope, {"guild", "users", "none", "user,global"},
                   field_status::invalid_value);
    require_status(header_field::scope, {""}, field_status::empty);
    REQUIRE(parse_one("X-RateLimit-Scope", "guild").scope == rate_limit_scope::none);
}

// ---------------------------------------------------------------------------------------------
// Date

TEST_CASE("Date is read as an IMF-fixdate in seconds since the Unix epoch")
{
    REQUIRE(parse_one("Date", "Sun, 06 Nov 1994 08:49:37 GMT").date == 784'111'777s);
    REQUIRE(parse_one("Date", "Thu, 01 Jan 1970 00:00:00 GMT").date == 0s);
    REQUIRE(parse_one("Date", "Thu, 29 Feb 2024 12:00:00 GMT").date == 1'709'208'000s);
    REQUIRE(parse_one("Date", "Sat, 31 Dec 2016 23:59:60 GMT").date == 1'483'228'800s);
    REQUIRE(parse_one("Date", " Tue, 02 Aug 2016 21:23:43 GMT ").date == 1'470'173'023s);
}

TEST_CASE("a Date that is not an IMF-fixdate is malformed")
{
    // The obsolete RFC 850 and asctime forms are not read: every server must send IMF-fixdate.
    require_status(header_field::date,
                   {"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                    "sun, 06 nov 1994 08:49:37 gmt", "Sun, 06 Nov 1994 08:49:37 UTC",
                    "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT+1",
                    "Sun, 06 Nov 94 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
                    "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08-49-37 GMT",
                    "Sun,06 Nov 1994 08:49:37 GMT ", "1470173023", "Sun, 0x Nov 1994 08:49:37 GMT"},
                   field_status::malformed);
    require_status(header_field::date, {""}, field_status::empty);
}

TEST_CASE("a Date that does not exist is out of range")
{
    require_status(header_field::date,
                   {"Wed, 29 Feb 2023 00:00:00 GMT", "Thu, 31 Apr 2025 00:00:00 GMT",
                    "Mon, 32 Jan 2024 00:00:00 GMT", "Mon, 00 Jan 2024 00:00:00 GMT",
                    "Mon, 01 Jan 2024 24:00:00 GMT", "Mon, 01 Jan 2024 23:60:00 GMT",
                    "Mon, 01 Jan 2024 23:59:61 GMT"},
                   field_status::out_of_range);
}

// ---------------------------------------------------------------------------------------------
// Via

TEST_CASE("any non-empty Via header sets via")
{
    const auto google = parse_one("Via", "1.1 google");
    REQUIRE(google.via);
    REQUIRE(google.status_of(header_field::via) == field_status::ok);
    REQUIRE(parse_one("via", "anything").via);
    const auto empty = parse_one("Via", "  ");
    REQUIRE_FALSE(empty.via);
    REQUIRE(empty.status_of(header_field::via) == field_status::empty);
    REQUIRE_FALSE(parse_rate_limit_headers(header_pairs{}).via);
}

// ---------------------------------------------------------------------------------------------
// The summary functions

TEST_CASE("a response without rate-limit headers has every field absent")
{
    const auto headers = parse_rate_limit_headers(header_pairs{{"Content-Type", "text/plain"}});
    for (std::size_t i = 0; i < header_field_count; ++i)
        REQUIRE(headers.status_of(static_cast<header_field>(i)) == field_status::absent);
    REQUIRE_FALSE(headers.has_errors());
    REQUIRE_FALSE(headers.has_bucket_info());
    REQUIRE_FALSE(headers.global);
    REQUIRE(headers.scope == rate_limit_scope::none);
}

TEST_CASE("has_errors reports a header that is present but rejected")
{
    const auto headers = parse_rate_limit_headers(
        header_pairs{{"X-RateLimit-Limit", "5"}, {"X-RateLimit-Remaining", "-1"}});
    REQUIRE(headers.has_errors());
    REQUIRE(headers.status_of(header_field::limit) == field_status::ok);
    REQUIRE(headers.status_of(header_field::remaining) == field_status::negative);
    REQUIRE(headers.status[static_cast<std::size_t>(header_field::remaining)] ==
            field_status::negative);
}

TEST_CASE("has_bucket_info needs a valid Limit, Remaining or Reset-After")
{
    REQUIRE(parse_one("X-RateLimit-Limit", "5").has_bucket_info());
    REQUIRE(parse_one("X-RateLimit-Remaining", "0").has_bucket_info());
    REQUIRE(parse_one("X-RateLimit-Reset-After", "1.5").has_bucket_info());
    REQUIRE_FALSE(parse_one("X-RateLimit-Reset-After", "-1.5").has_bucket_info());
    REQUIRE_FALSE(parse_one("X-RateLimit-Reset", "1470173023").has_bucket_info());
    REQUIRE_FALSE(parse_one("X-RateLimit-Bucket", "abcd1234").has_bucket_info());
    REQUIRE_FALSE(parse_one("Retry-After", "5").has_bucket_info());
}

TEST_CASE("parsing is noexcept and can run at compile time")
{
    static_assert(noexcept(parse_rate_limit_headers(std::declval<const raw_header_block&>())));
    static_assert(noexcept(parse_rate_limit_headers(std::declval<const header_pairs&>())));
    constexpr auto headers = parse_rate_limit_headers(
        raw_header_block{"X-RateLimit-Reset-After: 64.57\r\nX-RateLimit-Bucket: abcd1234\r\n"});
    static_assert(headers.reset_after == 64'570'000'000ns);
    static_assert(headers.bucket->view() == "abcd1234");
    REQUIRE(headers.reset_after == 64'570'000'000ns);
}

// ---------------------------------------------------------------------------------------------
// Header sources

namespace {

/// One header example of the reference, as raw text and as (name, value) pairs.
struct header_example {
    std::string_view raw;
    std::vector<std::pair<std::string, std::string>> fields;
};

/// "x-ratelimit-limit" -> "X-rAtElImIt-lImIt": names no container would have sorted for us.
std::string mixed_case(std::string_view name)
{
    std::string mixed(name);
    for (std::size_t i = 0; i < mixed.size(); ++i) {
        const char c = mixed[i];
        const bool upper = i % 2 == 0;
        if (upper && c >= 'a' && c <= 'z')
            mixed[i] = static_cast<char>(c - 'a' + 'A');
        if (!upper && c >= 'A' && c <= 'Z')
            mixed[i] = static_cast<char>(c - 'A' + 'a');
    }
    return mixed;
}

/// The example parsed from a raw block, a std::map, a vector of pairs and an unordered_map with
/// mixed-case names, each with the name of its source.
std::vector<std::pair<std::string, rate_limit_headers>> parse_every_way(const header_example& e)
{
    const std::map<std::string, std::string> map(e.fields.begin(), e.fields.end());
    std::unordered_map<std::string, std::string> mixed;
    for (const auto& [name, value] : e.fields)
        mixed.emplace(mixed_case(name), value);
    return {{"raw_header_block", parse_rate_limit_headers(raw_header_block{e.raw})},
            {"std::map", parse_rate_limit_headers(map)},
            {"vector of pairs", parse_rate_limit_headers(e.fields)},
            {"unordered_map, mixed case", parse_rate_limit_headers(mixed)}};
}

const header_example ordinary_response{"X-RateLimit-Limit: 5\r\n"
                                       "X-RateLimit-Remaining: 0\r\n"
                                       "X-RateLimit-Reset: 1470173023\r\n"
                                       "X-RateLimit-Reset-After: 1\r\n"
                                       "X-RateLimit-Bucket: abcd1234\r\n",
                                       {{"X-RateLimit-Limit", "5"},
                                        {"X-RateLimit-Remaining", "0"},
                                        {"X-RateLimit-Reset", "1470173023"},
                                        {"X-RateLimit-Reset-After", "1"},
                                        {"X-RateLimit-Bucket", "abcd1234"}}};

const header_example user_429{
    "HTTP/1.1 429 TOO MANY REQUESTS\r\n"
    "Content-Type: application/json\r\n"
    "Retry-After: 65\r\n"
    "X-RateLimit-Limit: 10\r\n"
    "X-RateLimit-Remaining: 0\r\n"
    "X-RateLimit-Reset: 1470173023.123\r\n"
    "X-RateLimit-Reset-After: 64.57\r\n"
    "X-RateLimit-Bucket: abcd1234\r\n"
    "X-RateLimit-Scope: user\r\n"
    "\r\n"
    R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": false})",
    {{"Content-Type", "application/json"},
     {"Retry-After", "65"},
     {"X-RateLimit-Limit", "10"},
     {"X-RateLimit-Remaining", "0"},
     {"X-RateLimit-Reset", "1470173023.123"},
     {"X-RateLimit-Reset-After", "64.57"},
     {"X-RateLimit-Bucket", "abcd1234"},
     {"X-RateLimit-Scope", "user"}}};

const header_example shared_429{
    "HTTP/1.1 429 TOO MANY REQUESTS\r\n"
    "Content-Type: application/json\r\n"
    "Retry-After: 1337\r\n"
    "X-RateLimit-Limit: 10\r\n"
    "X-RateLimit-Remaining: 9\r\n"
    "X-RateLimit-Reset: 1470173023.123\r\n"
    "X-RateLimit-Reset-After: 64.57\r\n"
    "X-RateLimit-Bucket: abcd1234\r\n"
    "X-RateLimit-Scope: shared\r\n"
    "\r\n"
    R"({"message": "The resource is being rate limited.", "retry_after": 1336.57,)"
    R"( "global": false})",
    {{"Content-Type", "application/json"},
     {"Retry-After", "1337"},
     {"X-RateLimit-Limit", "10"},
     {"X-RateLimit-Remaining", "9"},
     {"X-RateLimit-Reset", "1470173023.123"},
     {"X-RateLimit-Reset-After", "64.57"},
     {"X-RateLimit-Bucket", "abcd1234"},
     {"X-RateLimit-Scope", "shared"}}};

const header_example global_429{
    "HTTP/1.1 429 TOO MANY REQUESTS\r\n"
    "Content-Type: application/json\r\n"
    "Retry-After: 65\r\n"
    "X-RateLimit-Global: true\r\n"
    "X-RateLimit-Scope: global\r\n"
    "\r\n"
    R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": true})",
    {{"Content-Type", "application/json"},
     {"Retry-After", "65"},
     {"X-RateLimit-Global", "true"},
     {"X-RateLimit-Scope", "global"}}};

const header_example real_global_429{
    "HTTP/1.1 429 Too Many Requests\n"
    "retry-after: 1\n"
    "x-ratelimit-scope: global\n"
    "x-ratelimit-global: true\n"
    "via: 1.1 google\n"
    "\n"
    R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.661})",
    {{"retry-after", "1"},
     {"x-ratelimit-scope", "global"},
     {"x-ratelimit-global", "true"},
     {"via", "1.1 google"}}};

} // namespace

TEST_CASE("the reference's ordinary response is read from every kind of source")
{
    for (const auto& [source, h] : parse_every_way(ordinary_response)) {
        INFO(source);
        REQUIRE(h.limit == 5u);
        REQUIRE(h.remaining == 0u);
        REQUIRE(h.reset == 1'470'173'023'000'000'000ns);
        REQUIRE(h.reset_after == 1'000'000'000ns);
        REQUIRE(h.bucket->view() == "abcd1234");
        REQUIRE_FALSE(h.global);
        REQUIRE(h.scope == rate_limit_scope::none);
        REQUIRE_FALSE(h.retry_after);
        REQUIRE_FALSE(h.via);
        REQUIRE(h.status_of(header_field::retry_after) == field_status::absent);
        REQUIRE(h.has_bucket_info());
        REQUIRE_FALSE(h.has_errors());
    }
}

TEST_CASE("the reference's user-scope 429 is read from every kind of source")
{
    for (const auto& [source, h] : parse_every_way(user_429)) {
        INFO(source);
        REQUIRE(h.retry_after == 65'000'000'000ns);
        REQUIRE(h.limit == 10u);
        REQUIRE(h.remaining == 0u);
        REQUIRE(h.reset == 1'470'173'023'123'000'000ns);
        REQUIRE(h.reset_after == 64'570'000'000ns);
        REQUIRE(h.bucket->view() == "abcd1234");
        REQUIRE(h.scope == rate_limit_scope::user);
        REQUIRE_FALSE(h.global);
        REQUIRE_FALSE(h.via);
        REQUIRE_FALSE(h.has_errors());
    }
}

TEST_CASE("the reference's shared-scope 429 is read from every kind of source")
{
    for (const auto& [source, h] : parse_every_way(shared_429)) {
        INFO(source);
        REQUIRE(h.retry_after == 1'337'000'000'000ns);
        REQUIRE(h.limit == 10u);
        REQUIRE(h.remaining == 9u);
        REQUIRE(h.reset == 1'470'173'023'123'000'000ns);
        REQUIRE(h.reset_after == 64'570'000'000ns);
        REQUIRE(h.bucket->view() == "abcd1234");
        REQUIRE(h.scope == rate_limit_scope::shared);
        REQUIRE_FALSE(h.has_errors());
    }
}

TEST_CASE("the reference's global 429 is read from every kind of source")
{
    for (const auto& [source, h] : parse_every_way(global_429)) {
        INFO(source);
        REQUIRE(h.retry_after == 65'000'000'000ns);
        REQUIRE(h.global);
        REQUIRE(h.scope == rate_limit_scope::global);
        REQUIRE_FALSE(h.limit);
        REQUIRE_FALSE(h.remaining);
        REQUIRE_FALSE(h.reset_after);
        REQUIRE_FALSE(h.bucket);
        REQUIRE_FALSE(h.has_bucket_info());
        REQUIRE_FALSE(h.has_errors());
    }
}

TEST_CASE("the real lowercase global 429 is read from every kind of source")
{
    for (const auto& [source, h] : parse_every_way(real_global_429)) {
        INFO(source);
        REQUIRE(h.retry_after == 1'000'000'000ns);
        REQUIRE(h.global);
        REQUIRE(h.scope == rate_limit_scope::global);
        REQUIRE(h.via);
        REQUIRE_FALSE(h.has_bucket_info());
        REQUIRE_FALSE(h.has_errors());
    }
}

TEST_CASE("the standard containers of string-like pairs are header sources")
{
    static_assert(header_source<std::map<std::string, std::string>>);
    static_assert(header_source<std::map<std::string_view, std::string_view>>);
    static_assert(header_source<std::map<std::string, std::string, std::less<>>>);
    static_assert(header_source<std::multimap<std::string, std::string>>);
    static_assert(header_source<std::unordered_map<std::string, std::string>>);
    static_assert(header_source<std::unordered_multimap<std::string, std::string>>);
    static_assert(header_source<std::vector<std::pair<std::string, std::string>>>);
    static_assert(header_source<std::vector<std::pair<const char*, const char*>>>);
    static_assert(header_source<raw_header_block>);
    static_assert(!header_source<int>);
    static_assert(!header_source<std::string>);
    static_assert(!header_source<std::vector<int>>);
    static_assert(!header_source<std::map<int, int>>);
    static_assert(!header_source<std::vector<std::pair<std::string, int>>>);

    const std::vector<std::pair<const char*, const char*>> literals{{"x-ratelimit-limit", "5"}};
    REQUIRE(parse_rate_limit_headers(literals).limit == 5u);
}

TEST_CASE("names match in any case, whatever the container's own comparison")
{
    // A std::map orders "X-..." before "x-..."; lookup must not rely on that order or on find().
    const std::map<std::string, std::string> map{{"X-RATELIMIT-LIMIT", "5"},
                                                 {"x-ratelimit-remaining", "4"},
                                                 {"X-Ratelimit-Reset-After", "1.5"}};
    const auto headers = parse_rate_limit_headers(map);
    REQUIRE(headers.limit == 5u);
    REQUIRE(headers.remaining == 4u);
    REQUIRE(headers.reset_after == 1'500'000'000ns);
}

TEST_CASE("the first of repeated headers wins")
{
    const header_pairs pairs{{"Retry-After", "1"}, {"retry-after", "2"}, {"RETRY-AFTER", "x"}};
    REQUIRE(parse_rate_limit_headers(pairs).retry_after == 1s);

    std::multimap<std::string, std::string> multimap;
    multimap.emplace("retry-after", "3");
    multimap.emplace("retry-after", "4");
    REQUIRE(parse_rate_limit_headers(multimap).retry_after == 3s);

    const raw_header_block block{"Retry-After: 5\r\nretry-after: 6\r\n"};
    REQUIRE(parse_rate_limit_headers(block).retry_after == 5s);
}

TEST_CASE("the first repeated header wins even when it is invalid")
{
    const header_pairs pairs{{"X-RateLimit-Limit", "five"}, {"X-RateLimit-Limit", "5"}};
    const auto headers = parse_rate_limit_headers(pairs);
    REQUIRE_FALSE(headers.limit);
    REQUIRE(headers.status_of(header_field::limit) == field_status::malformed);
}

namespace {

/// A user's own header container: a fixed array of "name=value" strings.
struct equals_sign_headers {
    std::array<std::string_view, 3> lines;
};

} // namespace

template <>
struct discord_ratelimit::header_traits<equals_sign_headers> {
    static std::optional<std::string_view> find(const equals_sign_headers& headers,
                                                std::string_view name) noexcept
    {
        for (const std::string_view line : headers.lines) {
            const auto equals = line.find('=');
            if (equals != std::string_view::npos && line.substr(0, equals) == name)
                return line.substr(equals + 1);
        }
        return std::nullopt;
    }
};

TEST_CASE("a specialization of header_traits makes any type a header source")
{
    static_assert(header_source<equals_sign_headers>);
    const equals_sign_headers headers{{"x-ratelimit-limit=7", "via=1.1 google", "nonsense"}};
    const auto parsed = parse_rate_limit_headers(headers);
    REQUIRE(parsed.limit == 7u);
    REQUIRE(parsed.via);
}

// ---------------------------------------------------------------------------------------------
// raw_header_block

TEST_CASE("a raw header block accepts CRLF and bare LF line endings")
{
    const raw_header_block crlf{"X-RateLimit-Limit: 5\r\nX-RateLimit-Remaining: 4\r\n"};
    const raw_header_block lf{"X-RateLimit-Limit: 5\nX-RateLimit-Remaining: 4\n"};
    const raw_header_block mixed{"X-RateLimit-Limit: 5\nX-RateLimit-Remaining: 4\r\n"};
    for (const auto& block : {crlf, lf, mixed}) {
        REQUIRE(block.find("x-ratelimit-limit") == "5");
        REQUIRE(block.find("x-ratelimit-remaining") == "4");
    }
}

TEST_CASE("a raw header block skips a leading status line")
{
    const raw_header_block block{"HTTP/1.1 429 TOO MANY REQUESTS\r\nRetry-After: 65\r\n"};
    REQUIRE(block.find("retry-after") == "65");
    // "HTTP/2: x" would otherwise look like a field named "HTTP/2".
    REQUIRE_FALSE(raw_header_block{"HTTP/2: 429\r\nVia: a\r\n"}.find("http/2"));
    REQUIRE(raw_header_block{"HTTP/2: 429\r\nVia: a\r\n"}.find("via") == "a");
}

TEST_CASE("a raw header block ends at the first empty line")
{
    const raw_header_block block{"Retry-After: 65\r\n\r\nX-RateLimit-Limit: 99\r\n"};
    REQUIRE(block.find("retry-after") == "65");
    REQUIRE_FALSE(block.find("x-ratelimit-limit"));
    REQUIRE_FALSE(raw_header_block{"\r\nRetry-After: 65\r\n"}.find("retry-after"));
    REQUIRE_FALSE(raw_header_block{"Via: a\n\nRetry-After: 65\n"}.find("retry-after"));
}

TEST_CASE("rule: interim responses: a raw header block is read from the final response",
          "[headers]")
{
    using namespace std::string_view_literals;
    // As libcurl's header callback hands over a POST answered with 100 Continue, then a 429.
    const raw_header_block after_continue{"HTTP/1.1 100 Continue\r\n"
                                          "\r\n"
                                          "HTTP/1.1 429 Too Many Requests\r\n"
                                          "retry-after: 2\r\n"
                                          "x-ratelimit-scope: user\r\n"
                                          "via: 1.1 google\r\n"
                                          "\r\n"};
    REQUIRE(after_continue.has_final_response());
    const auto limited = parse_rate_limit_headers(after_continue);
    CHECK(limited.retry_after == 2s);
    CHECK(limited.scope == rate_limit_scope::user);
    CHECK(limited.via);

    // 103 Early Hints has headers of its own, which are not the final response's.
    const raw_header_block after_hints{"HTTP/1.1 103 Early Hints\r\n"
                                       "Link: </style.css>; rel=preload\r\n"
                                       "X-RateLimit-Remaining: 99\r\n"
                                       "\r\n"
                                       "HTTP/1.1 100 Continue\r\n"
                                       "\r\n"
                                       "HTTP/1.1 200 OK\r\n"
                                       "X-RateLimit-Limit: 5\r\n"
                                       "X-RateLimit-Remaining: 4\r\n"
                                       "\r\n"};
    const auto ok = parse_rate_limit_headers(after_hints);
    CHECK(ok.limit == 5u);
    CHECK(ok.remaining == 4u);
    CHECK_FALSE(after_hints.find("link"));
    CHECK(after_hints.find("x-ratelimit-remaining") == "4");

    // Bare LF line ends, and HTTP/2's status line without a reason phrase.
    const raw_header_block lf{"HTTP/1.1 100 Continue\n\nHTTP/2 429\nRetry-After: 3\n\n"};
    CHECK(parse_rate_limit_headers(lf).retry_after == 3s);
    CHECK(raw_header_block{"HTTP/2 103\r\nvia: x\r\n\r\nHTTP/2 200\r\nvia: y\r\n"}.find("via") ==
          "y");
}

TEST_CASE("rule: interim responses: a block of interim responses only has no final response",
          "[headers]")
{
    using namespace std::string_view_literals;
    for (const std::string_view text :
         {"HTTP/1.1 100 Continue\r\n\r\n"sv, "HTTP/1.1 100 Continue\r\n"sv,
          "HTTP/1.1 100 Continue"sv, "HTTP/1.1 103 Early Hints\r\nRetry-After: 5\r\n"sv,
          "HTTP/1.1 103 Early Hints\nRetry-After: 5\n\nHTTP/1.1 100 Continue\n\n"sv}) {
        INFO(text);
        const raw_header_block block{text};
        CHECK_FALSE(block.has_final_response());
        CHECK_FALSE(block.find("retry-after"));
        CHECK(parse_rate_limit_headers(block).status ==
              rate_limit_headers{}.status); // every field absent
    }
    // A final response, even one with no headers, or header lines without a status line.
    for (const std::string_view text :
         {""sv, "HTTP/1.1 204 No Content\r\n\r\n"sv, "Retry-After: 5\r\n"sv,
          "HTTP/1.1 100 Continue\r\n\r\nRetry-After: 5\r\n"sv, "HTTP/1.1 1000 x\r\n"sv,
          "HTTP/1.1 10 x\r\n"sv}) {
        INFO(text);
        CHECK(raw_header_block{text}.has_final_response());
    }
    CHECK(raw_header_block{"HTTP/1.1 100 Continue\r\n\r\nRetry-After: 5\r\n"}.find("retry-after") ==
          "5");
}

TEST_CASE("a raw header block trims spaces and tabs around values")
{
    const raw_header_block block{"X-RateLimit-Bucket:\t abcd1234 \t\r\nVia:1.1 google\r\n"};
    REQUIRE(block.find("x-ratelimit-bucket") == "abcd1234");
    REQUIRE(block.find("via") == "1.1 google");
    REQUIRE(raw_header_block{"Via:   \r\n"}.find("via") == "");
}

TEST_CASE("a raw header block ignores malformed lines")
{
    const raw_header_block block{"no colon on this line\r\n"
                                 ": no name\r\n"
                                 "X-RateLimit-Limit : 1\r\n"
                                 " X-RateLimit-Limit: 2\r\n"
                                 "\tX-RateLimit-Limit: 3\r\n"
                                 "X-RateLimit Limit: 4\r\n"
                                 "X-RateLimit-Limit: 5\r\n"};
    REQUIRE(block.find("x-ratelimit-limit") == "5");
}

TEST_CASE("a raw header value keeps its own colons")
{
    const raw_header_block block{"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"};
    REQUIRE(block.find("date") == "Sun, 06 Nov 1994 08:49:37 GMT");
    REQUIRE(parse_rate_limit_headers(block).date == 784'111'777s);
}

TEST_CASE("a raw header block reads a last line without a line ending")
{
    REQUIRE(raw_header_block{"Via: a\r\nRetry-After: 65"}.find("retry-after") == "65");
    REQUIRE(raw_header_block{"Retry-After: 65\r"}.find("retry-after") == "65");
    REQUIRE_FALSE(raw_header_block{""}.find("retry-after"));
    REQUIRE(raw_header_block{"Retry-After: 65"}.text() == "Retry-After: 65");
}

TEST_CASE("a raw header block never reads past its text, whatever its length")
{
    const std::string_view full = user_429.raw;
    for (std::size_t length = 0; length <= full.size(); ++length) {
        const exact_copy prefix{full.substr(0, length)};
        const auto headers = parse_rate_limit_headers(raw_header_block{prefix.view()});
        for (std::size_t i = 0; i < header_field_count; ++i) {
            const auto field = static_cast<header_field>(i);
            if (headers.status_of(field) != field_status::absent) {
                INFO(prefix.view());
                REQUIRE(detail::icontains_ascii(prefix.view(), header_name(field)));
            }
        }
    }
}
