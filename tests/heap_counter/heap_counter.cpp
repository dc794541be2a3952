// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// Every form of the global operator new and delete, counting the bytes each block was asked for.
// Blocks come from malloc (or aligned_alloc) and go back to free, so AddressSanitizer and
// LeakSanitizer still see every one of them. The size asked for is kept in a prefix in front of
// the block, because an unsized delete must subtract it too; the prefix is a whole alignment unit
// so that the block stays aligned as operator new promises.

#include "heap_counter.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::size_t> live{0};
std::atomic<std::size_t> peak{0};
std::atomic<std::size_t> allocations{0};

constexpr std::size_t ordinary_alignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

std::size_t prefix_of(std::size_t alignment) noexcept
{
    return std::max(alignment, ordinary_alignment);
}

/// The size asked for sits in the last word of the prefix, right before the block.
std::size_t& size_before(void* block) noexcept
{
    return *(static_cast<std::size_t*>(block) - 1);
}

void raise_peak(std::size_t now_live) noexcept
{
    std::size_t seen = peak.load(std::memory_order_relaxed);
    while (now_live > seen &&
           !peak.compare_exchange_weak(seen, now_live, std::memory_order_relaxed)) {
    }
}

void* try_allocate(std::size_t size, std::size_t alignment) noexcept
{
    const std::size_t prefix = prefix_of(alignment);
    if (size > SIZE_MAX / 2 - prefix - alignment)
        return nullptr;
    void* raw = nullptr;
    if (alignment <= ordinary_alignment) {
        raw = std::malloc(prefix + size);
    } else {
        // aligned_alloc takes only multiples of the alignment.
        const std::size_t total = (prefix + size + alignment - 1) / alignment * alignment;
        raw = std::aligned_alloc(alignment, total);
    }
    if (raw == nullptr)
        return nullptr;
    void* block = static_cast<unsigned char*>(raw) + prefix;
    size_before(block) = size;
    raise_peak(live.fetch_add(size, std::memory_order_relaxed) + size);
    allocations.fetch_add(1, std::memory_order_relaxed);
    return block;
}

/// As the standard's operator new: calls the new-handler until it gives up, then throws.
void* allocate(std::size_t size, std::size_t alignment)
{
    if (size == 0)
        size = 1; // distinct pointers for distinct allocations
    for (;;) {
        if (void* block = try_allocate(size, alignment))
            return block;
        const std::new_handler handler = std::get_new_handler();
        if (handler == nullptr)
            throw std::bad_alloc{};
        handler();
    }
}

void* allocate_or_null(std::size_t size, std::size_t alignment) noexcept
{
    try {
        return allocate(size, alignment);
    } catch (...) {
        return nullptr;
    }
}

void release(void* block, std::size_t alignment) noexcept
{
    if (block == nullptr)
        return;
    live.fetch_sub(size_before(block), std::memory_order_relaxed);
    std::free(static_cast<unsigned char*>(block) - prefix_of(alignment));
}

std::size_t value_of(std::align_val_t alignment) noexcept
{
    return static_cast<std::size_t>(alignment);
}

} // namespace

namespace heap_counter {

std::size_t live_bytes() noexcept
{
    return live.load(std::memory_order_relaxed);
}

std::size_t allocation_count() noexcept
{
    return allocations.load(std::memory_order_relaxed);
}

std::size_t peak_bytes() noexcept
{
    return peak.load(std::memory_order_relaxed);
}

void reset_peak() noexcept
{
    peak.store(live.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

} // namespace heap_counter

void* operator new(std::size_t size)
{
    return allocate(size, ordinary_alignment);
}
void* operator new[](std::size_t size)
{
    return allocate(size, ordinary_alignment);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
    return allocate_or_null(size, ordinary_alignment);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept
{
    return allocate_or_null(size, ordinary_alignment);
}
void* operator new(std::size_t size, std::align_val_t alignment)
{
    return allocate(size, value_of(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment)
{
    return allocate(size, value_of(alignment));
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    return allocate_or_null(size, value_of(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    return allocate_or_null(size, value_of(alignment));
}

void operator delete(void* block) noexcept
{
    release(block, ordinary_alignment);
}
void operator delete[](void* block) noexcept
{
    release(block, ordinary_alignment);
}
void operator delete(void* block, std::size_t) noexcept
{
    release(block, ordinary_alignment);
}
void operator delete[](void* block, std::size_t) noexcept
{
    release(block, ordinary_alignment);
}
void operator delete(void* block, const std::nothrow_t&) noexcept
{
    release(block, ordinary_alignment);
}
void operator delete[](void* block, const std::nothrow_t&) noexcept
{
    release(block, ordinary_alignment);
}
void operator delete(void* block, std::align_val_t alignment) noexcept
{
    release(block, value_of(alignment));
}
void operator delete[](void* block, std::align_val_t alignment) noexcept
{
    release(block, value_of(alignment));
}
void operator delete(void* block, std::size_t, std::align_val_t alignment) noexcept
{
    release(block, value_of(alignment));
}
void operator delete[](void* block, std::size_t, std::align_val_t alignment) noexcept
{
    release(block, value_of(alignment));
}
void operator delete(void* block, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    release(block, value_of(alignment));
}
void operator delete[](void* block, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    release(block, value_of(alignment));
}
