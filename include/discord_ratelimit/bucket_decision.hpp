// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BUCKET_DECISION_HPP
#define DISCORD_RATELIMIT_BUCKET_DECISION_HPP

/// @file
/// What a client-side bucket (`token_bucket`, `leaky_bucket` and their atomic variants) answers
/// when asked for tokens: `bucket_verdict` and `bucket_decision`.

#include <cstdint>

namespace discord_ratelimit {

/// The three answers a bucket gives to "may I take n tokens now?".
enum class bucket_verdict : std::uint8_t {
    granted, ///< the tokens were taken: go now
    wait,    ///< not enough tokens yet; nothing was taken; `bucket_decision::wait` says how long
    never,   ///< n exceeds the bucket's burst: no amount of waiting can grant it
};

/// A bucket's answer to `try_acquire`: the verdict and, when it is `wait`, for how long.
///
/// `wait` is zero when `granted`. When `wait`, it is exact to the tick of `Duration`: retrying at
/// `now + wait` grants, and retrying one tick earlier does not, unless other callers change the
/// bucket in between. It is `Duration::max()` when `never`, when the tokens would come only after
/// the clock's last time point, and when the wait is longer than `Duration` can hold.
///
/// @par Thread Safety
/// A plain value: distinct objects safe, shared objects safe for reading only.
template <class Duration>
struct bucket_decision {
    bucket_verdict verdict; ///< granted, wait or never
    Duration wait;          ///< zero when granted; else how long until the tokens would be there

    /// True exactly when the tokens were granted.
    explicit operator bool() const noexcept { return verdict == bucket_verdict::granted; }

    /// Member-wise equality, so that two buckets' answers compare directly.
    bool operator==(const bucket_decision&) const = default;
};

} // namespace discord_ratelimit

#endif
