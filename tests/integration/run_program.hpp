// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_INTEGRATION_RUN_PROGRAM_HPP
#define DISCORD_RATELIMIT_INTEGRATION_RUN_PROGRAM_HPP

/// @file
/// Runs one of the project's programs as a child process (POSIX): feeds its standard input,
/// collects its standard output and error, and kills it if it outlives a deadline, so a hung
/// program fails its test instead of hanging the suite.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace integration {

struct program_result {
    int exit_code = -1;     ///< the exit status, or -1 when killed by a signal
    long max_rss_kib = 0;   ///< the most memory it held at once (its peak resident set), in KiB
    bool timed_out = false; ///< killed for outliving its deadline
    std::string out;
    std::string err;
    int signal = 0;         ///< the signal that killed it (SIGKILL at the deadline), else 0
    /// From the first of `program_run::signals` to the end of its output (its exit); zero without
    /// signals.
    std::chrono::steady_clock::duration after_first_signal{};
};

struct program_run {
    std::vector<std::string> args; ///< args[0] is the program's path
    std::string input;
    /// Environment entries, `NAME=value`, replacing inherited ones of the same name. The rest of
    /// the environment is inherited, except `DISCORD_TOKEN`: a test never hands a real token on.
    std::vector<std::string> env;
    std::chrono::seconds deadline{180};
    /// The child's address space limit (RLIMIT_AS) in bytes, to make its allocations fail; 0 leaves
    /// the inherited limit.
    std::size_t address_space_limit = 0;
    /// Signals sent to the child, each this long after its start (in order of time).
    std::vector<std::pair<std::chrono::milliseconds, int>> signals;
};

namespace detail {

inline void set_nonblocking(int fd)
{
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

struct pipe_pair {
    int fd[2] = {-1, -1};
    pipe_pair()
    {
        if (::pipe2(fd, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string{"pipe2: "} + std::strerror(errno));
    }
    ~pipe_pair() { close_both(); }
    pipe_pair(const pipe_pair&) = delete;
    pipe_pair& operator=(const pipe_pair&) = delete;
    void close_end(int i)
    {
        if (fd[i] >= 0)
            ::close(fd[i]);
        fd[i] = -1;
    }
    void close_both()
    {
        close_end(0);
        close_end(1);
    }
};

} // namespace detail

/// Runs `run.args` with `run.input` on its standard input; returns when it exits (or was killed at
/// the deadline). Throws only when the process cannot be started.
inline program_result run_program(const program_run& run)
{
    detail::pipe_pair in, out, err;
    const auto name_of = [](std::string_view entry) {
        return entry.substr(0, entry.find('='));
    };
    std::vector<std::string> env_strings{run.env};
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry{*e};
        const bool replaced = std::any_of(run.env.begin(), run.env.end(), [&](const auto& mine) {
            return name_of(mine) == name_of(entry);
        });
        if (!replaced && name_of(entry) != "DISCORD_TOKEN")
            env_strings.emplace_back(entry);
    }
    std::vector<char*> argv, envp;
    for (const auto& a : run.args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env_strings)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(std::string{"fork: "} + std::strerror(errno));
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec. It inherits neither the test's
        // sockets (Asio's are not close-on-exec) nor its ignored SIGPIPE.
        ::dup2(in.fd[0], STDIN_FILENO);
        ::dup2(out.fd[1], STDOUT_FILENO);
        ::dup2(err.fd[1], STDERR_FILENO);
        ::close_range(3, ~0U, 0);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGPIPE, &dfl, nullptr);
        if (run.address_space_limit != 0) {
            const rlimit limit{run.address_space_limit, run.address_space_limit};
            if (::setrlimit(RLIMIT_AS, &limit) != 0)
                ::_exit(126);
        }
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    in.close_end(0);
    out.close_end(1);
    err.close_end(1);
    detail::set_nonblocking(in.fd[1]);
    detail::set_nonblocking(out.fd[0]);
    detail::set_nonblocking(err.fd[0]);
    // A child that exits before reading its input must not kill the test with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);

    program_result result;
    std::size_t written = 0;
    if (run.input.empty())
        in.close_end(1);
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + run.deadline;
    std::size_t signalled = 0;
    std::chrono::steady_clock::time_point first_signal;
    char buffer[4096];
    while (out.fd[0] >= 0 || err.fd[0] >= 0) {
        while (signalled < run.signals.size() &&
               std::chrono::steady_clock::now() >= started + run.signals[signalled].first) {
            if (signalled == 0)
                first_signal = std::chrono::steady_clock::now();
            ::kill(pid, run.signals[signalled++].second);
        }
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) {
            ::kill(pid, SIGKILL);
            result.timed_out = true;
            break;
        }
        std::vector<pollfd> fds;
        if (in.fd[1] >= 0)
            fds.push_back({in.fd[1], POLLOUT, 0});
        if (out.fd[0] >= 0)
            fds.push_back({out.fd[0], POLLIN, 0});
        if (err.fd[0] >= 0)
            fds.push_back({err.fd[0], POLLIN, 0});
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
        const long long most = signalled < run.signals.size() ? 10 : 1000; // signals on time
        if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(ms, most) + 1)) <
            0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (const auto& p : fds) {
            if (p.revents == 0)
                continue;
            if (p.fd == in.fd[1]) {
                const auto n =
                    ::write(p.fd, run.input.data() + written, run.input.size() - written);
                if (n > 0)
                    written += static_cast<std::size_t>(n);
                if (n < 0 && errno != EAGAIN)
                    written = run.input.size(); // the child closed its input: stop feeding it
                if (written == run.input.size())
                    in.close_end(1);
                continue;
            }
            const bool is_out = p.fd == out.fd[0];
            const auto n = ::read(p.fd, buffer, sizeof buffer);
            if (n > 0)
                (is_out ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                (is_out ? out : err).close_end(0);
        }
    }
    if (signalled != 0)
        result.after_first_signal = std::chrono::steady_clock::now() - first_signal;
    int status = 0;
    struct rusage usage {};
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    result.max_rss_kib = usage.ru_maxrss;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return result;
}

/// The number after `"key": ` in a one-line JSON object (a program's summary); -1 when absent.
inline double json_number(const std::string& line, std::string_view key)
{
    const std::string quoted = "\"" + std::string{key} + "\":";
    const auto at = line.find(quoted);
    if (at == std::string::npos)
        return -1;
    return std::stod(line.substr(at + quoted.size()));
}

/// The last non-empty line of `text`.
inline std::string last_line(const std::string& text)
{
    auto end = text.find_last_not_of('\n');
    if (end == std::string::npos)
        return {};
    const auto begin = text.rfind('\n', end);
    return text.substr(begin == std::string::npos ? 0 : begin + 1,
                       end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

} // namespace integration

#endif
