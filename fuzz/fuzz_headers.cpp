// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Fuzzes the rate-limit header parser: the input as a whole header block (raw text, pairs, a
// lookup-only source and a Beast message must all read the same), and as one value given to each
// field parser, checked against a slow reference of the documented grammar and bounds.
#include <discord_ratelimit/beast_headers.hpp>
#include <discord_ratelimit/headers.hpp>

#include <boost/beast/http/fields.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace drl = discord_ratelimit;
namespace detail = discord_ratelimit::detail;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "fuzz_headers: invariant violated: %s\n", what);
    std::abort();
}

void check(bool condition, const char* what)
{
    if (!condition)
        fail(what);
}

/// A source with `find` only, so that `parse_rate_limit_headers` takes its per-field lookup path.
struct lookup_only {
    std::vector<std::pair<std::string, std::string>> lines;
};

bool same_name(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) {
            return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
        };
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

template <>
struct discord_ratelimit::header_traits<lookup_only> {
    static std::optional<std::string_view> find(const lookup_only& source, std::string_view name)
    {
        for (const auto& [key, value] : source.lines)
            if (same_name(key, name))
                return std::string_view{value};
        return std::nullopt;
    }
};

namespace {

constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t seven_days_ns = 604'800'000'000'000ULL;

/// The reference lexer: sign, digit runs and exponent of a decimal literal, as documented in
/// decimal.hpp, written independently of `lex_decimal`.
struct reference_literal {
    bool negative = false;
    bool not_finite = false;
    std::string digits;     // integer digits then fraction digits
    std::int64_t point = 0; // digits before the point
    std::int64_t exponent = 0;
    bool has_fraction = false;
};

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

std::optional<reference_literal> reference_lex(std::string_view text, bool with_exponent)
{
    reference_literal lit;
    std::size_t i = 0;
    bool signed_text = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
        lit.negative = text[i] == '-';
        signed_text = true;
        ++i;
    }
    const std::string_view rest = text.substr(i);
    if (same_name(rest, "nan") || same_name(rest, "inf") || same_name(rest, "infinity")) {
        lit.not_finite = true;
        return lit;
    }
    if (signed_text && !lit.negative)
        return std::nullopt;
    const std::size_t int_start = i;
    while (i < text.size() && is_digit(text[i]))
        lit.digits += text[i++];
    if (i == int_start)
        return std::nullopt;
    lit.point = static_cast<std::int64_t>(i - int_start);
    if (i < text.size() && text[i] == '.') {
        ++i;
        const std::size_t frac_start = i;
        while (i < text.size() && is_digit(text[i]))
            lit.digits += text[i++];
        if (i == frac_start)
            return std::nullopt;
        lit.has_fraction = true;
    }
    if (with_exponent && i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool negative_exponent = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
            negative_exponent = text[i] == '-';
            ++i;
        }
        const std::size_t exp_start = i;
        for (; i < text.size() && is_digit(text[i]); ++i)
            if (lit.exponent < 1'000'000'000'000'000) // far beyond any input's length
                lit.exponent = lit.exponent * 10 + (text[i] - '0');
        if (i == exp_start)
            return std::nullopt;
        if (negative_exponent)
            lit.exponent = -lit.exponent;
    }
    if (i != text.size())
        return std::nullopt;
    return lit;
}

/// ceil(|value| * 10^scale), saturated at UINT64_MAX: the digits with the point moved.
std::uint64_t reference_scaled(const reference_literal& lit, std::int64_t scale)
{
    const std::int64_t count = static_cast<std::int64_t>(lit.digits.size());
    std::int64_t first = 0;
    while (first < count && lit.digits[static_cast<std::size_t>(first)] == '0')
        ++first;
    if (first == count)
        return 0;
    const std::int64_t point = lit.point + lit.exponent + scale; // digits before the new point
    if (point - first > 20)
        return saturated;
    std::uint64_t value = 0;
    for (std::int64_t i = first; i < point; ++i) {
        const std::uint64_t d =
            i < count ? static_cast<std::uint64_t>(lit.digits[static_cast<std::size_t>(i)] - '0')
                      : 0;
        if (__builtin_mul_overflow(value, std::uint64_t{10}, &value) ||
            __builtin_add_overflow(value, d, &value))
            return saturated;
    }
    for (std::int64_t i = std::max(point, first); i < count; ++i)
        if (lit.digits[static_cast<std::size_t>(i)] != '0')
            return value == saturated ? saturated : value + 1;
    return value;
}

void check_literal(std::string_view text, drl::detail::decimal_grammar grammar)
{
    const bool with_exponent = grammar == drl::detail::decimal_grammar::with_exponent;
    const auto lexed = detail::lex_decimal(text, grammar);
    const auto reference = reference_lex(text, with_exponent);
    check(lexed.has_value() == reference.has_value(), "lex_decimal accepts what the grammar does");
    if (!lexed)
        return;
    check(lexed->negative == reference->negative, "lex_decimal sign");
    check(lexed->not_finite == reference->not_finite, "lex_decimal not_finite");
    if (lexed->not_finite)
        return;
    check(lexed->fraction_digits.empty() == !reference->has_fraction, "lex_decimal fraction");
    for (const std::int64_t scale : {0, 3, 6, 9})
        check(lexed->scaled(scale) == reference_scaled(*reference, scale),
              "decimal_literal::scaled equals the exact value rounded up");
}

/// The status and value a wait parser must give, from the reference.
void check_nanoseconds(std::string_view text,
                       const detail::field_result<std::chrono::nanoseconds>& result,
                       bool with_exponent, std::int64_t unit_exponent, std::uint64_t min,
                       std::uint64_t max)
{
    check(result.value.has_value() == (result.status == drl::field_status::ok),
          "a value is set exactly when the status is ok");
    const auto lit = reference_lex(text, with_exponent);
    drl::field_status expected = drl::field_status::ok;
    std::uint64_t ns = 0;
    if (text.empty())
        expected = drl::field_status::empty;
    else if (!lit)
        expected = drl::field_status::malformed;
    else if (lit->not_finite)
        expected = drl::field_status::not_finite;
    else if (lit->negative)
        expected = drl::field_status::negative;
    else {
        ns = reference_scaled(*lit, 9 - unit_exponent);
        if (ns < min || ns > max)
            expected = drl::field_status::out_of_range;
    }
    check(result.status == expected, "a time field's status follows its grammar and bounds");
    if (result.value) {
        check(result.value->count() >= 0, "a parsed time is not negative");
        check(static_cast<std::uint64_t>(result.value->count()) == ns,
              "a parsed time is exact, rounded up to whole ns");
    }
}

void check_count(std::string_view text)
{
    const auto result = detail::parse_request_count(text);
    check(result.value.has_value() == (result.status == drl::field_status::ok), "count: value/ok");
    const auto lit = reference_lex(text, false);
    drl::field_status expected = drl::field_status::ok;
    std::uint64_t n = 0;
    if (text.empty())
        expected = drl::field_status::empty;
    else if (!lit || lit->not_finite || lit->has_fraction)
        expected = drl::field_status::malformed;
    else if (lit->negative)
        expected = drl::field_status::negative;
    else if ((n = reference_scaled(*lit, 0)) > 1'000'000)
        expected = drl::field_status::out_of_range;
    check(result.status == expected, "a count's status follows its grammar and bounds");
    if (result.value)
        check(*result.value == n && *result.value <= 1'000'000, "a count is exact and bounded");
}

bool visible_ascii(std::string_view s)
{
    for (const char c : s)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E)
            return false;
    return true;
}

constexpr const char* day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// Writes `seconds` since the epoch back as an IMF-fixdate with the day name `day`.
std::string format_imf(std::chrono::seconds seconds, std::string_view day)
{
    const auto days = std::chrono::floor<std::chrono::days>(std::chrono::sys_seconds{seconds});
    const std::chrono::year_month_day ymd{days};
    const std::chrono::hh_mm_ss hms{std::chrono::sys_seconds{seconds} - days};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.3s, %02u %s %04d %02d:%02d:%02d GMT",
                  std::string(day).c_str(), static_cast<unsigned>(ymd.day()),
                  month_names[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buffer;
}

void check_single_value(std::string_view text)
{
    check_literal(text, detail::decimal_grammar::plain);
    check_literal(text, detail::decimal_grammar::with_exponent);
    check_count(text);
    for (const bool ms : {false, true})
        for (const auto grammar :
             {detail::decimal_grammar::plain, detail::decimal_grammar::with_exponent})
            check_nanoseconds(text, detail::parse_wait(text, grammar, ms),
                              grammar == detail::decimal_grammar::with_exponent, ms ? 3 : 0, 0,
                              seven_days_ns);
    check_nanoseconds(text,
                      detail::parse_nanoseconds(text, detail::decimal_grammar::plain, 0,
                                                detail::min_reset_epoch_ns,
                                                detail::max_reset_epoch_ns),
                      false, 0, detail::min_reset_epoch_ns, detail::max_reset_epoch_ns);

    const auto bucket = detail::parse_bucket(text);
    if (text.empty())
        check(bucket.status == drl::field_status::empty, "bucket: empty");
    else if (text.size() > drl::bucket_hash::max_size)
        check(bucket.status == drl::field_status::too_long, "bucket: too long");
    else
        check(bucket.status ==
                  (visible_ascii(text) ? drl::field_status::ok : drl::field_status::invalid_value),
              "bucket: 1 to 64 visible ASCII characters");
    check(bucket.value.has_value() == (bucket.status == drl::field_status::ok), "bucket: value/ok");
    if (bucket.value)
        check(bucket.value->view() == text, "bucket: the hash is the text");

    const auto boolean = detail::parse_boolean(text);
    check(boolean.value.has_value() == (same_name(text, "true") || same_name(text, "false")),
          "global: true or false only");
    const auto scope = detail::parse_scope(text);
    check(scope.value.has_value() ==
              (same_name(text, "user") || same_name(text, "global") || same_name(text, "shared")),
          "scope: user, global or shared only");

    const auto date = detail::parse_http_date(text);
    check(date.value.has_value() == (date.status == drl::field_status::ok), "date: value/ok");
    if (date.value) {
        check(text.size() == 29, "date: an IMF-fixdate is 29 characters");
        // A leap second (":60") is accepted and counts into the next minute: not round-tripped.
        if (text.substr(23, 2) != "60") {
            const std::string again = format_imf(*date.value, text.substr(0, 3));
            check(again == text, "date: the seconds read write back as the same date");
        }
        bool day_ok = false;
        for (const char* d : day_names)
            day_ok = day_ok || text.substr(0, 3) == d;
        check(day_ok, "date: a day name");
    }
}

bool equal(const drl::rate_limit_headers& a, const drl::rate_limit_headers& b)
{
    return a.limit == b.limit && a.remaining == b.remaining && a.reset == b.reset &&
           a.reset_after == b.reset_after && a.bucket == b.bucket && a.global == b.global &&
           a.scope == b.scope && a.retry_after == b.retry_after && a.date == b.date &&
           a.via == b.via && a.status == b.status;
}

void check_sane(const drl::rate_limit_headers& h)
{
    using drl::header_field;
    const auto ok = [&h](header_field f) {
        return h.status_of(f) == drl::field_status::ok;
    };
    check(h.limit.has_value() == ok(header_field::limit), "limit set iff ok");
    check(h.remaining.has_value() == ok(header_field::remaining), "remaining set iff ok");
    check(h.reset.has_value() == ok(header_field::reset), "reset set iff ok");
    check(h.reset_after.has_value() == ok(header_field::reset_after), "reset_after set iff ok");
    check(h.bucket.has_value() == ok(header_field::bucket), "bucket set iff ok");
    check(h.retry_after.has_value() == ok(header_field::retry_after), "retry_after set iff ok");
    check(h.date.has_value() == ok(header_field::date), "date set iff ok");
    check(!h.global || ok(header_field::global), "global only from a valid header");
    check(h.scope == drl::rate_limit_scope::none || ok(header_field::scope), "scope only if ok");
    check(h.via == ok(header_field::via), "via iff a non-empty Via");
    if (h.limit)
        check(*h.limit <= 1'000'000, "limit bounded");
    if (h.remaining)
        check(*h.remaining <= 1'000'000, "remaining bounded");
    for (const auto& wait : {h.reset_after, h.retry_after})
        if (wait)
            check(wait->count() >= 0 && static_cast<std::uint64_t>(wait->count()) <= seven_days_ns,
                  "a wait is finite, 0 to 7 days");
    if (h.reset)
        check(static_cast<std::uint64_t>(h.reset->count()) >= detail::min_reset_epoch_ns,
              "reset after 2014");
    bool errors = false;
    for (const auto s : h.status)
        errors = errors || (s != drl::field_status::absent && s != drl::field_status::ok);
    check(errors == h.has_errors(), "has_errors");
    check(h.has_bucket_info() == (h.limit || h.remaining || h.reset_after), "has_bucket_info");
}

/// The block's "Name: value" lines as the raw parser documents them, read independently.
std::vector<std::pair<std::string, std::string>> split_block(std::string_view text)
{
    std::vector<std::pair<std::string, std::string>> lines;
    std::vector<std::string_view> raw;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        std::string_view line = text.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        raw.push_back(line);
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    // Interim (1xx) responses first: each is a status line, its own lines up to an empty line,
    // and any empty lines after that. Their headers are not the final response's.
    const auto interim = [](std::string_view line) {
        if (line.substr(0, 5) != "HTTP/")
            return false;
        std::size_t at = line.find(' ');
        if (at == std::string_view::npos)
            return false;
        while (at < line.size() && line[at] == ' ')
            ++at;
        const std::string_view code = line.substr(at);
        const auto digit = [](char c) {
            return c >= '0' && c <= '9';
        };
        return code.size() >= 3 && code[0] == '1' && digit(code[1]) && digit(code[2]) &&
               (code.size() == 3 || code[3] == ' ' || code[3] == '\t');
    };
    std::size_t first = 0;
    while (first < raw.size() && interim(raw[first])) {
        ++first;
        while (first < raw.size() && !raw[first].empty())
            ++first;
        while (first < raw.size() && raw[first].empty())
            ++first;
    }
    if (first < raw.size() && raw[first].substr(0, 5) == "HTTP/")
        ++first;
    for (std::size_t i = first; i < raw.size(); ++i) {
        if (raw[i].empty())
            break;
        const std::size_t colon = raw[i].find(':');
        if (colon == std::string_view::npos)
            continue;
        lines.emplace_back(std::string(raw[i].substr(0, colon)),
                           std::string(trim(raw[i].substr(colon + 1))));
    }
    return lines;
}

void check_block(std::string_view text, drl::header_parse_options options)
{
    const auto raw = drl::parse_rate_limit_headers(drl::raw_header_block{text}, options);
    check_sane(raw);
    if (!drl::raw_header_block{text}.has_final_response())
        check(!raw.has_errors() && !raw.has_bucket_info() && !raw.via,
              "a block of interim responses only reads no header");
    const auto lines = split_block(text);
    const auto pairs = drl::parse_rate_limit_headers(lines, options);
    check(equal(raw, pairs), "raw block and name/value pairs read the same");
    const auto looked_up = drl::parse_rate_limit_headers(lookup_only{lines}, options);
    check(equal(raw, looked_up), "one pass and one lookup per field read the same");
    for (std::size_t i = 0; i < drl::header_field_count; ++i) {
        const auto field = static_cast<drl::header_field>(i);
        const auto found = drl::raw_header_block{text}.find(drl::header_name(field));
        check(found.has_value() == (raw.status_of(field) != drl::field_status::absent),
              "a field is absent exactly when no line names it");
    }
    // Beast rejects nothing we feed it here but keeps names as given: the first one inserted wins.
    boost::beast::http::fields beast;
    for (const auto& [name, value] : lines) {
        if (name.empty() || name.find_first_of("\r\n") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos)
            return;
        beast.insert(name, value);
    }
    check(equal(raw, drl::parse_rate_limit_headers(beast, options)), "Beast fields read the same");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text{reinterpret_cast<const char*>(data), size};
    check_block(text, {});
    check_block(text, {.retry_after_in_milliseconds = true});
    // Single values: the whole input, and each line's value.
    if (size <= 256)
        check_single_value(text);
    for (const auto& [name, value] : split_block(text))
        if (value.size() <= 256)
            check_single_value(value);
    return 0;
}
