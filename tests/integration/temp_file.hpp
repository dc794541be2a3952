// Copyright (c) 2026 The discord-ratelimit authors. Distributed under the Boost Software License 1.0.
// A file in the temporary directory for a test: a token file, a certificate to trust.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace integration {

/// A file that removes itself.
struct temp_file {
    std::filesystem::path path;
    explicit temp_file(std::string_view contents)
    {
        static int serial = 0;
        path = std::filesystem::temp_directory_path() /
               ("drl-hostile-curl-" + std::to_string(::getpid()) + "-" + std::to_string(++serial));
        std::ofstream{path, std::ios::binary} << contents;
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    ~temp_file()
    {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
};

} // namespace integration
