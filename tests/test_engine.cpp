#include <discord_ratelimit/engine.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;
using clock_type = drl::manual_clock;
using engine_type = drl::engine<clock_type>;
using drl::acquire_status;
using drl::completion_status;
using test_support::bucket_headers;
using test_support::headers_type;

namespace {

const clock_type::time_point t0{};

drl::route route_of(std::string_view method, std::string_view path)
{
    return drl::make_route(method, path);
}

std::vector<drl::ticket_id> granted_by_advance(engine_type& e, clock_type::time_point now)
{
    std::vector<drl::ticket_id> out;
    e.advance(now, [&](drl::ticket_id id, const drl::acquire_result<clock_type>& r) {
        if (r.granted())
            out.push_back(id);
    });
    return out;
}

struct recording_observer : drl::engine_observer {
    std::vector<std::string> events;
    void on_waited(const drl::route& r, std::chrono::nanoseconds, drl::wait_reason why) override
    {
        events.push_back("waited " + std::string{r.key.view()} + " " +
                         std::string{drl::to_string(why)});
    }
    void on_rate_limited(const drl::route& r, drl::outcome scope, std::chrono::nanoseconds) override
    {
        events.push_back("429 " + std::string{r.key.view()} + " " +
                         std::string{drl::to_string(scope)});
    }
    void on_bucket_discovered(const drl::route& r, const drl::bucket_hash& h) override
    {
        events.push_back("discovered " + std::string{r.key.view()} + " " + std::string{h.view()});
    }
    void on_bucket_changed(const drl::route& r, const drl::bucket_hash& a,
                           const drl::bucket_hash& b) override
    {
        events.push_back("changed " + std::string{r.key.view()} + " " + std::string{a.view()} +
                         "->" + std::string{b.view()});
    }
    void on_invalid_request_warning(std::uint32_t count, std::uint32_t threshold) override
    {
        events.push_back("invalid " + std::to_string(count) + "/" + std::to_string(threshold));
    }
    void on_ban(std::chrono::nanoseconds) override { events.push_back("ban"); }
};

const auto send_message = [] {
    return route_of("POST", "/channels/100/messages");
};

} // namespace

TEST_CASE("a request on an idle route is granted at once and completes", "[engine]")
{
    engine_type e;
    const auto a = e.acquire(send_message(), t0);
    REQUIRE(a.granted());
    const auto c = e.complete(a.ticket, 200, bucket_headers(5, 4, "5"), "{}", t0 + 50ms);
    CHECK(c.status == completion_status::done);
    CHECK(e.stats(t0).succeeded == 1);
    CHECK(e.stats(t0).live_tickets == 0);
}

TEST_CASE("an unknown bucket admits one probe; the others wait for its headers", "[engine]")
{
    engine_type e;
    const auto probe = e.acquire(send_message(), t0);
    REQUIRE(probe.granted());
    const auto second = e.acquire(send_message(), t0);
    REQUIRE(second.status == acquire_status::waiting);
    CHECK(second.reason == drl::wait_reason::unknown_bucket);
    CHECK_FALSE(second.retry_at.has_value()); // waits for the response, not for a time
    CHECK(granted_by_advance(e, t0 + 1h).empty());

    (void)e.complete(probe.ticket, 200, bucket_headers(5, 4, "5"), "{}", t0 + 1h);
    CHECK(granted_by_advance(e, t0 + 1h) == std::vector{second.ticket});
}

TEST_CASE("waiters are released in FIFO order, only as many as the window allows", "[engine]")
{
    engine_type e;
    const auto probe = e.acquire(send_message(), t0);
    (void)e.complete(probe.ticket, 200, bucket_headers(3, 0, "1"), "{}", t0);
    std::vector<drl::ticket_id> order;
    for (int i = 0; i < 7; ++i) {
        const auto w = e.acquire(send_message(), t0);
        REQUIRE(w.status == acquire_status::waiting);
        CHECK(w.reason == drl::wait_reason::bucket_exhausted);
        REQUIRE(w.retry_at);
        CHECK(*w.retry_at == t0 + 1s);
        order.push_back(w.ticket);
    }
    CHECK(e.next_wakeup() == t0 + 1s);
    const auto first = granted_by_advance(e, t0 + 1s);
    CHECK(first == std::vector(order.begin(), order.begin() + 3));
    for (auto id : first)
        (void)e.complete(id, 200, bucket_headers(3, 0, "1"), "{}", t0 + 1s);
    CHECK(granted_by_advance(e, t0 + 1999ms).empty());
    CHECK(granted_by_advance(e, t0 + 2s) == std::vector(order.begin() + 3, order.begin() + 6));
}

TEST_CASE("requests on independent buckets never wait for each other", "[engine]")
{
    engine_type e;
    const auto a = e.acquire(send_message(), t0);
    (void)e.complete(a.ticket, 200, bucket_headers(1, 0, "60"), "{}", t0);
    CHECK(e.acquire(send_message(), t0).status == acquire_status::waiting);
    CHECK(e.acquire(route_of("POST", "/channels/200/messages"), t0).granted());
    CHECK(e.acquire(route_of("GET", "/guilds/300/members"), t0).granted());
}

TEST_CASE("routes with one hash share one state once the hash is learned", "[engine]")
{
    engine_type e;
    const auto edit = route_of("PATCH", "/channels/100/messages/1");
    const auto del = route_of("DELETE", "/channels/100/messages/1");
    const auto p1 = e.acquire(edit, t0);
    const auto p2 = e.acquire(del, t0);
    REQUIRE(p1.granted());
    REQUIRE(p2.granted()); // a different route: its own probe
    // Both turn out to share bucket "shared" with 4 per window; the server counted both.
    (void)e.complete(p1.ticket, 200, bucket_headers(4, 3, "10", "shared"), "{}", t0);
    (void)e.complete(p2.ticket, 200, bucket_headers(4, 2, "10", "shared"), "{}", t0);
    int granted = 0;
    for (int i = 0; i < 6; ++i) {
        const auto& r = i % 2 ? edit : del;
        if (e.acquire(r, t0).granted())
            ++granted;
    }
    CHECK(granted == 2);
    CHECK(e.stats(t0).buckets == 1);
}

TEST_CASE("while a route's hash is learned its requests queue behind the probe, then join the "
          "shared queue in order",
          "[engine]")
{
    engine_type e;
    const auto edit = route_of("PATCH", "/channels/100/messages/1");
    const auto del = route_of("DELETE", "/channels/100/messages/1");
    const auto known = e.acquire(edit, t0);
    (void)e.complete(known.ticket, 200, bucket_headers(2, 1, "10", "shared"), "{}", t0);
    const auto probe = e.acquire(del, t0);
    REQUIRE(probe.granted());
    const auto queued_del = e.acquire(del, t0);
    REQUIRE(queued_del.status == acquire_status::waiting);
    // The probe spent the bucket's last request: the queued delete must wait for the reset.
    (void)e.complete(probe.ticket, 200, bucket_headers(2, 0, "10", "shared"), "{}", t0 + 10ms);
    CHECK(granted_by_advance(e, t0 + 10ms).empty());
    CHECK(granted_by_advance(e, t0 + 10s + 10ms) == std::vector{queued_del.ticket});
}

TEST_CASE("the global limit paces non-exempt routes and lets exempt ones pass", "[engine]")
{
    engine_type e; // 50 per second
    std::vector<drl::ticket_id> granted;
    std::vector<drl::ticket_id> waiting;
    for (int channel = 1; channel <= 60; ++channel) {
        const auto r = e.acquire(route_of("GET", "/channels/" + std::to_string(channel)), t0);
        (r.granted() ? granted : waiting).push_back(r.ticket);
    }
    CHECK(granted.size() == 50);
    CHECK(waiting.size() == 10);
    const auto callback = route_of("POST", "/interactions/5/aW50ZXJhY3Rpb246abc/callback");
    REQUIRE(callback.global_exempt);
    CHECK(e.acquire(callback, t0).granted());

    for (auto id : granted)
        (void)e.complete(id, 200, bucket_headers(5, 4, "5", "channel"), "{}", t0 + 100ms);
    CHECK(
        granted_by_advance(e, t0 + 1099ms).empty()); // a slot is held one second past its response
    CHECK(granted_by_advance(e, t0 + 1100ms).size() == 10);
}

TEST_CASE("a global 429 pauses every non-exempt route for its retry_after", "[engine]")
{
    engine_type e;
    const auto a = e.acquire(send_message(), t0);
    const headers_type global_headers{{"retry-after", "1"},
                                      {"x-ratelimit-global", "true"},
                                      {"x-ratelimit-scope", "global"},
                                      {"via", "1.1 google"}};
    const auto c = e.complete(
        a.ticket, 429, global_headers,
        R"({"global": true, "message": "You are being rate limited.", "retry_after": 0.661})", t0);
    CHECK(c.result == drl::outcome::global_429);
    REQUIRE(c.status == completion_status::retry);
    CHECK(*c.retry_at == t0 + 661ms); // the body's float, not the rounded header
    const auto other = e.acquire(route_of("GET", "/guilds/7"), t0 + 100ms);
    CHECK(other.status == acquire_status::waiting);
    CHECK(other.reason == drl::wait_reason::global_429);
    CHECK(e.acquire(route_of("POST", "/interactions/5/aW50ZXJhY3Rpb246abc/callback"), t0 + 100ms)
              .granted());
    const auto later = granted_by_advance(e, t0 + 661ms);
    CHECK(later.size() == 2); // the retry and the other route
}

TEST_CASE("a shared-scope 429 delays that route and major only, without draining the bucket",
          "[engine]")
{
    engine_type e;
    const auto a = e.acquire(send_message(), t0);
    auto h = bucket_headers(10, 9, "64.57");
    h.emplace_back("retry-after", "1337");
    h.emplace_back("x-ratelimit-scope", "shared");
    const auto c = e.complete(
        a.ticket, 429, h,
        R"({"message": "The resource is being rate limited.", "retry_after": 1336.57, "global": false})",
        t0);
    CHECK(c.result == drl::outcome::shared_429);
    CHECK(*c.retry_at == t0 + 1336570ms);
    CHECK(e.acquire(send_message(), t0).status == acquire_status::waiting);
    CHECK(e.acquire(route_of("POST", "/channels/999/messages"), t0).granted()); // another channel
    CHECK(e.stats(t0).invalid_requests_10min == 0); // not counted as invalid
}

TEST_CASE("a 429 while remaining > 0 is a sub-limit: the route waits, the bucket is not drained",
          "[engine]")
{
    engine_type e;
    const auto a = e.acquire(send_message(), t0);
    auto h = bucket_headers(5, 3, "5");
    h.emplace_back("retry-after", "2");
    const auto c = e.complete(a.ticket, 429, h,
                              R"({"message": "x", "retry_after": 2.0, "global": false})", t0);
    CHECK(c.result == drl::outcome::sublimit_429);
    CHECK(e.stats(t0).invalid_requests_10min == 1);
    const auto w = e.acquire(send_message(), t0);
    CHECK(w.reason == drl::wait_reason::route_blocked);
    const auto retried = granted_by_advance(e, t0 + 2s);
    CHECK(retried.size() == 2);
}

TEST_CASE("a user 429 is retried after Retry-After and counts as invalid", "[engine]")
{
    recording_observer seen;
    engine_type::config_type config;
    config.observer = &seen;
    engine_type e{config};
    const auto a = e.acquire(send_message(), t0);
    auto h = bucket_headers(10, 0, "64.57");
    h.emplace_back("retry-after", "65");
    h.emplace_back("x-ratelimit-scope", "user");
    const auto c = e.complete(
        a.ticket, 429, h,
        R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": false})", t0);
    CHECK(c.result == drl::outcome::user_429);
    CHECK(*c.retry_at == t0 + 64570ms);
    CHECK(e.stats(t0).invalid_requests_10min == 1);
    CHECK(e.stats(t0).rate_limited[0] == 1);
    CHECK(granted_by_advance(e, t0 + 64569ms).empty());
    CHECK(granted_by_advance(e, t0 + 64570ms) == std::vector{a.ticket});
    CHECK(std::find(seen.events.begin(), seen.events.end(),
                    "429 POST /channels/{channel_id}/messages user_429") != seen.events.end());
}

TEST_CASE("a ban stops all traffic for the cool-down and fails with a distinct error", "[engine]")
{
    recording_observer seen;
    engine_type::config_type config;
    config.observer = &seen;
    config.ban_cooldown = 10min;
    engine_type e{config};
    const auto a = e.acquire(send_message(), t0);
    const auto queued = e.acquire(send_message(), t0);
    REQUIRE(queued.status == acquire_status::waiting);

    std::string body;
    headers_type h;
    SECTION("an HTML 429 without Via")
    {
        body = "<html><body>Access denied</body></html>";
    }
    SECTION("error code: 1015 as plain text")
    {
        body = "error code: 1015";
        h.emplace_back("via", "1.1 google");
    }
    const auto c = e.complete(a.ticket, 429, h, body, t0);
    CHECK(c.result == drl::outcome::cloudflare_429);
    CHECK(c.error == drl::error::banned);
    CHECK(seen.events.back() == "ban");
    std::vector<std::error_code> failures;
    e.advance(t0, [&](drl::ticket_id, const drl::acquire_result<clock_type>& r) {
        failures.push_back(r.error);
    });
    CHECK(failures == std::vector<std::error_code>{drl::error::banned});
    const auto refused = e.acquire(route_of("GET", "/guilds/1"), t0 + 9min);
    CHECK(refused.error == drl::error::banned);
    CHECK(refused.wait == 1min);
    CHECK(e.acquire(route_of("GET", "/guilds/1"), t0 + 10min).granted());
}

TEST_CASE("invalid requests warn at thresholds and stop before Cloudflare's 10,000", "[engine]")
{
    recording_observer seen;
    engine_type::config_type config;
    config.observer = &seen;
    config.invalid_request_warnings = {3};
    config.invalid_request_stop = 5;
    engine_type e{config};
    for (int i = 0; i < 5; ++i) {
        const auto a = e.acquire(route_of("GET", "/guilds/" + std::to_string(i + 1)), t0);
        REQUIRE(a.granted());
        (void)e.complete(a.ticket, 403, headers_type{{"via", "1.1 google"}}, "{}", t0);
    }
    CHECK(std::count(seen.events.begin(), seen.events.end(), "invalid 3/3") == 1);
    CHECK(e.acquire(route_of("GET", "/guilds/9"), t0).error == drl::error::invalid_request_limit);
    CHECK(e.acquire(route_of("GET", "/guilds/9"), t0 + 10min).granted());
}

TEST_CASE("5xx answers are retried with exponential backoff and full jitter, up to the maximum of "
          "attempts",
          "[engine]")
{
    engine_type::config_type config;
    config.retry.max_attempts = 3;
    config.retry.initial_backoff = 1s;
    engine_type e{config};
    auto a = e.acquire(route_of("GET", "/guilds/1"), t0);
    auto now = t0;
    const auto c1 = e.complete(a.ticket, 500, headers_type{}, "", now);
    REQUIRE(c1.status == completion_status::retry);
    CHECK(*c1.retry_at - now <= 1s);
    now = *c1.retry_at;
    REQUIRE(e.acquire(a.ticket, now).granted());
    const auto c2 = e.complete(a.ticket, 502, headers_type{}, "", now);
    REQUIRE(c2.status == completion_status::retry);
    CHECK(*c2.retry_at - now <= 2s);
    now = *c2.retry_at;
    REQUIRE(e.acquire(a.ticket, now).granted());
    const auto c3 = e.complete(a.ticket, 503, headers_type{}, "", now);
    CHECK(c3.status == completion_status::failed);
    CHECK(c3.error == drl::error::retries_exhausted);
}

TEST_CASE("a POST that may have reached Discord is not resent unless the caller opts in",
          "[engine]")
{
    engine_type e;
    SECTION("a timeout")
    {
        const auto a = e.acquire(send_message(), t0);
        const auto c = e.complete(a.ticket, drl::transport_error::timeout, t0 + 30s);
        CHECK(c.status == completion_status::failed);
        CHECK(c.error == drl::error::not_resent);
    }
    SECTION("the caller opted in")
    {
        drl::request_options<clock_type> options;
        options.resend_non_idempotent = true;
        const auto a = e.acquire(send_message(), t0, options);
        CHECK(e.complete(a.ticket, drl::transport_error::timeout, t0 + 30s).status ==
              completion_status::retry);
    }
    SECTION("a connection that never opened sent nothing")
    {
        const auto a = e.acquire(send_message(), t0);
        CHECK(e.complete(a.ticket, drl::transport_error::connect_failed, t0).status ==
              completion_status::retry);
    }
    SECTION("a 503: Discord did not take it")
    {
        const auto a = e.acquire(send_message(), t0);
        CHECK(e.complete(a.ticket, 503, headers_type{}, "", t0).status == completion_status::retry);
    }
    SECTION("a GET is always safe to resend")
    {
        const auto a = e.acquire(route_of("GET", "/channels/1/messages"), t0);
        CHECK(e.complete(a.ticket, drl::transport_error::timeout, t0).status ==
              completion_status::retry);
    }
}

TEST_CASE("when the known wait exceeds the maximum wait the request fails at once with the wait",
          "[engine]")
{
    engine_type e;
    const auto a = e.acquire(send_message(), t0);
    (void)e.complete(a.ticket, 200, bucket_headers(5, 0, "30"), "{}", t0);
    drl::request_options<clock_type> options;
    options.max_wait = 10s;
    const auto r = e.acquire(send_message(), t0, options);
    CHECK(r.status == acquire_status::failed);
    CHECK(r.error == drl::error::rate_limited);
    CHECK(r.wait == 30s);
    options.max_wait = 31s;
    CHECK(e.acquire(send_message(), t0, options).status == acquire_status::waiting);
}

TEST_CASE("a waiting request fails when its deadline passes", "[engine]")
{
    engine_type e;
    const auto probe = e.acquire(send_message(), t0);
    REQUIRE(probe.granted());
    drl::request_options<clock_type> options;
    options.deadline = t0 + 5s;
    const auto w = e.acquire(send_message(), t0, options); // waits for the probe: no known wait
    REQUIRE(w.status == acquire_status::waiting);
    CHECK(w.retry_at == t0 + 5s); // ask again at the deadline at the latest
    CHECK(e.next_wakeup() == t0 + 5s);
    std::vector<std::error_code> failed;
    e.advance(t0 + 5s, [&](drl::ticket_id id, const drl::acquire_result<clock_type>& r) {
        CHECK(id == w.ticket);
        failed.push_back(r.error);
    });
    CHECK(failed == std::vector<std::error_code>{drl::error::deadline_exceeded});
}

TEST_CASE("cancelling a waiting ticket lets the next one move up; cancelling a permit returns its "
          "capacity",
          "[engine]")
{
    engine_type e;
    const auto probe = e.acquire(send_message(), t0);
    (void)e.complete(probe.ticket, 200, bucket_headers(2, 1, "10"), "{}", t0);
    const auto held = e.acquire(send_message(), t0);
    REQUIRE(held.granted());
    const auto w1 = e.acquire(send_message(), t0);
    const auto w2 = e.acquire(send_message(), t0);
    REQUIRE(w1.status == acquire_status::waiting);
    CHECK_FALSE(e.cancel(w1.ticket, t0));
    CHECK(e.cancel(w1.ticket, t0) == drl::error::unknown_permit);
    CHECK_FALSE(e.cancel(held.ticket, t0)); // never sent
    CHECK(granted_by_advance(e, t0) == std::vector{w2.ticket});
}

TEST_CASE("a bucket hash that changes moves the route to the new bucket", "[engine]")
{
    recording_observer seen;
    engine_type::config_type config;
    config.observer = &seen;
    engine_type e{config};
    const auto del = route_of("DELETE", "/channels/100/messages/5");
    const auto a = e.acquire(del, t0);
    (void)e.complete(a.ticket, 200, bucket_headers(5, 4, "1", "first"), "{}", t0);
    const auto b = e.acquire(del, t0);
    (void)e.complete(b.ticket, 200, bucket_headers(3, 2, "1", "second"), "{}", t0);
    CHECK(seen.events.back() ==
          "changed DELETE /channels/{channel_id}/messages/{id} first->second");
    int granted = 0;
    while (e.acquire(del, t0).granted())
        ++granted;
    CHECK(granted == 2);
}

TEST_CASE("unversioned paths read Retry-After as milliseconds (API v6)", "[engine]")
{
    engine_type e;
    const auto a = e.acquire(route_of("GET", "/api/channels/1"), t0);
    const headers_type h{{"retry-after", "1500"},
                         {"x-ratelimit-scope", "user"},
                         {"via", "1.1 google"},
                         {"x-ratelimit-remaining", "0"}};
    const auto c = e.complete(a.ticket, 429, h,
                              R"({"message": "x", "retry_after": 1500, "global": false})", t0);
    REQUIRE(c.status == completion_status::retry);
    CHECK(*c.retry_at == t0 + 1500ms);
}

TEST_CASE(
    "rule: old API versions count in milliseconds: a v7 429 with Retry-After 1500 waits 1.5 s",
    "[engine]")
{
    engine_type e;
    const auto a = e.acquire(route_of("POST", "/api/v7/channels/1/messages"), t0);
    const headers_type h{{"retry-after", "1500"},
                         {"x-ratelimit-scope", "user"},
                         {"via", "1.1 google"},
                         {"x-ratelimit-remaining", "0"}};
    const auto c = e.complete(a.ticket, 429, h, "", t0);
    REQUIRE(c.status == completion_status::retry);
    CHECK(*c.retry_at == t0 + 1500ms);
}

TEST_CASE("rule: old API versions count in milliseconds: a v6 global 429 of 661 pauses 0.661 s",
          "[engine]")
{
    engine_type e;
    const auto a = e.acquire(route_of("POST", "/api/v6/channels/1/messages"), t0);
    const headers_type global_headers{{"retry-after", "661"},
                                      {"x-ratelimit-global", "true"},
                                      {"x-ratelimit-scope", "global"},
                                      {"via", "1.1 google"}};
    const auto c = e.complete(
        a.ticket, 429, global_headers,
        R"({"global": true, "message": "You are being rate limited.", "retry_after": 661})", t0);
    CHECK(c.result == drl::outcome::global_429);
    REQUIRE(c.status == completion_status::retry);
    CHECK(*c.retry_at == t0 + 661ms);
    CHECK(e.acquire(route_of("GET", "/guilds/7"), t0 + 100ms).reason ==
          drl::wait_reason::global_429);
    CHECK(granted_by_advance(e, t0 + 661ms).size() == 2); // the retry and the other route
}

TEST_CASE("Reset and Date are used only when Reset-After is absent", "[engine]")
{
    engine_type e;
    const auto a = e.acquire(send_message(), t0);
    const headers_type h{{"x-ratelimit-limit", "1"},
                         {"x-ratelimit-remaining", "0"},
                         {"x-ratelimit-reset", "1470173025.5"},
                         {"date", "Tue, 02 Aug 2016 21:23:43 GMT"}, // 1470173023
                         {"x-ratelimit-bucket", "b"}};
    (void)e.complete(a.ticket, 200, h, "{}", t0);
    const auto w = e.acquire(send_message(), t0);
    REQUIRE(w.retry_at);
    CHECK(*w.retry_at == t0 + 2500ms);
}

TEST_CASE("channel name and topic edits wait out the hidden limit of 2 per 10 minutes", "[engine]")
{
    engine_type e;
    drl::route_options hint;
    hint.edits_channel_name_or_topic = true;
    const auto rename = drl::make_route("PATCH", "/channels/100", hint);
    auto now = t0;
    for (int i = 0; i < 2; ++i) {
        const auto a = e.acquire(rename, now);
        REQUIRE(a.granted());
        (void)e.complete(a.ticket, 200, bucket_headers(10, static_cast<std::uint32_t>(9 - i), "1"), "{}",
                   now);
        now += 1s;
    }
    const auto third = e.acquire(rename, now);
    REQUIRE(third.status == acquire_status::waiting);
    CHECK(third.reason == drl::wait_reason::hidden_limit);
    CHECK(*third.retry_at == t0 + 10min);
    CHECK(
        e.acquire(route_of("PATCH", "/channels/100"), now).granted()); // an edit without name/topic
}

namespace {

/// A rename of channel 100 (a name/topic edit), its bucket (10 per 1 s) already learned by `e`.
drl::route rename_channel_100(engine_type& e)
{
    const auto learn = e.acquire(route_of("PATCH", "/channels/100"), t0);
    (void)e.complete(learn.ticket, 200, bucket_headers(10, 9, "1"), "{}", t0);
    drl::route_options hint;
    hint.edits_channel_name_or_topic = true;
    return drl::make_route("PATCH", "/channels/100", hint);
}

} // namespace

TEST_CASE("the channel edit window counts from each edit's answer, not its send", "[engine]")
{
    // Discord counts an edit when it arrives, which may be as late as its answer: a third edit
    // that travels faster than the first must not land inside Discord's window.
    engine_type e;
    const auto rename = rename_channel_100(e);
    const auto first = e.acquire(rename, t0);
    const auto second = e.acquire(rename, t0);
    REQUIRE(first.granted());
    REQUIRE(second.granted());
    (void)e.complete(second.ticket, 200, bucket_headers(10, 8, "1"), "{}", t0 + 1s);
    (void)e.complete(first.ticket, 200, bucket_headers(10, 7, "1"), "{}", t0 + 3s); // a slow answer
    const auto third = e.acquire(rename, t0 + 5s);
    REQUIRE(third.status == acquire_status::waiting);
    REQUIRE(third.retry_at);
    CHECK(*third.retry_at == t0 + 1s + 10min);
    CHECK(granted_by_advance(e, t0 + 1s + 10min) == std::vector{third.ticket});
}

TEST_CASE("a channel edit answered with a 429 was not made: it leaves the edit count", "[engine]")
{
    engine_type e;
    const auto rename = rename_channel_100(e);
    const auto first = e.acquire(rename, t0);
    REQUIRE(first.granted());
    // Another program used the sub-limit: a 429 while Remaining > 0.
    auto limited = bucket_headers(10, 8, "1");
    limited.emplace_back("retry-after", "2");
    limited.emplace_back("x-ratelimit-scope", "user");
    const auto c = e.complete(first.ticket, 429, limited,
                              R"({"message": "You are being rate limited.", "retry_after": 2.0,
                                  "global": false})",
                              t0 + 10ms);
    REQUIRE(c.status == completion_status::retry);
    const auto second = e.acquire(rename, t0 + 20ms);
    REQUIRE(second.status == acquire_status::waiting);
    // The retry and the second edit are the two edits of the window: both go once it is over.
    const auto granted = granted_by_advance(e, t0 + 2010ms);
    CHECK(granted.size() == 2);
}

TEST_CASE("a granted channel edit that is cancelled does not count", "[engine]")
{
    engine_type e;
    const auto rename = rename_channel_100(e);
    for (int i = 0; i < 2; ++i) {
        const auto a = e.acquire(rename, t0);
        REQUIRE(a.granted());
        CHECK_FALSE(e.cancel(a.ticket, t0));
    }
    CHECK(e.acquire(rename, t0 + 1s).granted());
}

TEST_CASE("idle buckets and hashes are evicted so memory stays bounded", "[engine]")
{
    engine_type::config_type config;
    config.registry.bucket_idle = 1min;
    config.registry.route_idle = 5min;
    config.eviction_interval = 30s;
    engine_type e{config};
    for (int channel = 1; channel <= 40; ++channel) {
        const auto a =
            e.acquire(route_of("POST", "/channels/" + std::to_string(channel) + "/messages"), t0);
        (void)e.complete(a.ticket, 200, bucket_headers(5, 4, "5"), "{}", t0);
    }
    CHECK(e.stats(t0).buckets == 40);
    CHECK(e.stats(t0).routes == 1);
    e.advance(t0 + 2min, [](auto, const auto&) {});
    CHECK(e.stats(t0 + 2min).buckets == 0);
    CHECK(e.stats(t0 + 2min).routes == 1);
    e.advance(t0 + 6min, [](auto, const auto&) {});
    CHECK(e.stats(t0 + 6min).routes == 0);
}

TEST_CASE("no event names a webhook or interaction token", "[engine]")
{
    recording_observer seen;
    engine_type::config_type config;
    config.observer = &seen;
    engine_type e{config};
    const std::string token = "SECRETtoken_abcdefghijklmnopqrstuvwxyz0123456789";
    const auto hook = route_of("POST", "/webhooks/42/" + token);
    const auto a = e.acquire(hook, t0);
    const auto b = e.acquire(hook, t0);
    auto h = bucket_headers(5, 0, "2", "hook");
    h.emplace_back("retry-after", "2");
    (void)e.complete(a.ticket, 429, h, R"({"message": "x", "retry_after": 2, "global": false})", t0);
    e.advance(t0 + 3s, [&](drl::ticket_id, const auto&) {});
    (void)b;
    REQUIRE_FALSE(seen.events.empty());
    for (const auto& event : seen.events)
        CHECK(event.find("SECRET") == std::string::npos);
}

TEST_CASE("the engine is deterministic for a given jitter seed", "[engine]")
{
    auto run = [](std::uint64_t seed) {
        engine_type::config_type config;
        config.jitter_seed = seed;
        engine_type e{config};
        const auto known = e.acquire(route_of("GET", "/guilds/1"), t0);
        (void)e.complete(known.ticket, 200, bucket_headers(5, 4, "5"), "{}", t0);
        const auto a = e.acquire(route_of("GET", "/guilds/1"), t0);
        return *e.complete(a.ticket, 500, headers_type{}, "", t0).retry_at;
    };
    CHECK(run(1) == run(1));
    CHECK(run(1) != run(2));
}

TEST_CASE("an unknown ticket is a clear error", "[engine]")
{
    engine_type e;
    CHECK(e.acquire(drl::ticket_id{12345}, t0).error == drl::error::unknown_permit);
    CHECK(e.complete(drl::ticket_id{12345}, 200, headers_type{}, "", t0).error ==
          drl::error::unknown_permit);
    const auto a = e.acquire(send_message(), t0);
    (void)e.complete(a.ticket, 200, bucket_headers(5, 4, "1"), "{}", t0);
    CHECK(e.complete(a.ticket, 200, bucket_headers(5, 4, "1"), "{}", t0).error ==
          drl::error::unknown_permit);
}

TEST_CASE("a known bucket holds one request back for each probe in flight on its major parameter",
          "[engine]")
{
    engine_type e;
    const auto edit = route_of("PATCH", "/channels/100/messages/1");
    const auto known = e.acquire(edit, t0);
    (void)e.complete(known.ticket, 200, bucket_headers(3, 2, "10", "shared"), "{}", t0);
    // A route never seen on this channel may share the bucket: its probe counts against it.
    const auto probe = e.acquire(route_of("DELETE", "/channels/100/messages/1"), t0);
    REQUIRE(probe.granted());
    CHECK(e.acquire(edit, t0).granted());
    const auto held = e.acquire(edit, t0);
    CHECK(held.status == acquire_status::waiting);
    CHECK(held.reason == drl::wait_reason::unknown_bucket);
    // Another channel is not affected.
    CHECK(e.acquire(route_of("PATCH", "/channels/200/messages/1"), t0).granted());
    // The probe turns out to use another bucket: the held request goes.
    (void)e.complete(probe.ticket, 200, bucket_headers(5, 4, "10", "other"), "{}", t0);
    CHECK(granted_by_advance(e, t0) == std::vector{held.ticket});
}

TEST_CASE("a probe lost to a 5xx holds its unknown bucket, and its own retry, for the pause",
          "[engine]")
{
    engine_type e; // default_retry_after: 1 s
    const auto probe = e.acquire(route_of("GET", "/guilds/1"), t0);
    const auto queued = e.acquire(route_of("GET", "/guilds/1"), t0);
    REQUIRE(queued.status == acquire_status::waiting);
    const auto c = e.complete(probe.ticket, 502, headers_type{}, "", t0);
    REQUIRE(c.status == completion_status::retry);
    CHECK(*c.retry_at == t0 + 1s); // the lost probe may have used the window's only request
    CHECK(granted_by_advance(e, t0 + 999ms).empty());
    CHECK(granted_by_advance(e, t0 + 1s) == std::vector{probe.ticket}); // one probe, the oldest
}

TEST_CASE("4xx answers fail at once with their own error and are never retried", "[engine]")
{
    engine_type e;
    const std::pair<int, drl::error> cases[] = {{401, drl::error::unauthorized},
                                                {403, drl::error::forbidden},
                                                {404, drl::error::not_found},
                                                {400, drl::error::client_error}};
    int guild = 1;
    for (const auto& [status, expected] : cases) {
        const auto a =
            e.acquire(route_of("POST", "/webhooks/" + std::to_string(guild++) + "/tok"), t0);
        REQUIRE(a.granted());
        const auto c = e.complete(a.ticket, status, headers_type{{"via", "1.1 google"}}, "{}", t0);
        CHECK(c.status == completion_status::failed);
        CHECK(c.error == expected);
    }
    CHECK(e.stats(t0).invalid_requests_10min == 2); // 401 and 403 only
    CHECK(e.stats(t0).live_tickets == 0);
}

TEST_CASE("a new hash is reported once as discovered", "[engine]")
{
    recording_observer seen;
    engine_type::config_type config;
    config.observer = &seen;
    engine_type e{config};
    for (int i = 0; i < 2; ++i) {
        const auto a = e.acquire(send_message(), t0 + std::chrono::seconds{i});
        REQUIRE(a.granted());
        (void)e.complete(a.ticket, 200, bucket_headers(5, 4, "1"), "{}", t0 + std::chrono::seconds{i});
    }
    CHECK(std::count(seen.events.begin(), seen.events.end(),
                     "discovered POST /channels/{channel_id}/messages abcd1234") == 1);
}

TEST_CASE("a request granted after waiting is reported as waited, with the reason", "[engine]")
{
    recording_observer seen;
    engine_type::config_type config;
    config.observer = &seen;
    engine_type e{config};
    const auto a = e.acquire(send_message(), t0);
    (void)e.complete(a.ticket, 200, bucket_headers(1, 0, "2"), "{}", t0);
    const auto w = e.acquire(send_message(), t0);
    REQUIRE(w.status == acquire_status::waiting);
    CHECK(granted_by_advance(e, t0 + 2s) == std::vector{w.ticket});
    CHECK(seen.events.back() == "waited POST /channels/{channel_id}/messages bucket_exhausted");
    CHECK(e.stats(t0 + 2s).waited == 1);
}

TEST_CASE("network errors on idempotent requests are retried until the maximum of attempts",
          "[engine]")
{
    engine_type::config_type config;
    config.retry.max_attempts = 2;
    engine_type e{config};
    const auto a = e.acquire(route_of("DELETE", "/channels/1/messages/5"), t0);
    const auto c1 = e.complete(a.ticket, drl::transport_error::network, t0);
    REQUIRE(c1.status == completion_status::retry);
    REQUIRE(e.acquire(a.ticket, *c1.retry_at).granted());
    const auto c2 = e.complete(a.ticket, drl::transport_error::network, *c1.retry_at);
    CHECK(c2.status == completion_status::failed);
    CHECK(c2.error == drl::error::retries_exhausted);
}
