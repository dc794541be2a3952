// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
#ifndef DISCORD_RATELIMIT_BUCKET_REGISTRY_HPP
#define DISCORD_RATELIMIT_BUCKET_REGISTRY_HPP

/// @file
/// Which bucket a request belongs to: route key -> bucket hash (learned from responses) and
/// (bucket hash, major parameter) -> bucket state, with idle eviction for bounded memory, over a
/// store interface (`memory_store` by default).

#include <discord_ratelimit/clock.hpp>
#include <discord_ratelimit/discord_bucket.hpp>
#include <discord_ratelimit/headers.hpp>
#include <discord_ratelimit/route.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

namespace discord_ratelimit {

/// Identifies one bucket state: a learned bucket hash, or, while a route's hash is still unknown,
/// the route key itself (`provisional`), together with the major parameter.
struct bucket_id {
    std::uint64_t key = 0;
    major_parameter major{};
    bool provisional = false;

    friend bool operator==(const bucket_id&, const bucket_id&) = default;

    std::size_t hash() const noexcept
    {
        std::uint64_t h = key ^ (static_cast<std::uint64_t>(major.hash()) * 0x9E3779B97F4A7C15ULL);
        return static_cast<std::size_t>(provisional ? ~h : h);
    }
};

/// The hash of a bucket hash string, as used in `bucket_id::key` (64-bit FNV-1a).
inline std::uint64_t bucket_key_of(const bucket_hash& h) noexcept
{
    std::uint64_t value = 0xCBF29CE484222325ULL;
    for (const char c : h.view()) {
        value ^= static_cast<unsigned char>(c);
        value *= 0x100000001B3ULL;
    }
    return value;
}

/// A bucket's state plus the engine's per-bucket queue of waiting tickets.
template <clock Clock>
struct bucket_entry {
    static constexpr std::uint32_t no_ticket = 0xFFFF'FFFFU;

    discord_bucket<Clock> state;
    std::uint32_t queue_head = no_ticket; ///< first waiting ticket (FIFO), owned by the engine
    std::uint32_t queue_tail = no_ticket;
    std::uint32_t queued = 0;
    typename Clock::time_point wake_at{}; ///< a timer to look at the queue again is pending then
    bool dirty = false;                   ///< the engine must look at its queue again
    bool waiting_global = false;          ///< its queue waits for a global slot
    bool waiting_probe = false; ///< its queue waits for a probe on its major parameter to end
};

/// What the registry knows of a route key.
template <clock Clock>
struct route_entry {
    bucket_hash hash;
    typename Clock::time_point confirmed_at{}; ///< the last response that named this hash
    typename Clock::time_point last_used{};
};

/// The default store: two hash maps in memory.
///
/// A store owns the bucket entries and route entries and nothing else; all rules live in the engine
/// and `discord_bucket`, so a shared store can replace it. A store must keep references to its
/// entries valid until they are erased.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
template <clock Clock>
class memory_store {
public:
    using bucket_type = bucket_entry<Clock>;
    using route_type = route_entry<Clock>;

    bucket_type* find_bucket(const bucket_id& id)
    {
        const auto it = buckets_.find(id);
        return it == buckets_.end() ? nullptr : &it->second;
    }
    bucket_type& bucket(const bucket_id& id) { return buckets_[id]; }
    void erase_bucket(const bucket_id& id) { buckets_.erase(id); }
    template <class Predicate>
    std::size_t erase_buckets_if(Predicate&& p)
    {
        std::size_t erased = 0;
        for (auto it = buckets_.begin(); it != buckets_.end();) {
            if (p(it->first, it->second)) {
                it = buckets_.erase(it);
                ++erased;
            } else {
                ++it;
            }
        }
        return erased;
    }
    std::size_t bucket_count() const noexcept { return buckets_.size(); }

    route_type* find_route(const route_key& key)
    {
        const auto it = routes_.find(key);
        return it == routes_.end() ? nullptr : &it->second;
    }
    route_type& add_route(const route_key& key, const route_type& value)
    {
        return routes_.insert_or_assign(key, value).first->second;
    }
    template <class Predicate>
    std::size_t erase_routes_if(Predicate&& p)
    {
        return std::erase_if(routes_, [&](auto& item) { return p(item.first, item.second); });
    }
    std::size_t route_count() const noexcept { return routes_.size(); }

private:
    struct id_hasher {
        std::size_t operator()(const bucket_id& id) const noexcept { return id.hash(); }
    };
    struct key_hasher {
        std::size_t operator()(const route_key& k) const noexcept { return k.hash(); }
    };
    std::unordered_map<bucket_id, bucket_type, id_hasher> buckets_;
    std::unordered_map<route_key, route_type, key_hasher> routes_;
};

/// Maps routes to bucket states.
///
/// A route whose hash is unknown gets a provisional bucket of its own (keyed by route key and major
/// parameter) that admits a single probe; when the probe's response names the hash, the engine
/// moves the provisional bucket's waiters into the shared (hash, major) bucket, so one bucket never
/// has two queues. A learned hash is forgotten when no response confirmed it for `hash_lifetime`,
/// or when the route was not used for `route_idle`; a bucket state is forgotten when it has been
/// idle for `bucket_idle` with nothing queued or in flight.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
template <clock Clock, class Store = memory_store<Clock>>
class bucket_registry {
public:
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;
    using entry_type = typename Store::bucket_type;

    struct config {
        duration hash_lifetime = std::chrono::duration_cast<duration>(std::chrono::hours{24});
        duration route_idle = std::chrono::duration_cast<duration>(std::chrono::hours{1});
        duration bucket_idle = std::chrono::duration_cast<duration>(std::chrono::minutes{5});
    };

    /// How a response changed what the registry knows of a route.
    enum class learned : std::uint8_t { unchanged, discovered, changed };

    struct learn_result {
        learned what = learned::unchanged;
        std::optional<bucket_hash> before; ///< the previous hash when `changed`
        bucket_id bucket;                  ///< where the route's requests go from now on
    };

    bucket_registry() = default;
    explicit bucket_registry(config c)
        : config_{c}
    {
    }

    /// The bucket a request on `r` goes to now.
    bucket_id resolve(const route& r, time_point now)
    {
        if (auto* known = store_.find_route(r.key)) {
            known->last_used = now;
            return {bucket_key_of(known->hash), r.major, false};
        }
        return {r.key.hash(), r.major, true};
    }

    /// A response on `r` named bucket `hash`.
    learn_result learn(const route& r, const bucket_hash& hash, time_point now)
    {
        learn_result result;
        result.bucket = {bucket_key_of(hash), r.major, false};
        auto* known = store_.find_route(r.key);
        if (!known) {
            result.what = learned::discovered;
            known = &store_.add_route(r.key, route_entry<Clock>{hash, now, now});
        } else if (!(known->hash == hash)) {
            result.what = learned::changed;
            result.before = known->hash;
        }
        known->hash = hash;
        known->confirmed_at = now;
        known->last_used = now;
        return result;
    }

    entry_type& bucket(const bucket_id& id) { return store_.bucket(id); }
    entry_type* find_bucket(const bucket_id& id) { return store_.find_bucket(id); }
    void erase_bucket(const bucket_id& id) { store_.erase_bucket(id); }

    /// Forgets idle buckets and stale route hashes. `keep(id, entry)` may veto a bucket's eviction.
    template <class Keep>
    void evict(time_point now, Keep&& keep)
    {
        store_.erase_buckets_if([&](const bucket_id& id, entry_type& e) {
            return e.queued == 0 && e.state.idle(now) &&
                   now - e.state.last_used() >= config_.bucket_idle && !keep(id, e);
        });
        store_.erase_routes_if([&](const route_key&, const route_entry<Clock>& e) {
            return now - e.confirmed_at >= config_.hash_lifetime ||
                   now - e.last_used >= config_.route_idle;
        });
    }

    std::size_t bucket_count() const noexcept { return store_.bucket_count(); }
    std::size_t route_count() const noexcept { return store_.route_count(); }
    const config& settings() const noexcept { return config_; }
    Store& store() noexcept { return store_; }

private:
    config config_{};
    Store store_;
};

} // namespace discord_ratelimit

#endif
