#include "test_fixtures.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace nat::host::testing {
namespace {

std::filesystem::path from_environment(const char *variable) {
  const char *value = std::getenv(variable);
  if (value == nullptr) {
    throw std::runtime_error(std::string(variable) + " is not set (run the tests through meson test)");
  }
  return value;
}

}  // namespace

TemporaryDirectory::TemporaryDirectory() {
#ifdef _WIN32
  // No mkdtemp: a random name, created only if it is new.
  std::random_device random;
  for (int attempt = 0; attempt < 100 && path_.empty(); ++attempt) {
    const auto candidate =
        std::filesystem::temp_directory_path() / ("nat-host-test-" + std::to_string(random()));
    if (std::filesystem::create_directory(candidate)) path_ = candidate;
  }
  if (path_.empty()) throw std::runtime_error("cannot create a temporary directory");
#else
  std::string pattern = (std::filesystem::temp_directory_path() / "nat-host-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
#endif
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TemporaryDirectory::make_directory(const std::string &name, unsigned mode) const {
  std::filesystem::path directory = path_ / name;
  std::filesystem::create_directories(directory);
#ifndef _WIN32
  ::chmod(directory.c_str(), mode);
#else
  (void)mode;
#endif
  return directory;
}

std::filesystem::path fixture_library(const std::string &name) {
  return from_environment("NAT_HOST_FIXTURE_DIR") / ("lib" + name + ".so");
}

std::filesystem::path copy_fixture(const std::string &name, const std::filesystem::path &directory,
                                   const std::string &file_name, unsigned mode) {
  const std::filesystem::path source = fixture_library(name);
  const std::filesystem::path target =
      directory / (file_name.empty() ? source.filename().string() : file_name);
  std::filesystem::copy_file(source, target, std::filesystem::copy_options::overwrite_existing);
#ifndef _WIN32
  ::chmod(target.c_str(), mode);
#else
  (void)mode;
#endif
  return target;
}

std::vector<std::string> search_path_lines(const SearchPath &search_path) {
  std::vector<std::string> lines;
  for (const auto &directory : search_path.directories) {
    lines.push_back(directory.path.string() + " [" + origin_label(directory.origin) + "]");
  }
  return lines;
}

std::filesystem::path test_data(const std::string &name) {
  return from_environment("NAT_HOST_TEST_DATA_DIR") / name;
}

std::string test_data_text(const std::string &name) {
  std::ifstream in(test_data(name), std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read test data " + name);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace nat::host::testing
