// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// Fuzzes the 429 body parser against a slow recursive reference of what rate_limit_body.hpp and
// json_scanner.hpp document: the classification order, JSON validity (RFC 8259 plus NaN,
// Infinity and -Infinity, nesting up to 64), and the first top-level message, retry_after,
// global and code. Also `body_edits_channel_name_or_topic`, which shares the scanner.
#include <discord_ratelimit/rate_limit_body.hpp>
#include <discord_ratelimit/route.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string_view>

namespace drl = discord_ratelimit;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "fuzz_rate_limit_body: invariant violated: %s\n", what);
    std::abort();
}

void check(bool condition, const char* what)
{
    if (!condition)
        fail(what);
}

enum class kind { string, number, true_literal, false_literal, null, object, array };

struct member {
    bool seen = false;
    kind k = kind::null;
    std::string_view text; // a string's raw contents or a number's token
};

/// A recursive-descent JSON reader written from RFC 8259, with the scanner's documented
/// extensions and depth limit. Records the first occurrence of the four keys of interest.
class reference_json {
public:
    explicit reference_json(std::string_view text)
        : text_(text)
    {
    }

    bool valid()
    {
        skip_ws();
        if (!value(0))
            return false;
        skip_ws();
        return pos_ == text_.size();
    }

    member message, retry_after, global, code, name, topic;

private:
    static constexpr int max_depth = 64;

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }

    void skip_ws()
    {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
            ++pos_;
    }

    bool literal(std::string_view word)
    {
        if (text_.substr(pos_, word.size()) != word)
            return false;
        pos_ += word.size();
        return true;
    }

    static bool hex(char c)
    {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    std::optional<std::string_view> string()
    {
        if (peek() != '"')
            return std::nullopt;
        const std::size_t start = ++pos_;
        while (!at_end()) {
            const char c = text_[pos_];
            if (c == '"') {
                ++pos_;
                return text_.substr(start, pos_ - 1 - start);
            }
            if (static_cast<unsigned char>(c) < 0x20)
                return std::nullopt;
            if (c == '\\') {
                ++pos_;
                if (at_end())
                    return std::nullopt;
                const char e = text_[pos_++];
                if (e == 'u') {
                    for (int i = 0; i < 4; ++i)
                        if (at_end() || !hex(text_[pos_++]))
                            return std::nullopt;
                } else if (std::string_view{"\"\\/bfnrt"}.find(e) == std::string_view::npos) {
                    return std::nullopt;
                }
                continue;
            }
            ++pos_;
        }
        return std::nullopt;
    }

    bool digits()
    {
        const std::size_t start = pos_;
        while (!at_end() && peek() >= '0' && peek() <= '9')
            ++pos_;
        return pos_ > start;
    }

    bool number()
    {
        if (literal("NaN") || literal("Infinity") || literal("-Infinity"))
            return true;
        if (peek() == '-')
            ++pos_;
        if (peek() == '0')
            ++pos_;
        else if (!(peek() >= '1' && peek() <= '9') || !digits())
            return false;
        if (peek() == '.') {
            ++pos_;
            if (!digits())
                return false;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-')
                ++pos_;
            if (!digits())
                return false;
        }
        return true;
    }

    void record(int depth, std::string_view key, kind k, std::string_view token)
    {
        if (depth != 1)
            return;
        const std::pair<std::string_view, member*> slots[] = {
            {"message", &message}, {"retry_after", &retry_after},
            {"global", &global},   {"code", &code},
            {"name", &name},       {"topic", &topic}};
        for (const auto& [wanted, slot] : slots)
            if (key == wanted && !slot->seen)
                *slot = member{true, k, token};
    }

    // `depth`: containers open around this value.
    bool value(int depth, std::string_view key = {}, bool in_object = false)
    {
        const std::size_t start = pos_;
        const char c = peek();
        kind k;
        std::string_view token;
        if (c == '{' || c == '[') {
            if (depth + 1 > max_depth)
                return false;
            k = c == '{' ? kind::object : kind::array;
            if (in_object)
                record(depth, key, k, {});
            ++pos_;
            skip_ws();
            const char close = c == '{' ? '}' : ']';
            if (peek() == close) {
                ++pos_;
                return true;
            }
            for (;;) {
                skip_ws();
                std::string_view member_key;
                if (c == '{') {
                    const auto s = string();
                    if (!s)
                        return false;
                    member_key = *s;
                    skip_ws();
                    if (peek() != ':')
                        return false;
                    ++pos_;
                    skip_ws();
                }
                if (!value(depth + 1, member_key, c == '{'))
                    return false;
                skip_ws();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() == close) {
                    ++pos_;
                    return true;
                }
                return false;
            }
        }
        if (c == '"') {
            const auto s = string();
            if (!s)
                return false;
            k = kind::string;
            token = *s;
        } else if (literal("true")) {
            k = kind::true_literal;
        } else if (literal("false")) {
            k = kind::false_literal;
        } else if (literal("null")) {
            k = kind::null;
        } else if (number()) {
            k = kind::number;
            token = text_.substr(start, pos_ - start);
        } else {
            return false;
        }
        if (in_object)
            record(depth, key, k, token);
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

bool icontains(std::string_view haystack, std::string_view needle)
{
    const auto lower = [](char c) {
        return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
    };
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
        bool match = true;
        for (std::size_t j = 0; j < needle.size() && match; ++j)
            match = lower(haystack[i + j]) == lower(needle[j]);
        if (match)
            return true;
    }
    return false;
}

/// "code" as the header documents it: an integer token without fraction or exponent.
std::optional<std::int64_t> reference_code(std::string_view token)
{
    bool negative = false;
    if (!token.empty() && token[0] == '-') {
        negative = true;
        token.remove_prefix(1);
    }
    if (token.empty())
        return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : token) {
        if (c < '0' || c > '9')
            return std::nullopt;
        if (__builtin_mul_overflow(value, std::uint64_t{10}, &value) ||
            __builtin_add_overflow(value, static_cast<std::uint64_t>(c - '0'), &value))
            return std::nullopt;
    }
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
    return negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
}

void check_body(std::string_view body, drl::header_parse_options options)
{
    const drl::rate_limit_body parsed = drl::parse_rate_limit_body(body, options);
    check(parsed.retry_after.has_value() == (parsed.retry_after_status == drl::field_status::ok),
          "retry_after set iff its status is ok");
    if (parsed.retry_after)
        check(parsed.retry_after->count() >= 0 &&
                  parsed.retry_after->count() <= 604'800'000'000'000LL,
              "retry_after is 0 to 7 days");
    if (!parsed.message.empty())
        check(parsed.message.data() >= body.data() &&
                  parsed.message.data() + parsed.message.size() <= body.data() + body.size(),
              "message views the body");

    const std::size_t start = body.find_first_not_of(" \t\r\n");
    const bool json_like =
        start != std::string_view::npos && (body[start] == '{' || body[start] == '[');
    const bool is_json_kind = parsed.kind == drl::body_kind::discord_rate_limit ||
                              parsed.kind == drl::body_kind::discord_ban ||
                              parsed.kind == drl::body_kind::other_json;
    if (!is_json_kind) {
        check(!parsed.retry_after && !parsed.global && !parsed.code && parsed.message.empty() &&
                  parsed.retry_after_status == drl::field_status::absent,
              "only valid JSON fills the fields");
    }
    if (start == std::string_view::npos) {
        check(parsed.kind == drl::body_kind::empty, "whitespace only is empty");
        return;
    }
    if (!json_like) {
        const auto expected = icontains(body, "error code: 1015") ? drl::body_kind::cloudflare_1015
                              : body[start] == '<'                ? drl::body_kind::html
                                                                  : drl::body_kind::text;
        check(parsed.kind == expected, "non-JSON classification order");
        return;
    }
    reference_json ref{body};
    const bool valid = ref.valid();
    check(valid == is_json_kind, "JSON validity agrees with the reference");
    check(valid || parsed.kind == drl::body_kind::malformed_json, "invalid JSON is malformed_json");
    check(drl::body_edits_channel_name_or_topic(body) ==
              (valid && (ref.name.seen || ref.topic.seen)),
          "body_edits_channel_name_or_topic: a top-level name or topic");
    if (!valid)
        return;

    const bool has_message = ref.message.seen && ref.message.k == kind::string;
    check(parsed.message == (has_message ? ref.message.text : std::string_view{}), "message");
    const bool numeric_retry = ref.retry_after.seen && ref.retry_after.k == kind::number;
    if (!ref.retry_after.seen) {
        check(parsed.retry_after_status == drl::field_status::absent, "retry_after absent");
    } else if (!numeric_retry) {
        check(parsed.retry_after_status == drl::field_status::malformed,
              "retry_after not a number");
    } else {
        const auto wait = drl::detail::parse_wait(ref.retry_after.text,
                                                  drl::detail::decimal_grammar::with_exponent,
                                                  options.retry_after_in_milliseconds);
        check(parsed.retry_after_status == wait.status && parsed.retry_after == wait.value,
              "retry_after read as the number token");
    }
    std::optional<bool> global;
    if (ref.global.seen &&
        (ref.global.k == kind::true_literal || ref.global.k == kind::false_literal))
        global = ref.global.k == kind::true_literal;
    check(parsed.global == global, "global");
    std::optional<std::int64_t> code;
    if (ref.code.seen && ref.code.k == kind::number)
        code = reference_code(ref.code.text);
    check(parsed.code == code, "code");

    drl::body_kind expected = drl::body_kind::other_json;
    if (has_message &&
        ref.message.text.starts_with("You are being blocked from accessing our API temporarily"))
        expected = drl::body_kind::discord_ban;
    else if (has_message && numeric_retry)
        expected = drl::body_kind::discord_rate_limit;
    check(parsed.kind == expected, "JSON classification");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view body{reinterpret_cast<const char*>(data), size};
    check_body(body, {});
    check_body(body, {.retry_after_in_milliseconds = true});
    return 0;
}
