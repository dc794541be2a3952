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

#include <discord_ratelimit/detail/byte_hash.hpp>

#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

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

/// A bucket's state plus the engine's per-bucket queue of waiting tickets: 96 bytes on a 64-bit
/// clock.
template <clock Clock>
struct bucket_entry {
    static constexpr std::uint32_t no_ticket = 0xFFFF'FFFFU;

    discord_bucket<Clock> state;
    typename Clock::time_point wake_at{}; ///< a timer to look at the queue again is pending then
    std::uint32_t queue_head = no_ticket; ///< first waiting ticket (FIFO), owned by the engine
    std::uint32_t queue_tail = no_ticket;
    std::uint32_t queued = 0;
    /// The engine must look at its queue again: 0 no, else how much of it (the engine's
    /// `drain_head` or `drain_walk`).
    std::uint8_t dirty = 0;
    bool waiting_global = false; ///< its queue waits for a global slot
    bool waiting_probe = false;  ///< its queue waits for a probe on its major parameter to end
    /// Queued requests exempt from the global limit, counted up to `exempt_saturated`, which
    /// then stays (a count kept in the entry's last spare byte).
    std::uint8_t exempt_queued = 0;
    static constexpr std::uint8_t exempt_saturated = 0xFF;
};

/// What the registry knows of a route key.
template <clock Clock>
struct route_entry {
    bucket_hash hash;
    std::uint64_t key = 0; ///< `bucket_key_of(hash)`, kept so that resolving never hashes again
    typename Clock::time_point confirmed_at{}; ///< the last response that named this hash
    typename Clock::time_point last_used{};
};

/// The default store: bucket entries in a slab of fixed-size chunks indexed by an open-addressing
/// hash set, and route entries in a hash map.
///
/// A store owns the bucket entries and route entries and nothing else; all rules live in the engine
/// and `discord_bucket`, so a shared store can replace it. A store must keep references to its
/// entries valid until they are erased or until the next `erase_buckets_if`, whichever is first.
///
/// Memory: a live bucket costs its slot (the 96-byte entry plus a 16-byte key: the major
/// parameter's id and a 64-bit hash of everything else in its `bucket_id`) and about 5 to 10 bytes
/// of index. `erase_buckets_if` gives the memory of erased buckets back: once at most half of the
/// slots are live it moves the live entries together and frees the emptied chunks.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe.
template <clock Clock>
class memory_store {
public:
    using bucket_type = bucket_entry<Clock>;
    using route_type = route_entry<Clock>;

    memory_store() = default;
    memory_store(memory_store&&) noexcept = default;
    memory_store& operator=(memory_store&&) noexcept = default;

    bucket_type* find_bucket(const bucket_id& id)
    {
        if (!buckets_)
            return nullptr;
        const auto it = buckets_->index.find(packed_id::of(id));
        return it == buckets_->index.end() ? nullptr : &buckets_->at(*it).entry;
    }
    bucket_type& bucket(const bucket_id& id)
    {
        if (!buckets_)
            buckets_ = std::make_unique<bucket_table>();
        const packed_id key = packed_id::of(id);
        if (const auto it = buckets_->index.find(key); it != buckets_->index.end())
            return buckets_->at(*it).entry;
        return buckets_->insert(key);
    }
    void erase_bucket(const bucket_id& id)
    {
        if (!buckets_)
            return;
        if (const auto it = buckets_->index.find(packed_id::of(id)); it != buckets_->index.end())
            buckets_->erase(it);
    }
    /// Erases the bucket entries for which `p(entry)` is true.
    template <class Predicate>
    std::size_t erase_buckets_if(Predicate&& p)
    {
        if (!buckets_)
            return 0;
        std::size_t erased = 0;
        // Erasing from the index leaves its other iterators valid.
        for (auto it = buckets_->index.begin(); it != buckets_->index.end();) {
            const auto current = it++;
            if (p(buckets_->at(*current).entry)) {
                buckets_->erase(current);
                ++erased;
            }
        }
        if (buckets_->index.empty())
            buckets_.reset();
        else if (erased > 0)
            buckets_->compact_if_sparse();
        return erased;
    }
    std::size_t bucket_count() const noexcept { return buckets_ ? buckets_->index.size() : 0; }

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
        const std::size_t erased =
            std::erase_if(routes_, [&](auto& item) { return p(item.first, item.second); });
        if (routes_.empty())
            routes_ = decltype(routes_){}; // gives the bucket array back (`= {}` would not)
        return erased;
    }
    std::size_t route_count() const noexcept { return routes_.size(); }

private:
    /// A `bucket_id` in 16 bytes: the major parameter's id, which tells most buckets apart, and a
    /// 64-bit hash of the rest (bucket key, major kind and token, provisional or not). Two distinct
    /// ids with one id and one hash would share a bucket, as rarely as two bucket hashes whose
    /// 64-bit `bucket_key_of` collide.
    struct packed_id {
        std::uint64_t rest = 0;
        std::uint64_t id = 0;

        static packed_id of(const bucket_id& b) noexcept
        {
            const std::uint64_t tag = (static_cast<std::uint64_t>(b.major.kind) << 1U) |
                                      static_cast<std::uint64_t>(b.provisional);
            // Most majors have no token: one multiply folds the tag in; a token costs a mix.
            std::uint64_t rest = b.key ^ ((tag + 1) * detail::golden_multiplier);
            if (b.major.token_hash != 0)
                rest = detail::combine_hash(rest, b.major.token_hash);
            return {rest, b.major.id};
        }
        /// Not avalanching: the index mixes it further.
        std::size_t hash() const noexcept
        {
            return static_cast<std::size_t>(rest ^ (id * detail::golden_multiplier));
        }
        friend bool operator==(const packed_id&, const packed_id&) = default;
    };

    struct slot {
        packed_id key;
        bucket_type entry;
    };

    /// The slab and its index, on the heap together: the index's hash and equality look slots up
    /// by number, so they hold a pointer to the table, which must not move.
    class bucket_table {
    public:
        bucket_table()
            : index(0, index_hash{this}, index_equal{this})
        {
        }
        bucket_table(const bucket_table&) = delete;
        bucket_table& operator=(const bucket_table&) = delete;

        slot& at(std::uint32_t n) noexcept { return chunks_[n / chunk_size][n % chunk_size]; }
        const slot& at(std::uint32_t n) const noexcept
        {
            return chunks_[n / chunk_size][n % chunk_size];
        }

        bucket_type& insert(const packed_id& key)
        {
            std::uint32_t n;
            if (!free_.empty()) {
                n = free_.back();
                free_.pop_back();
            } else {
                if (end_ % chunk_size == 0)
                    chunks_.push_back(std::make_unique<slot[]>(chunk_size));
                n = end_++;
            }
            slot& s = at(n);
            s.key = key;
            s.entry = bucket_type{};
            try {
                index.insert(n);
            } catch (...) {
                free_.push_back(n);
                throw;
            }
            return s.entry;
        }

        template <class Iterator>
        void erase(Iterator it)
        {
            free_.push_back(*it);
            index.erase(it);
        }

        /// Moves the live entries to the lowest slots and frees the rest, once at most half of the
        /// slots are live.
        void compact_if_sparse()
        {
            const std::size_t live = index.size();
            if (live * 2 > end_ || end_ <= chunk_size)
                return;
            std::vector<std::uint32_t> taken(index.begin(), index.end());
            std::sort(taken.begin(), taken.end());
            index.clear();
            for (std::uint32_t to = 0; to < taken.size(); ++to)
                if (taken[to] != to)
                    at(to) = std::move(at(taken[to]));
            end_ = static_cast<std::uint32_t>(taken.size());
            chunks_.resize((end_ + chunk_size - 1) / chunk_size);
            chunks_.shrink_to_fit();
            free_ = std::vector<std::uint32_t>{}; // not `= {}`: that keeps the capacity
            index.rehash(0);
            index.reserve(end_);
            for (std::uint32_t n = 0; n < end_; ++n)
                index.insert(n);
        }

    private:
        struct index_hash {
            using is_transparent = void;
            const bucket_table* table;
            std::size_t operator()(std::uint32_t n) const noexcept
            {
                return table->at(n).key.hash();
            }
            std::size_t operator()(const packed_id& key) const noexcept { return key.hash(); }
        };
        struct index_equal {
            using is_transparent = void;
            const bucket_table* table;
            bool operator()(std::uint32_t a, std::uint32_t b) const noexcept { return a == b; }
            bool operator()(const packed_id& key, std::uint32_t n) const noexcept
            {
                return table->at(n).key == key;
            }
            bool operator()(std::uint32_t n, const packed_id& key) const noexcept
            {
                return table->at(n).key == key;
            }
        };

        /// 256 slots of 112 bytes: small enough for a bot with a handful of buckets, large enough
        /// that chunk pointers cost nothing.
        static constexpr std::uint32_t chunk_size = 256;

        std::vector<std::unique_ptr<slot[]>> chunks_;
        std::vector<std::uint32_t> free_;
        std::uint32_t end_ = 0; ///< slots handed out so far, live or free

    public:
        boost::unordered_flat_set<std::uint32_t, index_hash, index_equal> index;
    };

    std::unique_ptr<bucket_table> buckets_; ///< null while no bucket is live
    struct key_hasher {
        std::size_t operator()(const route_key& k) const noexcept { return k.hash(); }
    };
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
            return {known->key, r.major, false};
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
            known = &store_.add_route(r.key, route_entry<Clock>{hash, result.bucket.key, now, now});
        } else if (!(known->hash == hash)) {
            result.what = learned::changed;
            result.before = known->hash;
        }
        known->hash = hash;
        known->key = result.bucket.key;
        known->confirmed_at = now;
        known->last_used = now;
        return result;
    }

    entry_type& bucket(const bucket_id& id) { return store_.bucket(id); }
    entry_type* find_bucket(const bucket_id& id) { return store_.find_bucket(id); }
    void erase_bucket(const bucket_id& id) { store_.erase_bucket(id); }

    /// Forgets idle buckets and stale route hashes. `keep(entry)` may veto a bucket's eviction.
    template <class Keep>
    void evict(time_point now, Keep&& keep)
    {
        store_.erase_buckets_if([&](entry_type& e) {
            return e.queued == 0 && e.state.idle(now) &&
                   now - e.state.last_used() >= config_.bucket_idle && !keep(e);
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
