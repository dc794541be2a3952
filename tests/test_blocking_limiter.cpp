#include <discord_ratelimit/blocking_limiter.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <discord_ratelimit/testing/simulated_discord.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

// Threads meet through the limiter itself and through atomics; the fake clock moves only when a
// test moves it. Nothing sleeps and nothing depends on how long anything takes. Catch2 assertions
// run on the main thread only: workers record what they saw, the main thread checks it after join.

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

namespace {

struct blocking_test_clock_tag {};

using clock_type = drl::basic_manual_clock<blocking_test_clock_tag>;
using limiter_type = drl::blocking_limiter<clock_type>;
using result_type = drl::acquire_result<clock_type>;
using test_support::bucket_headers;
using test_support::headers_type;
using server_type = drl::testing::simulated_discord<clock_type>;
using drl::acquire_status;
using drl::completion_status;

static_assert(!drl::waits_in_real_time<clock_type>);
static_assert(drl::waits_in_real_time<std::chrono::steady_clock>);

/// Every test starts its own fake time at the epoch; no thread of an earlier test is left.
clock_type::time_point fresh_clock()
{
    clock_type::reset();
    return clock_type::now();
}

/// Yields until `condition` holds; false if it did not within a generous number of turns (a hang).
template <class Condition>
bool eventually(Condition&& condition)
{
    for (long turn = 0; turn < 50'000'000; ++turn) {
        if (condition())
            return true;
        std::this_thread::yield();
    }
    return condition();
}

const auto send_message = [] {
    return drl::make_route("POST", "/channels/100/messages");
};


headers_type user_429_headers(std::string retry_after)
{
    auto headers = bucket_headers(5, 0, retry_after);
    headers.emplace_back("retry-after", std::move(retry_after));
    headers.emplace_back("x-ratelimit-scope", "user");
    return headers;
}

/// Learns, through one request, that `send_message` is spent until `reset_after` from now.
void exhaust(limiter_type& limiter, std::uint32_t limit, std::string reset_after)
{
    const auto probe = limiter.acquire(send_message());
    REQUIRE(probe.granted());
    const auto c =
        limiter.complete(probe.ticket, 200, bucket_headers(limit, 0, std::move(reset_after)), "{}");
    REQUIRE(c.status == completion_status::done);
}

struct wait_recorder : drl::engine_observer {
    std::vector<std::chrono::nanoseconds> waits; // written under the limiter's lock
    void on_waited(const drl::route&, std::chrono::nanoseconds waited, drl::wait_reason) override
    {
        waits.push_back(waited);
    }
};

/// The worker threads of one test. If the test fails while a worker is still blocked (a lost
/// wake-up shows as one), leaving the scope shuts the limiter down and joins: a failure, not a hang
/// or `std::terminate`.
template <class Limiter>
class worker_pool {
public:
    explicit worker_pool(Limiter& limiter)
        : limiter_{limiter}
    {
    }
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;
    ~worker_pool()
    {
        if (std::any_of(threads_.begin(), threads_.end(), [](auto& t) { return t.joinable(); })) {
            limiter_.shutdown();
            join();
        }
    }

    template <class Work>
    void spawn(Work work)
    {
        threads_.emplace_back([this, work = std::move(work)]() mutable {
            work();
            ++finished_;
        });
    }

    /// How many workers returned from their work.
    int finished() const noexcept { return finished_.load(); }

    /// Waits (by yielding) until `n` workers returned; false if they did not.
    bool finish(int n)
    {
        return eventually([&] { return finished() >= n; });
    }

    void join()
    {
        for (auto& t : threads_)
            if (t.joinable())
                t.join();
    }

private:
    Limiter& limiter_;
    std::vector<std::thread> threads_;
    std::atomic<int> finished_{0};
};

} // namespace

// The real-time waiting path compiles (and is instantiated in full) for a standard clock.
template class drl::blocking_limiter<std::chrono::steady_clock>;

TEST_CASE("a granted acquire returns at once and completes", "[blocking_limiter]")
{
    fresh_clock();
    limiter_type limiter;
    const auto r = limiter.acquire(send_message());
    REQUIRE(r.granted());
    const auto c = limiter.complete(r.ticket, 200, bucket_headers(5, 4, "5"), "{}");
    CHECK(c.status == completion_status::done);
    CHECK(limiter.stats().succeeded == 1);
    CHECK(limiter.stats().live_tickets == 0);
    CHECK(limiter.waiting_threads() == 0);
}

TEST_CASE("a steady_clock limiter grants an idle route at once", "[blocking_limiter]")
{
    drl::blocking_limiter<std::chrono::steady_clock> limiter;
    const auto r = limiter.acquire(send_message());
    REQUIRE(r.granted());
    CHECK(limiter.complete(r.ticket, drl::transport_error::connect_failed).status ==
          completion_status::retry);
    CHECK(limiter.cancel(r.ticket) == std::error_code{});
    CHECK(limiter.stats().live_tickets == 0);
}

TEST_CASE("a thread waiting for a response in flight is released by its complete, no clock move",
          "[blocking_limiter]")
{
    fresh_clock();
    limiter_type limiter;
    // The bucket is unknown: one probe at a time.
    const auto probe = limiter.acquire(send_message());
    REQUIRE(probe.granted());
    result_type second;
    worker_pool pool{limiter};
    pool.spawn([&] { second = limiter.acquire(send_message()); });
    REQUIRE(eventually([&] { return limiter.waiting_threads() == 1; }));

    limiter.complete(probe.ticket, 200, bucket_headers(5, 4, "5"), "{}");
    REQUIRE(pool.finish(1));
    pool.join();
    CHECK(second.granted());
    CHECK(second.ticket != probe.ticket);
    CHECK(limiter.cancel(second.ticket) == std::error_code{});
}

TEST_CASE("threads blocked on an exhausted bucket are released in FIFO order after the reset",
          "[blocking_limiter]")
{
    fresh_clock();
    limiter_type limiter;
    exhaust(limiter, 3, "1");

    constexpr int waiters = 7;
    std::mutex order_mutex;
    std::vector<int> order;
    worker_pool pool{limiter};
    for (int i = 0; i < waiters; ++i) {
        pool.spawn([&, i] {
            const auto r = limiter.acquire(send_message());
            if (!r.granted())
                return;
            {
                const std::lock_guard lock{order_mutex};
                order.push_back(i);
            }
            limiter.complete(r.ticket, 200, bucket_headers(3, 0, "1"), "{}");
        });
        // Thread i queues only once thread i - 1 blocks: arrival order is thread order.
        REQUIRE(eventually(
            [&] { return limiter.waiting_threads() == static_cast<std::size_t>(i + 1); }));
    }
    CHECK(limiter.stats().granted == 1); // the probe only

    const std::vector<std::vector<int>> waves{{0, 1, 2}, {3, 4, 5}, {6}};
    int released = 0;
    for (const auto& wave : waves) {
        clock_type::advance(1s); // each wave's completions set the next reset 1 s later
        limiter.notify_time_changed();
        released += static_cast<int>(wave.size());
        REQUIRE(pool.finish(released));
        CHECK(limiter.stats().granted == static_cast<std::uint64_t>(1 + released)); // no more
        std::vector<int> got;
        {
            const std::lock_guard lock{order_mutex};
            REQUIRE(order.size() == static_cast<std::size_t>(released));
            got.assign(order.end() - static_cast<std::ptrdiff_t>(wave.size()), order.end());
        }
        std::sort(got.begin(), got.end());
        CHECK(got == wave);
    }
    pool.join();
    CHECK(limiter.stats().succeeded == 1 + waiters);
    CHECK(limiter.stats().live_tickets == 0);
}

TEST_CASE("many threads over many channels finish with zero 429s while the clock moves",
          "[blocking_limiter]")
{
    const auto t0 = fresh_clock();
    server_type::config server_config;
    server_config.routes["POST /channels/{channel_id}/messages"] = {"messages", 5, 1s};
    server_type server{server_config};
    std::mutex server_mutex; // the simulated Discord is single-threaded; arrivals in time order
    limiter_type limiter;

    constexpr int workers = 8;
    constexpr int per_worker = 50;
    constexpr int channels = 20;
    std::vector<int> succeeded(workers, 0);
    std::vector<int> failed(workers, 0);
    worker_pool pool{limiter};
    for (int w = 0; w < workers; ++w) {
        pool.spawn([&, w] {
            for (int i = 0; i < per_worker; ++i) {
                const int channel = 1 + (w * per_worker + i) % channels;
                const auto route =
                    drl::make_route("POST", "/channels/" + std::to_string(channel) + "/messages");
                auto r = limiter.acquire(route);
                drl::completion<clock_type> c;
                c.status = completion_status::retry;
                while (r.granted() && c.status == completion_status::retry) {
                    server_type::reply reply;
                    {
                        const std::lock_guard lock{server_mutex};
                        reply = server.handle(route, clock_type::now());
                    }
                    c = limiter.complete(r.ticket, reply.status, reply.headers, reply.body);
                    if (c.status == completion_status::retry)
                        r = limiter.acquire(r.ticket);
                }
                const bool ok = r.granted() && c.status == completion_status::done;
                ++(ok ? succeeded : failed)[static_cast<std::size_t>(w)];
            }
        });
    }

    // The driver moves time only when every worker is blocked in the limiter or finished: then
    // nothing else can happen until the clock moves.
    const auto all_wait = [&] {
        return limiter.waiting_threads() + static_cast<std::size_t>(pool.finished()) ==
               static_cast<std::size_t>(workers);
    };
    for (int step = 0; pool.finished() < workers; ++step) {
        REQUIRE(step < 100'000);
        REQUIRE(eventually(all_wait));
        clock_type::advance(50ms);
        limiter.notify_time_changed();
    }
    pool.join();

    int total_succeeded = 0;
    for (std::size_t w = 0; w < workers; ++w) {
        CHECK(failed[w] == 0);
        total_succeeded += succeeded[w];
    }
    CHECK(total_succeeded == workers * per_worker);
    CHECK(server.seen().rate_limited() == 0);
    CHECK(server.seen().ok == static_cast<std::uint64_t>(workers * per_worker));
    const auto stats = limiter.stats();
    CHECK(stats.rate_limited_total() == 0);
    CHECK(stats.live_tickets == 0);
    // 400 requests at 5 per second per channel and 50 per second globally: it took virtual time.
    CHECK(clock_type::now() - t0 >= 7s);
}

TEST_CASE("a retry after a user 429 blocks the same ticket until Retry-After has passed",
          "[blocking_limiter]")
{
    const auto t0 = fresh_clock();
    wait_recorder recorder;
    drl::engine_config<clock_type> config;
    config.observer = &recorder;
    limiter_type limiter{config};

    drl::completion<clock_type> first;
    result_type granted, again;
    worker_pool pool{limiter};
    pool.spawn([&] {
        granted = limiter.acquire(send_message());
        if (!granted.granted())
            return;
        first = limiter.complete(
            granted.ticket, 429, user_429_headers("2"),
            R"({"message": "You are being rate limited.", "retry_after": 2.0, "global": false})");
        if (first.status == completion_status::retry)
            again = limiter.acquire(granted.ticket);
    });
    REQUIRE(eventually([&] { return limiter.waiting_threads() == 1 || pool.finished() == 1; }));

    for (int step = 0; step < 100 && pool.finished() == 0; ++step) {
        clock_type::advance(250ms);
        limiter.notify_time_changed();
        // Each step waits for the worker to be blocked again, or to be done.
        REQUIRE(eventually([&] { return limiter.waiting_threads() == 1 || pool.finished() == 1; }));
    }
    REQUIRE(pool.finish(1));
    pool.join();
    REQUIRE(granted.granted());
    CHECK(first.status == completion_status::retry);
    REQUIRE(first.retry_at);
    CHECK(*first.retry_at == t0 + 2s);
    REQUIRE(again.granted());
    CHECK(again.ticket == granted.ticket);
    // The engine granted the retry at its own reading of the clock: not before Retry-After.
    REQUIRE(recorder.waits.size() == 1);
    CHECK(recorder.waits.front() >= 2s);
    limiter.complete(again.ticket, 200, bucket_headers(5, 4, "5"), "{}");
    CHECK(limiter.stats().live_tickets == 0);
}

TEST_CASE("cancel from another thread releases the thread blocked on that ticket",
          "[blocking_limiter]")
{
    fresh_clock();
    limiter_type limiter;
    std::atomic<drl::ticket_id> published{0};
    result_type blocked;
    worker_pool pool{limiter};
    pool.spawn([&] {
        const auto r = limiter.acquire(send_message());
        if (!r.granted())
            return;
        const auto c = limiter.complete(r.ticket, 429, user_429_headers("60"), "{}");
        if (c.status != completion_status::retry)
            return;
        published = r.ticket;
        blocked = limiter.acquire(r.ticket);
    });
    REQUIRE(eventually([&] { return limiter.waiting_threads() == 1; }));
    const drl::ticket_id ticket = published.load();
    REQUIRE(ticket != 0);

    CHECK(limiter.cancel(ticket) == std::error_code{});
    REQUIRE(pool.finish(1));
    pool.join();
    CHECK(blocked.status == acquire_status::failed);
    CHECK(blocked.ticket == ticket);
    CHECK(blocked.error == std::errc::operation_canceled);
    CHECK(limiter.stats().live_tickets == 0);
    CHECK(limiter.cancel(ticket) == drl::error::unknown_permit); // it ended
}

TEST_CASE("a stop request releases a blocked acquire of a route", "[blocking_limiter]")
{
    fresh_clock();
    limiter_type limiter;
    exhaust(limiter, 5, "60");
    std::stop_source source;
    result_type blocked;
    worker_pool pool{limiter};
    pool.spawn([&] { blocked = limiter.acquire(send_message(), {}, source.get_token()); });
    REQUIRE(eventually([&] { return limiter.waiting_threads() == 1; }));
    CHECK(limiter.stats().live_tickets == 1);

    source.request_stop();
    REQUIRE(pool.finish(1));
    pool.join();
    CHECK(blocked.status == acquire_status::failed);
    CHECK(blocked.error == std::errc::operation_canceled);
    CHECK(limiter.stats().live_tickets == 0);

    // Already stopped: fails at once, without a ticket.
    const auto late = limiter.acquire(send_message(), {}, source.get_token());
    CHECK(late.error == std::errc::operation_canceled);
    CHECK(late.ticket == 0);
}

TEST_CASE("a blocked request fails with deadline_exceeded once the clock passes its deadline",
          "[blocking_limiter]")
{
    const auto t0 = fresh_clock();
    limiter_type limiter;
    // Unknown bucket: the next request waits for this one's response, with no time to wake at.
    const auto probe = limiter.acquire(send_message());
    REQUIRE(probe.granted());
    drl::request_options<clock_type> options;
    options.deadline = t0 + 1s;
    result_type blocked;
    worker_pool pool{limiter};
    pool.spawn([&] { blocked = limiter.acquire(send_message(), options); });
    REQUIRE(eventually([&] { return limiter.waiting_threads() == 1; }));

    clock_type::advance(1s);
    limiter.notify_time_changed();
    REQUIRE(pool.finish(1));
    pool.join();
    CHECK(blocked.status == acquire_status::failed);
    CHECK(blocked.error == drl::error::deadline_exceeded);
    CHECK(limiter.cancel(probe.ticket) == std::error_code{});
    CHECK(limiter.stats().live_tickets == 0);
}

TEST_CASE("shutdown releases every blocked thread with shut_down; later acquires fail at once",
          "[blocking_limiter]")
{
    fresh_clock();
    limiter_type limiter;
    exhaust(limiter, 5, "60");
    constexpr std::size_t waiters = 4;
    std::vector<result_type> results(waiters);
    worker_pool pool{limiter};
    for (std::size_t i = 0; i < waiters; ++i)
        pool.spawn([&, i] { results[i] = limiter.acquire(send_message()); });
    REQUIRE(eventually([&] { return limiter.waiting_threads() == waiters; }));

    limiter.shutdown();
    REQUIRE(pool.finish(static_cast<int>(waiters)));
    pool.join();
    for (const auto& r : results) {
        CHECK(r.status == acquire_status::failed);
        CHECK(r.error == drl::error::shut_down);
    }
    CHECK(limiter.stats().live_tickets == 0); // their tickets were cancelled
    CHECK(limiter.acquire(send_message()).error == drl::error::shut_down);
    CHECK(limiter.waiting_threads() == 0);
}

TEST_CASE("the destructor shuts down and waits for the threads blocked inside",
          "[blocking_limiter]")
{
    fresh_clock();
    auto owner = std::make_unique<limiter_type>();
    limiter_type* limiter = owner.get(); // the workers never touch `owner`
    exhaust(*limiter, 5, "60");
    constexpr std::size_t waiters = 3;
    std::vector<result_type> results(waiters);
    {
        worker_pool pool{*limiter};
        for (std::size_t i = 0; i < waiters; ++i)
            pool.spawn([&results, limiter, i] { results[i] = limiter->acquire(send_message()); });
        REQUIRE(eventually([&] { return limiter->waiting_threads() == waiters; }));

        owner.reset(); // returns only once no worker is inside a member any more
        pool.join();
    }
    for (const auto& r : results)
        CHECK(r.error == drl::error::shut_down);
}

TEST_CASE("rule: every handler completes once: a second thread acquiring a ticket another thread "
          "waits for fails at once with already_waiting",
          "[blocking_limiter]")
{
    fresh_clock();
    limiter_type limiter;
    std::atomic<drl::ticket_id> published{0};
    result_type first, second;
    worker_pool pool{limiter};
    pool.spawn([&] {
        const auto r = limiter.acquire(send_message());
        if (!r.granted())
            return;
        const auto c = limiter.complete(r.ticket, 429, user_429_headers("2"), "{}");
        if (c.status != completion_status::retry)
            return;
        published = r.ticket;
        first = limiter.acquire(r.ticket);
    });
    REQUIRE(eventually([&] { return limiter.waiting_threads() == 1; }));
    const drl::ticket_id ticket = published.load();
    REQUIRE(ticket != 0);

    pool.spawn([&] { second = limiter.acquire(ticket); });
    CHECK(pool.finish(1)); // at once: it does not block beside the first
    clock_type::advance(2s);
    limiter.notify_time_changed();
    REQUIRE(pool.finish(2));
    pool.join();
    CHECK(second.status == acquire_status::failed);
    CHECK(second.error == drl::error::already_waiting);
    CHECK(second.ticket == ticket);
    REQUIRE(first.granted()); // the first one is not affected
    CHECK(first.ticket == ticket);
    limiter.complete(first.ticket, 200, bucket_headers(5, 4, "5"), "{}");
    CHECK(limiter.stats().live_tickets == 0);
}
