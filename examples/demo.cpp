// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// discord-ratelimit-demo: a realistic bot workload (hundreds of channels, bursts on a few hot ones,
// reactions, edits and deletes, interaction callbacks) through one engine, against the in-process
// simulated Discord, on virtual time: over a minute of traffic runs in milliseconds. It prints
// what happened next to the fastest schedule that can never risk a 429, and writes an SVG timeline
// of every request. To try your own bot's traffic, replace `make_workload` (and `discord_rules` if
// your routes differ) in demo_workload.hpp, which the benchmarks share.
//
// Usage: discord-ratelimit-demo [--seed N] [--svg PATH]

#include "demo_workload.hpp"

#include <discord_ratelimit/discord_ratelimit.hpp>
#include <discord_ratelimit/testing/simulation.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace drl = discord_ratelimit;

namespace {

using namespace demo; // the workload, the rules and the theoretical minimum

// ---- The bot's side: the kinds of request -----------------------------------------------------

enum class request_kind : std::uint8_t {
    message,
    reaction_add,
    reaction_remove,
    message_edit,
    message_delete,
    interaction_callback,
};
constexpr std::size_t kind_count = 6;
constexpr std::array<std::string_view, kind_count> kind_names{
    "message",      "reaction add",   "reaction remove",
    "message edit", "message delete", "interaction callback"};

request_kind kind_of(const drl::route& r)
{
    if (r.global_exempt)
        return request_kind::interaction_callback;
    if (r.reaction)
        return r.method == drl::http_method::put ? request_kind::reaction_add
                                                 : request_kind::reaction_remove;
    switch (r.method) {
    case drl::http_method::patch: return request_kind::message_edit;
    case drl::http_method::delete_: return request_kind::message_delete;
    default: return request_kind::message;
    }
}

// ---- The run ----------------------------------------------------------------------------------

/// Collects the engine's events: from `on_waited`, how long requests of each kind waited for their
/// grant and the last reason why (the engine reports only the requests that waited; the others
/// were granted at once); from `on_rate_limited`, which routes got 429s, to find the cause of any.
class traffic_recorder final : public drl::engine_observer {
public:
    void on_waited(const drl::route& r, std::chrono::nanoseconds waited,
                   drl::wait_reason why) override
    {
        waits_[static_cast<std::size_t>(kind_of(r))].push_back(waited);
        ++reasons_[why];
    }

    void on_rate_limited(const drl::route& r, drl::outcome scope,
                         std::chrono::nanoseconds /*retry_after*/) override
    {
        ++rate_limited_[std::string{r.key.view()} + " (" + std::string{drl::to_string(scope)} +
                        ")"];
    }

    const std::vector<duration>& waits(std::size_t kind) const { return waits_[kind]; }
    const std::map<drl::wait_reason, std::size_t>& reasons() const { return reasons_; }
    /// 429s by "route key (outcome)".
    const std::map<std::string, std::size_t>& rate_limited() const { return rate_limited_; }

private:
    std::array<std::vector<duration>, kind_count> waits_;
    std::map<drl::wait_reason, std::size_t> reasons_;
    std::map<std::string, std::size_t> rate_limited_;
};

// ---- Statistics -------------------------------------------------------------------------------

/// The nearest-rank percentile `p` (1 to 100) of `values`; zero when empty.
duration percentile(std::vector<duration> values, std::size_t p)
{
    if (values.empty())
        return duration::zero();
    std::sort(values.begin(), values.end());
    const std::size_t rank = (p * values.size() + 99) / 100; // ceil(p% of n), at least 1
    return values[rank - 1];
}

/// What one bucket hash did over the run, from the server's windows and arrivals.
struct bucket_usage {
    const bucket_spec* rule = nullptr;
    std::map<std::uint64_t, std::size_t> served; ///< requests served, per major parameter id
    std::map<std::uint64_t, std::size_t> opened; ///< windows opened, per major parameter id
    std::size_t requests = 0;
    std::size_t windows = 0;
    std::uint64_t busiest = 0; ///< the major parameter with the most requests

    std::size_t served_on(std::uint64_t major) const
    {
        const auto it = served.find(major);
        return it == served.end() ? 0 : it->second;
    }
    std::size_t opened_on(std::uint64_t major) const
    {
        const auto it = opened.find(major);
        return it == opened.end() ? 0 : it->second;
    }
    /// The fewest windows these requests fit in: ceil(n / limit) per major parameter.
    std::size_t fewest_windows() const
    {
        std::size_t total = 0;
        for (const auto& [major, n] : served)
            total += (n + rule->limit - 1) / rule->limit;
        return total;
    }
    /// Requests served / (windows opened x limit): 1 when every window was used to the full.
    double utilisation() const
    {
        return windows == 0
                   ? 0.0
                   : static_cast<double>(requests) / (static_cast<double>(windows) * rule->limit);
    }
};

std::vector<bucket_usage> bucket_usages(const server_type& server,
                                        const std::vector<bucket_spec>& rules)
{
    std::vector<bucket_usage> usages(rules.size());
    std::map<std::string, std::size_t, std::less<>> index;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        usages[i].rule = &rules[i];
        index[rules[i].hash] = i;
    }
    for (const auto& a : server.arrivals())
        if (const auto it = index.find(a.hash); it != index.end() && a.status == 200) {
            ++usages[it->second].served[a.major];
            ++usages[it->second].requests;
        }
    for (const auto& w : server.windows())
        if (const auto it = index.find(w.hash); it != index.end()) {
            ++usages[it->second].opened[w.major];
            ++usages[it->second].windows;
        }
    for (auto& u : usages) {
        std::size_t most = 0;
        for (const auto& [major, n] : u.served)
            if (n > most) {
                most = n;
                u.busiest = major;
            }
    }
    return usages;
}

/// How many non-exempt requests arrived in the rolling second ending at each moment the count
/// changes, as Discord counts them: an arrival at t counts in every window (t' - 1 s, t'] that
/// holds t. Returns (time since `start`, count) steps in time order.
std::vector<std::pair<duration, std::uint32_t>> rolling_global_count(const server_type& server,
                                                                     time_point start)
{
    std::vector<std::pair<duration, int>> changes;
    for (const auto& a : server.arrivals())
        if (!a.global_exempt) {
            changes.emplace_back(a.at - start, +1);
            changes.emplace_back(a.at - start + global_window, -1);
        }
    std::sort(changes.begin(), changes.end());
    std::vector<std::pair<duration, std::uint32_t>> steps;
    int count = 0;
    for (std::size_t i = 0; i < changes.size();) {
        const duration at = changes[i].first;
        for (; i < changes.size() && changes[i].first == at; ++i)
            count += changes[i].second;
        steps.emplace_back(at, static_cast<std::uint32_t>(count));
    }
    return steps;
}

/// Everything the printed report and the timeline show.
struct summary {
    std::uint64_t seed = 0;
    std::size_t requests = 0;
    std::array<std::size_t, kind_count> by_kind{};
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    bool hung = false;
    duration wait_p50{};
    duration wait_p99{};
    drl::engine_stats engine{};
    server_type::counters server{};
    std::vector<bucket_usage> buckets;
    std::vector<std::pair<duration, std::uint32_t>> rolling; ///< `rolling_global_count`
    std::uint32_t peak_global = 0;
    duration span{};
    lower_bound minimum;

    double ratio() const { return seconds(span) / seconds(minimum.span); }
};

summary summarise(std::uint64_t seed, const std::vector<drl::route>& work,
                  const std::vector<bucket_spec>& rules, const result_type& result,
                  drl::engine<clock_type>& engine, const server_type& server)
{
    summary s;
    s.seed = seed;
    s.requests = work.size();
    for (const auto& r : work)
        ++s.by_kind[static_cast<std::size_t>(kind_of(r))];
    s.succeeded = result.succeeded;
    s.failed = result.failed;
    s.hung = result.hung;
    s.wait_p50 = percentile(result.waits, 50);
    s.wait_p99 = percentile(result.waits, 99);
    s.engine = engine.stats(result.last_response);
    s.server = server.seen();
    s.buckets = bucket_usages(server, rules);
    s.rolling = rolling_global_count(server, result.started);
    for (const auto& step : s.rolling)
        s.peak_global = std::max(s.peak_global, step.second);
    s.span = result.last_response - result.started;
    s.minimum = theoretical_minimum(work, rules);
    return s;
}

// ---- The printed report -----------------------------------------------------------------------

void print_report(const summary& s, const std::vector<bucket_spec>& rules,
                  const traffic_recorder& events, const std::string& svg_path)
{
    std::printf("discord-ratelimit demo: %zu requests of one bot through one engine, against the "
                "simulated Discord on virtual time\n",
                s.requests);
    std::printf("seed %llu, round trip %s, global limit %s\n\n",
                static_cast<unsigned long long>(s.seed), describe(round_trip).c_str(),
                describe_rate(global_limit, global_window).c_str());

    std::printf("%-22s %-13s %s\n", "bucket (simulated)", "limit", "routes");
    for (const auto& rule : rules)
        for (std::size_t i = 0; i < rule.routes.size(); ++i)
            std::printf("  %-20s %-13s %s\n", i == 0 ? rule.hash.c_str() : "",
                        i == 0 ? describe_rate(rule.limit, rule.window).c_str() : "",
                        rule.routes[i].c_str());
    std::printf("  (per channel or interaction; interaction callbacks are exempt from the global "
                "limit)\n\n");

    std::printf("%-22s %6s %7s %10s %10s\n", "requests by kind", "count", "waited", "wait p50",
                "wait p99");
    for (std::size_t k = 0; k < kind_count; ++k) {
        // The requests granted at once waited zero: pad the recorded waits with them.
        std::vector<duration> w = events.waits(k);
        const std::size_t waited = w.size();
        w.resize(std::max(w.size(), s.by_kind[k]), duration::zero());
        std::printf("  %-20s %6zu %7zu %8.3f s %8.3f s\n", std::string{kind_names[k]}.c_str(),
                    s.by_kind[k], waited, seconds(percentile(w, 50)), seconds(percentile(w, 99)));
    }
    std::printf("  %-20s %6zu %7llu %8.3f s %8.3f s   (wait: from submission to first send)\n",
                "all", s.requests, static_cast<unsigned long long>(s.engine.waited),
                seconds(s.wait_p50), seconds(s.wait_p99));
    std::printf("succeeded %zu, failed %zu%s\n", s.succeeded, s.failed,
                s.hung ? " (the simulation hung)" : "");
    std::vector<std::pair<std::size_t, drl::wait_reason>> reasons;
    for (const auto& [reason, n] : events.reasons())
        reasons.emplace_back(n, reason);
    std::sort(reasons.rbegin(), reasons.rend()); // the most common first
    std::printf("last reason to wait:");
    for (std::size_t i = 0; i < reasons.size(); ++i)
        std::printf("%s %s %zu", i == 0 ? "" : ",",
                    std::string{drl::to_string(reasons[i].second)}.c_str(), reasons[i].first);
    std::printf("\n\n");

    const auto& by_class = s.engine.rate_limited;
    auto count = [](std::uint64_t n) {
        return static_cast<unsigned long long>(n);
    };
    std::printf("%-22s %6s %7s %7s %10s %11s\n", "429s", "user", "global", "shared", "sub-limit",
                "cloudflare");
    std::printf("  %-20s %6llu %7llu %7s %10s %11s\n", "seen by the server",
                count(s.server.user_429), count(s.server.global_429), "-", "-", "-");
    std::printf("  %-20s %6llu %7llu %7llu %10llu %11llu\n", "seen by the engine",
                count(by_class[0]), count(by_class[1]), count(by_class[2]), count(by_class[3]),
                count(by_class[4]));
    for (const auto& [route, n] : events.rate_limited())
        std::printf("  %zu on %s\n", n, route.c_str());
    std::printf("\n");

    std::printf("%-22s %6s %8s %8s %7s %12s   %s\n", "buckets", "majors", "requests", "windows",
                "fewest", "utilisation", "busiest major: requests, windows");
    for (const auto& b : s.buckets)
        std::printf("  %-20s %6zu %8zu %8zu %7zu %10.1f %%   %s %llu: %zu, %zu\n",
                    b.rule->hash.c_str(), b.served.size(), b.requests, b.windows,
                    b.fewest_windows(), 100.0 * b.utilisation(), b.rule->major_name.c_str(),
                    static_cast<unsigned long long>(b.busiest), b.served_on(b.busiest),
                    b.opened_on(b.busiest));
    std::printf("  utilisation = requests served / (windows opened x limit); fewest = windows the\n"
                "  requests need at the least, ceil(requests / limit) per major parameter\n\n");

    std::printf("peak non-exempt arrivals in a rolling second: %u (limit %u)\n", s.peak_global,
                global_limit);
    std::printf("simulated span       %8.3f s\n", seconds(s.span));
    std::printf("theoretical minimum  %8.3f s   set by the %s\n", seconds(s.minimum.span),
                s.minimum.reason.c_str());
    std::printf("span / minimum       %8.3f\n", s.ratio());
    std::printf(
        "  theoretical minimum: the fastest schedule that never risks a 429, when only a response\n"
        "  tells when a window ends: the largest of (ceil(n / limit) - 1) x (window + RTT) + RTT\n"
        "  over every bucket and major parameter with n requests, and of\n"
        "  (ceil(N / %u) - 1) x (1 s + RTT) + RTT for the N non-exempt requests (a request goes\n"
        "  1 s after the response of the one %u requests before it)\n",
        global_limit, global_limit);
    if (!svg_path.empty())
        std::printf("SVG timeline         %s\n", svg_path.c_str());
}

// ---- The SVG timeline -------------------------------------------------------------------------
//
// Lanes on one axis of simulated seconds, requests counted per 100 ms. The global lane stacks the
// non-exempt requests by bucket and draws, against the global limit, the highest count of
// non-exempt arrivals in a rolling second ending within each 100 ms. Each bucket lane shows its
// busiest major parameter: the windows Discord opened, shaded as high as the requests each one
// counted, under a dashed line at the limit, with the requests per 100 ms as bars. A full window
// reaches the line; nothing crosses it. Plain SVG and CSS, no script: any browser shows it.

constexpr duration bin_width = 100ms;

class timeline_svg {
public:
    timeline_svg(const summary& s, const std::vector<bucket_spec>& rules, const server_type& server,
                 time_point start)
        : summary_{s}
        , rules_{rules}
        , server_{server}
        , start_{start}
    {
        // A tick step giving at most a dozen labels, and an axis that ends on a tick.
        for (const long long step : {1, 2, 5, 10, 15, 30, 60, 120, 300, 600}) {
            tick_ = step;
            if (seconds(s.span) / static_cast<double>(step) <= 12.0)
                break;
        }
        axis_end_ = static_cast<double>(
            (static_cast<long long>(seconds(s.span) / static_cast<double>(tick_)) + 1) * tick_);
        bins_ = static_cast<std::size_t>(axis_end_ / seconds(bin_width)) + 1;
    }

    std::string render() const
    {
        std::ostringstream body;
        body << std::fixed << std::setprecision(1);
        double y = 175;
        const double first_lane = y;
        global_lane(body, y, 230);
        y += 230 + lane_gap;
        for (const auto& usage : summary_.buckets) {
            const double height = usage.served_on(usage.busiest) <= 1 ? 70 : 110;
            bucket_lane(body, usage, y, height);
            y += height + lane_gap;
        }
        const double last_bottom = y - lane_gap;
        markers(body, first_lane, last_bottom);
        const double height = last_bottom + 40;

        std::ostringstream out;
        out << std::fixed << std::setprecision(1);
        out << R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" << width << R"(" height=")"
            << height << R"(" viewBox="0 0 )" << width << ' ' << height << R"(">)" << '\n'
            << "<title>discord-ratelimit demo timeline</title>\n"
            << "<style>text{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,"
               "sans-serif;fill:#333}.title{font-size:20px;font-weight:600}.sub{font-size:13px;"
               "fill:#555}.lane{font-size:14px;font-weight:600}.note{font-size:12px;fill:#666}"
               ".tick{font-size:11px;fill:#777}.grid{stroke:#ececec}.axis{stroke:#999}"
               ".limit{stroke:#d62728;stroke-width:1.5;stroke-dasharray:6 4;fill:none}"
               ".limittext{font-size:12px;fill:#d62728}.rolling{stroke:#222;stroke-width:1.2;"
               "fill:none}.marker{stroke:#555;stroke-dasharray:2 3}.markertext{font-size:11px;"
               "fill:#555}</style>\n"
            << R"(<rect width="100%" height="100%" fill="#fff"/>)" << '\n';
        header(out);
        out << body.str() << "</svg>\n";
        return out.str();
    }

private:
    static constexpr double width = 1400;
    static constexpr double left = 70;
    static constexpr double plot_width = 1150; // the rest, on the right, holds the limit labels
    static constexpr double lane_gap = 75;

    double x_of(duration since_start) const
    {
        return left + seconds(since_start) / axis_end_ * plot_width;
    }
    std::size_t bin_of(time_point at) const
    {
        return std::min(static_cast<std::size_t>((at - start_) / bin_width), bins_ - 1);
    }
    /// The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `v`: an axis' top.
    static double round_up(double v)
    {
        double power = 1;
        while (power * 10 < v)
            power *= 10;
        for (const double m : {1.0, 2.0, 2.5, 5.0})
            if (m * power >= v)
                return m * power;
        return 10 * power;
    }
    static std::string escape(std::string_view text)
    {
        std::string out;
        for (const char c : text) {
            switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            default: out += c;
            }
        }
        return out;
    }

    void header(std::ostringstream& out) const
    {
        const summary& s = summary_;
        out << R"(<text class="title" x=")" << left << R"(" y="34">discord-ratelimit: )"
            << s.requests << " requests of one bot against the simulated Discord</text>\n";
        std::ostringstream sub;
        sub << std::fixed << std::setprecision(3) << "Virtual time, " << describe(round_trip)
            << " round trip, seed " << s.seed << ". Span " << seconds(s.span)
            << " s; theoretical minimum " << seconds(s.minimum.span) << " s (span / minimum "
            << s.ratio() << "). 429s: " << s.server.rate_limited() << ". Failed: " << s.failed
            << ".";
        out << R"(<text class="sub" x=")" << left << R"(" y="58">)" << escape(sub.str())
            << "</text>\n";
        // The legend: a swatch per bucket, the line, the limit, the window shading, and the 429
        // mark when there is one. Each entry is drawn at its own origin; a full row wraps (room
        // for two rows is left above the first lane).
        double x = left;
        double y = 88;
        auto entry = [&](const std::string& mark, std::string_view label) {
            const double entry_width = 28 + 6.6 * static_cast<double>(label.size()) + 22;
            if (x + entry_width > width - 20) {
                x = left;
                y += 20;
            }
            out << "<g transform=\"translate(" << x << ',' << y << ")\">" << mark
                << R"(<text class="note" x="28">)" << escape(label) << "</text></g>\n";
            x += entry_width;
        };
        for (const auto& rule : rules_)
            entry(R"(<rect y="-10" width="22" height="12" fill=")" + rule.color + R"("/>)",
                  rule.hash);
        entry(R"(<path class="rolling" d="M0 -4h22"/>)", "arrivals in the last second");
        entry(R"(<path class="limit" d="M0 -4h22"/>)", "limit");
        entry(R"(<rect y="-10" width="22" height="12" fill="#777" fill-opacity="0.25"/>)",
              "a window Discord opened (height: requests it counted)");
        if (s.server.rate_limited() > 0)
            entry(R"(<path d="M11 1l-5 -9h10z" fill="#d62728"/>)", "a 429 (when it arrived)");
    }

    /// A lane's title, note, horizontal grid with labels, and time ticks.
    void frame(std::ostringstream& out, double top, double height, double y_max, double y_step,
               const std::string& title, const std::string& note) const
    {
        out << R"(<text class="lane" x=")" << left << R"(" y=")" << top - 34 << R"(">)"
            << escape(title) << "</text>\n";
        out << R"(<text class="note" x=")" << left << R"(" y=")" << top - 16 << R"(">)"
            << escape(note) << "</text>\n";
        const double bottom = top + height;
        for (double v = 0; v <= y_max + 1e-9; v += y_step) {
            const double y = bottom - v / y_max * height;
            out << R"(<path class="grid" d="M)" << left << ' ' << y << 'H' << left + plot_width
                << R"("/><text class="tick" x=")" << left - 8 << R"(" y=")" << y + 4
                << R"(" text-anchor="end">)" << static_cast<long long>(v) << "</text>\n";
        }
        for (long long t = 0; static_cast<double>(t) <= axis_end_; t += tick_) {
            const double x = x_of(std::chrono::seconds{t});
            out << R"(<path class="axis" d="M)" << x << ' ' << bottom << R"(v5"/>)"
                << R"(<text class="tick" x=")" << x << R"(" y=")" << bottom + 18
                << R"(" text-anchor="middle">)" << t << " s</text>\n";
        }
        out << R"(<path class="axis" d="M)" << left << ' ' << bottom << 'H' << left + plot_width
            << "\"/>\n";
    }

    void limit_line(std::ostringstream& out, double y, const std::string& label) const
    {
        out << R"(<path class="limit" d="M)" << left << ' ' << y << 'H' << left + plot_width
            << R"("/><text class="limittext" x=")" << left + plot_width + 8 << R"(" y=")" << y + 4
            << R"(">)" << escape(label) << "</text>\n";
    }

    /// Bars of `counts` (one per 100 ms bin), each stacked on `base`, which they then raise.
    void bars(std::ostringstream& out, const std::vector<std::uint32_t>& counts,
              std::vector<std::uint32_t>& base, double bottom, double scale,
              const std::string& color) const
    {
        // At least 1.5 px wide, so that a burst in one bin stays visible on a long axis.
        const double bar = std::max(x_of(bin_width) - left - 0.2, 1.5);
        out << R"(<g fill=")" << color << R"(">)";
        for (std::size_t i = 0; i < counts.size(); ++i) {
            if (counts[i] == 0)
                continue;
            const double x = x_of(bin_width * static_cast<duration::rep>(i));
            const double y0 = bottom - base[i] * scale;
            out << R"(<rect x=")" << x << R"(" y=")" << y0 - counts[i] * scale << R"(" width=")"
                << bar << R"(" height=")" << counts[i] * scale << R"("/>)";
            base[i] += counts[i];
        }
        out << "</g>\n";
    }

    /// The highest rolling-second count within each bin: the line the global lane draws. Dips
    /// shorter than a bin (between two rounds of the global limit) are not drawn; peaks all are.
    std::vector<std::uint32_t> rolling_peaks() const
    {
        std::vector<std::uint32_t> peaks(bins_, 0);
        std::uint32_t current = 0;
        std::size_t next = 0;
        const auto& steps = summary_.rolling;
        for (std::size_t b = 0; b < bins_; ++b) {
            std::uint32_t most = current;
            const duration bin_end = bin_width * static_cast<duration::rep>(b + 1);
            for (; next < steps.size() && steps[next].first < bin_end; ++next) {
                current = steps[next].second;
                most = std::max(most, current);
            }
            peaks[b] = most;
        }
        return peaks;
    }

    void global_lane(std::ostringstream& out, double top, double height) const
    {
        std::vector<std::vector<std::uint32_t>> counts(rules_.size(),
                                                       std::vector<std::uint32_t>(bins_, 0));
        for (const auto& a : server_.arrivals())
            if (!a.global_exempt)
                for (std::size_t i = 0; i < rules_.size(); ++i)
                    if (rules_[i].hash == a.hash)
                        ++counts[i][bin_of(a.at)];
        const std::vector<std::uint32_t> peaks = rolling_peaks();
        std::uint32_t tallest = global_limit;
        for (std::size_t b = 0; b < bins_; ++b) {
            std::uint32_t stacked = 0;
            for (const auto& c : counts)
                stacked += c[b];
            tallest = std::max({tallest, stacked, peaks[b]});
        }
        const double y_max = 10.0 * static_cast<double>(tallest / 10 + 1); // room above the limit
        const double bottom = top + height;
        const double scale = height / y_max;
        frame(out, top, height, y_max, 10,
              "Global limit: " + describe_rate(global_limit, global_window) +
                  ", every route but interaction callbacks",
              "bars: non-exempt requests arriving per 100 ms, by bucket. Line: the most non-exempt "
              "arrivals in a rolling second ending within each 100 ms (peak " +
                  std::to_string(summary_.peak_global) + ").");
        // The line first, lightly filled below: the bars stand out in front of it.
        std::ostringstream line;
        line << std::fixed << std::setprecision(1) << 'M' << left << ' ' << bottom;
        double last_y = bottom;
        for (std::size_t b = 0; b < bins_; ++b) {
            const double y = bottom - peaks[b] * scale;
            if (y != last_y) {
                line << 'H' << x_of(bin_width * static_cast<duration::rep>(b)) << 'V' << y;
                last_y = y;
            }
        }
        line << 'H' << left + plot_width;
        out << R"(<path d=")" << line.str() << 'V' << bottom
            << R"(Z" fill="#000" fill-opacity="0.05"/>)" << '\n';
        std::vector<std::uint32_t> base(bins_, 0);
        for (std::size_t i = 0; i < rules_.size(); ++i)
            bars(out, counts[i], base, bottom, scale, rules_[i].color);
        out << R"(<path class="rolling" d=")" << line.str() << "\"/>\n";
        limit_line(out, bottom - global_limit * scale, describe_rate(global_limit, global_window));
        // Every 429 the server gave, on any route (there should be none), as a red mark above the
        // limit line at its arrival time.
        out << R"(<g fill="#d62728">)";
        for (const auto& a : server_.arrivals())
            if (a.status == 429)
                out << R"(<path d="M)" << x_of(a.at - start_) << ' ' << top + 12
                    << R"(l-5 -9h10z"/>)";
        out << "</g>\n";
    }

    void bucket_lane(std::ostringstream& out, const bucket_usage& usage, double top,
                     double height) const
    {
        const bucket_spec& rule = *usage.rule;
        const std::size_t busiest = usage.served_on(usage.busiest);
        // One request per major parameter (interactions): the busiest one alone would show a single
        // request, so the lane shows them all, without windows.
        const bool all_majors = busiest <= 1;
        std::vector<std::uint32_t> counts(bins_, 0);
        for (const auto& a : server_.arrivals())
            if (a.hash == rule.hash && (all_majors || a.major == usage.busiest))
                ++counts[bin_of(a.at)];
        const std::uint32_t tallest = *std::max_element(counts.begin(), counts.end());
        const std::string rate = describe_rate(rule.limit, rule.window);
        std::string note;
        for (const auto& key : rule.routes)
            note += (note.empty() ? "" : ",  ") + key;
        const double bottom = top + height;
        if (all_majors) {
            const double y_max = round_up(1.1 * tallest);
            frame(out, top, height, y_max, y_max / 2,
                  rule.hash + ": " + rate + " per " + rule.major_name +
                      ", exempt from the global limit. All " + std::to_string(usage.requests) +
                      " requests (one per " + rule.major_name + ") per 100 ms",
                  note);
            std::vector<std::uint32_t> base(bins_, 0);
            bars(out, counts, base, bottom, height / y_max, rule.color);
            return;
        }
        const double y_max = 1.25 * rule.limit;
        frame(out, top, height, y_max, rule.limit >= 10 ? 5 : 1,
              rule.hash + ": " + rate + " per " + rule.major_name + ". The busiest " +
                  rule.major_name + ", " + std::to_string(busiest) + " requests in " +
                  std::to_string(usage.opened_on(usage.busiest)) + " windows",
              note);
        const double scale = height / y_max;
        out << R"(<g fill=")" << rule.color << R"(" fill-opacity="0.25">)";
        for (const auto& w : server_.windows())
            if (w.hash == rule.hash && w.major == usage.busiest) {
                const double x0 = x_of(w.start - start_);
                const double x1 = std::min(x_of(w.start - start_ + rule.window), left + plot_width);
                out << R"(<rect x=")" << x0 << R"(" y=")" << bottom - w.used * scale
                    << R"(" width=")" << std::max(x1 - x0 - 0.8, 0.8) << R"(" height=")"
                    << w.used * scale << R"("/>)";
            }
        out << "</g>\n";
        std::vector<std::uint32_t> base(bins_, 0);
        bars(out, counts, base, bottom, scale, rule.color);
        limit_line(out, bottom - rule.limit * scale, rate);
    }

    /// Vertical lines across every lane at the theoretical minimum and at the last response.
    void markers(std::ostringstream& out, double top, double bottom) const
    {
        auto marker = [&](duration at, const std::string& label, bool right_of) {
            const double x = x_of(at);
            out << R"(<path class="marker" d="M)" << x << ' ' << top << 'V' << bottom
                << R"("/><text class="markertext" x=")" << (right_of ? x + 4 : x - 4) << R"(" y=")"
                << top + 12 << R"(" text-anchor=")" << (right_of ? "start" : "end") << R"(">)"
                << escape(label) << "</text>\n";
        };
        std::ostringstream minimum;
        minimum << std::fixed << std::setprecision(1) << "theoretical minimum "
                << seconds(summary_.minimum.span) << " s";
        std::ostringstream span;
        span << std::fixed << std::setprecision(1) << "last response " << seconds(summary_.span)
             << " s";
        // The minimum's label on the left of its line, the span's on the right: both fit even
        // when the lines are close.
        marker(summary_.minimum.span, minimum.str(), false);
        marker(summary_.span, span.str(), true);
    }

    const summary& summary_;
    const std::vector<bucket_spec>& rules_;
    const server_type& server_;
    time_point start_;
    long long tick_ = 1;
    double axis_end_ = 1;
    std::size_t bins_ = 1;
};

bool write_file(const std::string& path, const std::string& text)
{
    std::ofstream file{path, std::ios::binary};
    file << text;
    return static_cast<bool>(file.flush());
}

// ---- main -------------------------------------------------------------------------------------

struct options {
    std::uint64_t seed = 1;
    std::string svg = "discord-ratelimit-demo.svg";
};

/// The options, or no value when the command line is not understood.
std::optional<options> parse_options(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--seed" && i + 1 < argc) {
            const char* text = argv[++i];
            char* end = nullptr;
            o.seed = std::strtoull(text, &end, 10);
            if (end == text || *end != '\0')
                return std::nullopt;
        } else if (arg == "--svg" && i + 1 < argc) {
            o.svg = argv[++i];
        } else {
            return std::nullopt;
        }
    }
    return o;
}

} // namespace

int main(int argc, char** argv)
{
    const auto opts = parse_options(argc, argv);
    if (!opts) {
        std::fprintf(stderr,
                     "usage: %s [--seed N] [--svg PATH]\n"
                     "  --seed N    the workload's random seed (default 1)\n"
                     "  --svg PATH  where to write the timeline (default "
                     "discord-ratelimit-demo.svg)\n",
                     argc > 0 ? argv[0] : "discord-ratelimit-demo");
        return 2;
    }
    const std::vector<bucket_spec> rules = discord_rules();
    const std::vector<drl::route> work = routes_of(make_workload(opts->seed));
    if (const auto key = unmatched_route(work, rules)) {
        std::fprintf(stderr, "no rule names the route %s\n", key->c_str());
        return 1;
    }

    server_type server{discord_config(rules)};
    traffic_recorder events;
    drl::engine_config<clock_type> config = engine_settings();
    config.observer = &events;
    drl::engine<clock_type> engine{config};
    const result_type result = run(engine, server, work);

    const summary s = summarise(opts->seed, work, rules, result, engine, server);
    const bool written =
        write_file(opts->svg, timeline_svg{s, rules, server, result.started}.render());
    print_report(s, rules, events, written ? opts->svg : std::string{});

    std::fflush(stdout); // the report first, then any complaint
    const bool matched = all_rules_matched(server);
    const bool ok = s.succeeded == s.requests && s.failed == 0 && !s.hung &&
                    s.engine.rate_limited_total() == 0 && s.server.rate_limited() == 0 && matched;
    if (!matched)
        std::fprintf(stderr, "a request matched no rule: the server answered it by default\n");
    if (!written)
        std::fprintf(stderr, "could not write %s\n", opts->svg.c_str());
    if (!ok)
        std::fprintf(stderr, "FAILED: expected every request to succeed, with no 429\n");
    return ok && written ? 0 : 1;
}
