// The ordered list of directories searched for plugins.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nat::host {

// The environment variable holding extra plugin directories, separated as
// PATH is (':' on POSIX, ';' on Windows).
inline constexpr const char *kPluginPathVariable = "NAT_TRAINER_ADAPTER_PATH";

enum class SearchOrigin {
  command_line,       // --plugin-dir
  environment,        // NAT_TRAINER_ADAPTER_PATH
  beside_executable,  // Windows: <folder of nat-trainer.exe>\plugins
  installed,          // <prefix>/<libdir>/nat-trainer-adapter/plugins (Windows: relative to the .exe)
  build_tree,         // <build root>/plugin, only for a binary run from the build tree
};

// "--plugin-dir", "NAT_TRAINER_ADAPTER_PATH", "beside nat-trainer.exe",
// "installed", "build tree".
std::string origin_label(SearchOrigin origin);

struct SearchDirectory {
  std::filesystem::path path;
  SearchOrigin origin;
};

struct SearchPath {
  std::vector<SearchDirectory> directories;
  // Why something was left out, e.g. the environment variable in a setuid
  // process.
  std::vector<std::string> notes;
};

// Everything the search path depends on, so that it can be built without
// touching the process (see from_process).
struct SearchPathInputs {
  std::vector<std::filesystem::path> plugin_dirs;
  std::optional<std::string> environment_value;
  // getauxval(AT_SECURE): setuid/setgid or otherwise elevated.
  bool secure_execution = false;
  // Windows only: the plugins folder beside the executable.
  std::optional<std::filesystem::path> beside_executable_dir;
  std::filesystem::path installed_dir;
  // Set when the running binary lives inside the build tree.
  std::optional<std::filesystem::path> build_tree_dir;

  // The inputs of this process: the environment variable, AT_SECURE, the
  // installed directory compiled in, and the build tree's plugin directory
  // when /proc/self/exe lies inside the build root compiled in. On Windows,
  // where programs are installed anywhere: the plugins folder beside the
  // .exe, and the installed directory found from the .exe's folder
  // (<prefix>\bin\..\lib\nat-trainer-adapter\plugins); no build tree.
  static SearchPathInputs from_process(std::vector<std::filesystem::path> plugin_dirs);
};

// Directories in search order: --plugin-dir options as given, then the
// environment variable's entries (empty ones skipped; the whole variable
// ignored under secure execution), then (Windows) the folder beside the
// executable, then the installed directory, then the build tree's. Relative paths are made absolute against
// the current directory; Boost.DLL would otherwise resolve a bare name against "./".
SearchPath build_search_path(const SearchPathInputs &inputs);

// Whether `file` lies inside `directory` (both resolved through symlinks).
bool is_inside(const std::filesystem::path &file, const std::filesystem::path &directory);

}  // namespace nat::host
