// Whole-file reads and writes with error messages that name the file.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nat::host {

class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The bytes of `path`. Throws FileError naming the file and the cause.
std::string read_text_file(const std::filesystem::path &path);

// Replaces `path` with `contents`. Throws FileError naming the file and the cause.
void write_text_file(const std::filesystem::path &path, std::string_view contents);

}  // namespace nat::host
