// One trainer adapter plugin: loaded, ABI-checked, its functions resolved.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loading/abi_functions.h"
#include "loading/plugin_info.h"
#include "loading/plugin_load_error.h"

namespace nat::host {

// "major.minor" of an ABI version number.
std::string abi_version_text(std::uint32_t abi_version);

class PluginLibrary {
 public:
  // Loads `file` (an absolute path) with RTLD_NOW | RTLD_LOCAL, checks that
  // it exports the bootstrap functions, refuses a different ABI major before
  // calling anything else, reads and checks its info JSON and resolves every
  // ABI function (the optional ones of AbiFunctions, such as resubmit, stay
  // null when the plugin does not export them). The library is never unloaded (see keep_resident), also
  // when it is refused. Throws PluginLoadError.
  //
  // RTLD_NOW stays although discovery loads every plugin only to read its
  // name: a library with an unresolvable symbol is refused here rather than
  // killing the process at its first call. The info JSON is checked and its
  // top-level strings read by read_plugin_info; the document (info()) is
  // built only when asked for.
  static std::shared_ptr<const PluginLibrary> load(const std::filesystem::path &file);

  const std::filesystem::path &path() const { return path_; }
  std::uint32_t abi_version() const { return abi_version_; }
  // The plugin's info: name, backend, version, abi, description,
  // config_schema. Parsed on the first call (thread-safe).
  const nlohmann::json &info() const;
  // NAT's `_type` this plugin implements.
  const std::string &name() const { return name_; }
  // An info field as text, "" when absent or not a string (does not parse
  // the whole document).
  std::string info_text(const char *key) const;
  const AbiFunctions &functions() const { return functions_; }

 private:
  PluginLibrary() = default;

  std::filesystem::path path_;
  std::uint32_t abi_version_ = 0;
  std::string info_json_;
  std::vector<std::pair<std::string, std::string>> info_strings_;
  mutable std::once_flag info_parsed_;
  mutable nlohmann::json info_;
  std::string name_;
  AbiFunctions functions_;
};

}  // namespace nat::host
