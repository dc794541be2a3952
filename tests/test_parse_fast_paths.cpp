// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#include <discord_ratelimit/response.hpp>

#include "catch.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace discord_ratelimit;

namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

// The same headers behind a lookup that only offers `find`: the parser then searches once per
// field, the way it reads any header_traits specialization it knows nothing more about.
struct find_only_headers {
    header_list pairs;
};

} // namespace

template <>
struct discord_ratelimit::header_traits<find_only_headers> {
    static std::optional<std::string_view> find(const find_only_headers& headers,
                                                std::string_view name) noexcept
    {
        for (const auto& [key, value] : headers.pairs) {
            if (detail::iequals_ascii(key, name))
                return std::string_view(value);
        }
        return std::nullopt;
    }
};

namespace {

bool same_headers(const rate_limit_headers& a, const rate_limit_headers& b)
{
    const auto bucket_text = [](const rate_limit_headers& h) {
        return h.bucket ? std::optional<std::string_view>{h.bucket->view()} : std::nullopt;
    };
    return a.limit == b.limit && a.remaining == b.remaining && a.reset == b.reset &&
           a.reset_after == b.reset_after && bucket_text(a) == bucket_text(b) &&
           a.global == b.global && a.scope == b.scope && a.retry_after == b.retry_after &&
           a.date == b.date && a.via == b.via && a.status == b.status;
}

// Parses `headers` in one pass (a vector, a raw block) and field by field, and checks they agree.
void check_one_pass_agrees(const header_list& headers)
{
    const rate_limit_headers searched = parse_rate_limit_headers(find_only_headers{headers});
    CHECK(same_headers(parse_rate_limit_headers(headers), searched));
    std::string raw = "HTTP/1.1 429 TOO MANY REQUESTS\r\n";
    for (const auto& [name, value] : headers)
        raw += name + ": " + value + "\r\n";
    CHECK(same_headers(parse_rate_limit_headers(raw_header_block{raw}), searched));
}

// Every variant of a name with one byte changed: case flipped, bit 0x20 set or cleared (which
// turns '-' into '\r' or '\x0d' into '-'), or a neighbouring byte.
std::vector<std::string> one_byte_variants(std::string_view name)
{
    std::vector<std::string> variants;
    for (std::size_t i = 0; i < name.size(); ++i) {
        for (const int change : {0x20, 0x01, 0x40, 0x80}) {
            std::string variant{name};
            variant[i] = static_cast<char>(variant[i] ^ change);
            variants.push_back(variant);
        }
    }
    variants.emplace_back(std::string{name} + "x");
    variants.emplace_back(name.substr(0, name.size() - 1));
    variants.emplace_back(std::string{name} + " ");
    return variants;
}

constexpr std::array all_fields{
    header_field::limit,  header_field::remaining, header_field::reset, header_field::reset_after,
    header_field::bucket, header_field::global,    header_field::scope, header_field::retry_after,
    header_field::date,   header_field::via};

} // namespace

TEST_CASE("a header name is recognised in any case, and only the exact name is")
{
    for (const header_field field : all_fields) {
        const std::string_view name = header_name(field);
        std::string upper{name};
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
        std::string alternating{name};
        for (std::size_t i = 0; i < alternating.size(); i += 2)
            alternating[i] = upper[i];
        CHECK(detail::header_field_named(name) == field);
        CHECK(detail::header_field_named(upper) == field);
        CHECK(detail::header_field_named(alternating) == field);
        for (const std::string& variant : one_byte_variants(name)) {
            // Whatever the variant, it names a field exactly when it equals that name without case.
            std::optional<header_field> expected;
            for (const header_field other : all_fields) {
                if (detail::iequals_ascii(variant, header_name(other)))
                    expected = other;
            }
            CHECK(detail::header_field_named(variant) == expected);
        }
    }
    CHECK_FALSE(detail::header_field_named(""));
    CHECK_FALSE(detail::header_field_named("x-ratelimit-"));
    CHECK_FALSE(detail::header_field_named("x-ratelimit-resets")); // 18 like bucket and global
    CHECK_FALSE(detail::header_field_named("x-ratelimit-lemit"));  // 17, no such field
}

TEST_CASE("folded names compare like iequals_ascii at every length up to 24")
{
    const std::string alphabet = "abcdefghijklmnopqrstuvwxyz-0123456789_";
    for (std::size_t size = 0; size <= detail::folded_ascii_name::max_size; ++size) {
        std::string name;
        for (std::size_t i = 0; i < size; ++i)
            name += alphabet[(i * 7 + size) % alphabet.size()];
        const detail::folded_ascii_name folded{name};
        CHECK(folded.matches(name));
        for (const std::string& variant : one_byte_variants(name))
            CHECK(folded.matches(variant) == detail::iequals_ascii(variant, name));
    }
}

TEST_CASE("one pass over the headers reads what one search per field reads")
{
    SECTION("Discord's headers in mixed case")
    {
        check_one_pass_agrees({{"Date", "Sat, 29 Nov 2025 21:04:17 GMT"},
                               {"X-RateLimit-Limit", "5"},
                               {"x-ratelimit-REMAINING", "0"},
                               {"X-RATELIMIT-RESET", "1764450257.640"},
                               {"X-RateLimit-Reset-After", "0.640"},
                               {"X-RateLimit-Bucket", "80c17d2f203122d936070c88c8d10f33"},
                               {"X-RateLimit-Scope", "User"},
                               {"X-RateLimit-Global", "TRUE"},
                               {"Retry-After", "1"},
                               {"VIA", "1.1 google"}});
    }
    SECTION("with duplicates the first occurrence wins, even when it is invalid")
    {
        const header_list headers{
            {"x-ratelimit-limit", "5x"},   {"X-RateLimit-Limit", "5"},
            {"retry-after", "2"},          {"Retry-After", "-1"},
            {"date", "yesterday"},         {"DATE", "Sat, 29 Nov 2025 21:04:17 GMT"},
            {"x-ratelimit-scope", "user"}, {"x-ratelimit-scope", "global"}};
        check_one_pass_agrees(headers);
        const auto parsed = parse_rate_limit_headers(headers);
        CHECK(parsed.status_of(header_field::limit) == field_status::malformed);
        CHECK(parsed.retry_after == std::chrono::seconds{2});
        CHECK(parsed.status_of(header_field::date) == field_status::malformed);
        CHECK(parsed.scope == rate_limit_scope::user);
    }
    SECTION("names that share a prefix or a length with a rate-limit header are not read")
    {
        check_one_pass_agrees({{"x-ratelimit-resets", "1"},
                               {"x-ratelimit-reset-afte", "1"},
                               {"x-ratelimit-reset-after2", "1"},
                               {"x-ratelimit-lemit", "1"},
                               {"x-ratelimit-global ", "true"},
                               {"y-ratelimit-bucket", "abc"},
                               {"x_ratelimit_scope", "user"},
                               {"dates", "Sat, 29 Nov 2025 21:04:17 GMT"},
                               {"vi", "1.1 google"},
                               {"x-ratelimit-reset", "1764450257"}});
    }
    SECTION("every header twice, the second with other values, after unrelated ones")
    {
        header_list headers{{"content-type", "application/json"}, {"cf-ray", "8e9f7c6b5a4d3e2f"}};
        for (const header_field field : all_fields)
            headers.emplace_back(header_name(field), "1");
        for (const header_field field : all_fields)
            headers.emplace_back(header_name(field), "Sat, 29 Nov 2025 21:04:17 GMT");
        check_one_pass_agrees(headers);
    }
}

TEST_CASE("a bucket hash takes visible ASCII only, whatever its position in a word")
{
    for (std::size_t size = 1; size <= bucket_hash::max_size; size += 7) {
        for (std::size_t at = 0; at < size; ++at) {
            for (int byte = 0; byte < 256; ++byte) {
                std::string text(size, 'a');
                text[at] = static_cast<char>(byte);
                const bool visible = byte >= 0x21 && byte <= 0x7E;
                CHECK(bucket_hash::from(text).has_value() == visible);
            }
        }
    }
}

TEST_CASE("an HTTP date with any byte changed is read as the character-by-character rule says")
{
    constexpr std::string_view date = "Sat, 29 Nov 2025 21:04:17 GMT";
    constexpr std::string_view pattern = "aaa, ## aaa #### ##:##:## GMT";
    for (std::size_t at = 0; at < date.size(); ++at) {
        for (int byte = 0; byte < 256; ++byte) {
            std::string text{date};
            text[at] = static_cast<char>(byte);
            const char c = text[at];
            bool expected = pattern[at] == '#'   ? c >= '0' && c <= '9'
                            : pattern[at] == 'a' ? text == date // a changed name is unknown
                                                 : c == pattern[at];
            INFO("position " << at << ", byte " << byte);
            CHECK(detail::lex_imf_fixdate(text).has_value() == expected);
        }
    }
    for (const std::string_view month :
         {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}) {
        std::string text{date};
        text.replace(8, 3, month);
        CHECK(detail::lex_imf_fixdate(text).has_value());
    }
    for (const std::string_view day : {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}) {
        std::string text{date};
        text.replace(0, 3, day);
        CHECK(detail::lex_imf_fixdate(text).has_value());
    }
}

TEST_CASE("short decimals scale exactly as the digit-by-digit rule for long ones does")
{
    // Twenty leading zeros push a number past 19 digits, onto the digit-by-digit path.
    const std::string zeros(20, '0');
    for (const std::string_view number : {"0",
                                          "1",
                                          "5",
                                          "0.640",
                                          "64.57",
                                          "1764450257.640",
                                          "0.0000000001",
                                          "0.00000000001",
                                          "9999999999999999999",
                                          "1844674407370955161",
                                          "18446744073709551615",
                                          "604800",
                                          "604800.000000001",
                                          "123456789.123456789",
                                          "1e3",
                                          "1.5e-3",
                                          "7E+2",
                                          "1e-25",
                                          "1e25",
                                          "0.5e-9",
                                          "12e-11",
                                          "0e400",
                                          "184467440737.09551616e8"}) {
        const auto grammar = detail::decimal_grammar::with_exponent;
        const auto short_literal = detail::lex_decimal(number, grammar);
        const std::string long_number = zeros + std::string{number}; // the literal views it
        const auto long_literal = detail::lex_decimal(long_number, grammar);
        REQUIRE(short_literal);
        REQUIRE(long_literal);
        for (std::int64_t scale = -21; scale <= 21; ++scale) {
            INFO(number << " scaled by 10^" << scale);
            CHECK(short_literal->scaled(scale) == long_literal->scaled(scale));
        }
    }
}

TEST_CASE("a JSON string is read the same wherever its quote, escape or control byte falls")
{
    for (std::size_t at = 0; at < 20; ++at) {
        const std::string before(at, 'm');
        std::vector<std::string> bodies; // the parsed message views its body
        bodies.reserve(16);
        const auto message_of = [&bodies](const std::string& contents) {
            bodies.push_back(R"({"message": ")" + contents + R"(", "retry_after": 1})");
            return parse_rate_limit_body(bodies.back());
        };
        const auto plain = message_of(before + "abcdefghijklmnopqrstuvwxyz");
        CHECK(plain.kind == body_kind::discord_rate_limit);
        CHECK(plain.message == before + "abcdefghijklmnopqrstuvwxyz");
        const auto escaped = message_of(before + R"(\"\\\u00e9\n)" + before);
        CHECK(escaped.kind == body_kind::discord_rate_limit);
        CHECK(escaped.message == before + R"(\"\\\u00e9\n)" + before);
        const auto high_bytes = message_of(before + "\xc3\xa9\xff\x80" + before);
        CHECK(high_bytes.message == before + "\xc3\xa9\xff\x80" + before);
        for (const char control : {'\x00', '\x01', '\n', '\x1f'}) {
            std::string contents = before + "abcdefgh";
            contents.insert(contents.begin() + static_cast<std::ptrdiff_t>(at), control);
            CHECK(message_of(contents).kind == body_kind::malformed_json);
        }
        CHECK(message_of(before + R"(\x)").kind == body_kind::malformed_json);
        // Cut inside the string: no closing quote anywhere after it.
        CHECK(parse_rate_limit_body(R"({"message": ")" + before + "abcdefghij").kind ==
              body_kind::malformed_json);
    }
}

TEST_CASE("JSON numbers keep their grammar with the first character dispatched")
{
    const auto retry_after_of = [](std::string_view number) {
        return parse_rate_limit_body(R"({"message": "m", "retry_after": )" + std::string{number} +
                                     "}");
    };
    CHECK(retry_after_of("NaN").retry_after_status == field_status::not_finite);
    CHECK(retry_after_of("-Infinity").retry_after_status == field_status::not_finite);
    CHECK(retry_after_of("Infinity").retry_after_status == field_status::not_finite);
    CHECK(retry_after_of("1e308").retry_after_status == field_status::out_of_range);
    CHECK(retry_after_of("-0.5").retry_after_status == field_status::negative);
    for (const std::string_view invalid : {"-NaN", "Nan", "Inf", "-", "01", "1.", ".5", "1e", "1e+",
                                           "+1", "t", "nul", "tru", "fals"})
        CHECK(retry_after_of(invalid).kind == body_kind::malformed_json);
    CHECK(retry_after_of("true").kind == body_kind::other_json);
    CHECK(retry_after_of("null").kind == body_kind::other_json);
    CHECK(retry_after_of("0").retry_after == std::chrono::nanoseconds{0});
}
