#include "discovery/search_path.h"

#include <cstdlib>

#include "configured_paths.h"
#include "platform/platform.h"

namespace nat::host {
namespace {

std::filesystem::path absolute_path(const std::filesystem::path &path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal();
}

std::vector<std::string> split_path_list(const std::string &value) {
  std::vector<std::string> entries;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = value.find(platform::kPathListSeparator, start);
    std::string entry = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!entry.empty()) {
      entries.push_back(entry);
    }
    if (end == std::string::npos) {
      return entries;
    }
    start = end + 1;
  }
}

}  // namespace

std::string origin_label(SearchOrigin origin) {
  switch (origin) {
    case SearchOrigin::command_line:
      return "--plugin-dir";
    case SearchOrigin::environment:
      return kPluginPathVariable;
    case SearchOrigin::beside_executable:
      return "beside nat-trainer.exe";
    case SearchOrigin::installed:
      return "installed";
    case SearchOrigin::build_tree:
      return "build tree";
  }
  return "unknown";
}

bool is_inside(const std::filesystem::path &file, const std::filesystem::path &directory) {
  std::error_code error;
  const std::filesystem::path real_file = std::filesystem::weakly_canonical(file, error);
  if (error) {
    return false;
  }
  const std::filesystem::path real_directory = std::filesystem::weakly_canonical(directory, error);
  if (error) {
    return false;
  }
  auto file_part = real_file.begin();
  for (const auto &directory_part : real_directory) {
    if (directory_part.empty()) {
      continue;  // the trailing "" of a path ending in '/'
    }
    if (file_part == real_file.end() || *file_part != directory_part) {
      return false;
    }
    ++file_part;
  }
  return file_part != real_file.end();
}

SearchPathInputs SearchPathInputs::from_process(std::vector<std::filesystem::path> plugin_dirs) {
  SearchPathInputs inputs;
  inputs.plugin_dirs = std::move(plugin_dirs);
  if (const char *value = std::getenv(kPluginPathVariable)) {
    inputs.environment_value = value;
  }
  inputs.secure_execution = platform::secure_execution();
  const std::optional<std::filesystem::path> executable = platform::executable_path();
#ifdef _WIN32
  if (executable) {
    const std::filesystem::path folder = executable->parent_path();
    inputs.beside_executable_dir = folder / "plugins";
    inputs.installed_dir = folder / std::filesystem::u8path(NAT_HOST_INSTALLED_PLUGIN_DIR_FROM_BIN);
  }
#else
  inputs.installed_dir = NAT_HOST_INSTALLED_PLUGIN_DIR;
  // A binary inside the build root is the uninstalled one; it may use the
  // plugins built next to it. An installed binary never looks there, even if
  // the build tree still exists.
  if (executable && is_inside(*executable, NAT_HOST_BUILD_ROOT)) {
    inputs.build_tree_dir = std::filesystem::path(NAT_HOST_BUILD_PLUGIN_DIR);
  }
#endif
  return inputs;
}

SearchPath build_search_path(const SearchPathInputs &inputs) {
  SearchPath search_path;
  for (const auto &dir : inputs.plugin_dirs) {
    search_path.directories.push_back({absolute_path(dir), SearchOrigin::command_line});
  }
  if (inputs.environment_value) {
    if (inputs.secure_execution) {
      search_path.notes.push_back(std::string(kPluginPathVariable) +
                                  " ignored: the process runs with elevated privileges (AT_SECURE)");
    } else {
      for (const auto &entry : split_path_list(*inputs.environment_value)) {
        search_path.directories.push_back({absolute_path(entry), SearchOrigin::environment});
      }
    }
  }
  if (inputs.beside_executable_dir) {
    search_path.directories.push_back(
        {absolute_path(*inputs.beside_executable_dir), SearchOrigin::beside_executable});
  }
  if (!inputs.installed_dir.empty()) {
    search_path.directories.push_back({absolute_path(inputs.installed_dir), SearchOrigin::installed});
  }
  if (inputs.build_tree_dir) {
    search_path.directories.push_back({absolute_path(*inputs.build_tree_dir), SearchOrigin::build_tree});
  }
  return search_path;
}

}  // namespace nat::host
