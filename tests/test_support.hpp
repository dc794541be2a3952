// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// What several test files share: Discord's headers for a response, and inputs that ASan guards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace test_support {

using headers_type = std::vector<std::pair<std::string, std::string>>;

/// The headers of an ordinary answer of Discord's (with its `via: 1.1 google`).
inline headers_type bucket_headers(std::uint32_t limit, std::uint32_t remaining,
                                   std::string reset_after, std::string hash = "abcd1234")
{
    return {{"x-ratelimit-limit", std::to_string(limit)},
            {"x-ratelimit-remaining", std::to_string(remaining)},
            {"x-ratelimit-reset-after", std::move(reset_after)},
            {"x-ratelimit-bucket", std::move(hash)},
            {"via", "1.1 google"}};
}

/// `text` in a heap block of exactly its size, so that AddressSanitizer reports any read past it.
struct exact_copy {
    explicit exact_copy(std::string_view text)
        : bytes(std::make_unique<char[]>(text.size()))
        , size(text.size())
    {
        if (!text.empty())
            std::memcpy(bytes.get(), text.data(), text.size());
    }
    std::string_view view() const { return {bytes.get(), size}; }

    std::unique_ptr<char[]> bytes;
    std::size_t size;
};

} // namespace test_support
