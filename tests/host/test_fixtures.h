// Temporary plugin directories and the fixture plugins built by meson.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "discovery/search_path.h"

namespace nat::host::testing {

// A fresh directory (mode 0700) removed with everything in it on destruction.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory &) = delete;
  TemporaryDirectory &operator=(const TemporaryDirectory &) = delete;

  const std::filesystem::path &path() const { return path_; }
  // A subdirectory, created with `mode`.
  std::filesystem::path make_directory(const std::string &name, unsigned mode = 0755) const;

 private:
  std::filesystem::path path_;
};

// A fixture library built by tests/host/meson.build: lib<name>.so.
std::filesystem::path fixture_library(const std::string &name);

// Copies the fixture lib<name>.so into `directory` as `file_name` (default:
// the same name) with `mode`; returns the copy.
std::filesystem::path copy_fixture(const std::string &name, const std::filesystem::path &directory,
                                   const std::string &file_name = "", unsigned mode = 0755);

// "path [origin]" of each directory of a search path, in order.
std::vector<std::string> search_path_lines(const SearchPath &search_path);

// A file of tests/host/data.
std::filesystem::path test_data(const std::string &name);

// The contents of a file of tests/host/data.
std::string test_data_text(const std::string &name);

}  // namespace nat::host::testing
