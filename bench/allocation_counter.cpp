// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.

// Replaces every form of the global operator new and delete so that the benchmarks can count the
// heap bytes a data structure holds. Each block carries a header in front of it holding the size
// requested, because unsized deletes (and containers that do not pass sizes) must still subtract
// the right amount.

#include "allocation_counter.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::size_t> live{0};
std::atomic<std::size_t> allocations{0};

// The header must keep the block aligned as operator new promises, so it takes a whole alignment
// unit: 16 bytes for ordinary blocks, the requested alignment for over-aligned ones. The size sits
// in the last word of the header, right before the block.
constexpr std::size_t default_alignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

std::size_t header_size(std::size_t alignment) noexcept
{
    return std::max(alignment, default_alignment);
}

std::size_t& stored_size(void* block) noexcept
{
    return *(static_cast<std::size_t*>(block) - 1);
}

void* try_allocate(std::size_t size, std::size_t alignment) noexcept
{
    const std::size_t header = header_size(alignment);
    if (size > SIZE_MAX - 2 * header)
        return nullptr;
    void* raw = nullptr;
    if (alignment <= default_alignment) {
        raw = std::malloc(size + header);
    } else {
        // aligned_alloc wants a size that is a multiple of the alignment.
        const std::size_t total = (size + header + alignment - 1) / alignment * alignment;
        raw = std::aligned_alloc(alignment, total);
    }
    if (raw == nullptr)
        return nullptr;
    void* block = static_cast<unsigned char*>(raw) + header;
    stored_size(block) = size;
    live.fetch_add(size, std::memory_order_relaxed);
    allocations.fetch_add(1, std::memory_order_relaxed);
    return block;
}

// The throwing forms call the new-handler until it gives up, as the standard's operator new does.
void* allocate(std::size_t size, std::size_t alignment)
{
    if (size == 0)
        size = 1; // every allocation must return a distinct pointer
    for (;;) {
        if (void* block = try_allocate(size, alignment))
            return block;
        const std::new_handler handler = std::get_new_handler();
        if (handler == nullptr)
            throw std::bad_alloc{};
        handler();
    }
}

void* allocate_nothrow(std::size_t size, std::size_t alignment) noexcept
{
    try {
        return allocate(size, alignment);
    } catch (...) {
        return nullptr;
    }
}

void deallocate(void* block, std::size_t alignment) noexcept
{
    if (block == nullptr)
        return;
    live.fetch_sub(stored_size(block), std::memory_order_relaxed);
    std::free(static_cast<unsigned char*>(block) - header_size(alignment));
}

std::size_t alignment_of(std::align_val_t alignment) noexcept
{
    return static_cast<std::size_t>(alignment);
}

} // namespace

namespace bench {

std::size_t live_bytes() noexcept
{
    return live.load(std::memory_order_relaxed);
}

std::size_t allocation_count() noexcept
{
    return allocations.load(std::memory_order_relaxed);
}

} // namespace bench

void* operator new(std::size_t size)
{
    return allocate(size, default_alignment);
}
void* operator new[](std::size_t size)
{
    return allocate(size, default_alignment);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
    return allocate_nothrow(size, default_alignment);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept
{
    return allocate_nothrow(size, default_alignment);
}
void* operator new(std::size_t size, std::align_val_t alignment)
{
    return allocate(size, alignment_of(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment)
{
    return allocate(size, alignment_of(alignment));
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    return allocate_nothrow(size, alignment_of(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    return allocate_nothrow(size, alignment_of(alignment));
}

void operator delete(void* block) noexcept
{
    deallocate(block, default_alignment);
}
void operator delete[](void* block) noexcept
{
    deallocate(block, default_alignment);
}
void operator delete(void* block, const std::nothrow_t&) noexcept
{
    deallocate(block, default_alignment);
}
void operator delete[](void* block, const std::nothrow_t&) noexcept
{
    deallocate(block, default_alignment);
}
void operator delete(void* block, std::size_t) noexcept
{
    deallocate(block, default_alignment);
}
void operator delete[](void* block, std::size_t) noexcept
{
    deallocate(block, default_alignment);
}
void operator delete(void* block, std::align_val_t alignment) noexcept
{
    deallocate(block, alignment_of(alignment));
}
void operator delete[](void* block, std::align_val_t alignment) noexcept
{
    deallocate(block, alignment_of(alignment));
}
void operator delete(void* block, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    deallocate(block, alignment_of(alignment));
}
void operator delete[](void* block, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    deallocate(block, alignment_of(alignment));
}
void operator delete(void* block, std::size_t, std::align_val_t alignment) noexcept
{
    deallocate(block, alignment_of(alignment));
}
void operator delete[](void* block, std::size_t, std::align_val_t alignment) noexcept
{
    deallocate(block, alignment_of(alignment));
}
