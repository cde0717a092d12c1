// One trainer adapter plugin: loaded, ABI-checked, its functions resolved.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "loading/abi_functions.hpp"

namespace nat::host {

// Why a file is not a usable plugin: one line, without the file name (the
// caller knows it).
class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "major.minor" of an ABI version number.
std::string abi_version_text(std::uint32_t abi_version);

class PluginLibrary {
 public:
  // Loads `file` (an absolute path) with RTLD_NOW | RTLD_LOCAL, checks that
  // it exports the bootstrap functions, refuses a different ABI major before
  // calling anything else, reads and checks its info JSON and resolves every
  // ABI function. The library is never unloaded (see keep_resident), also
  // when it is refused. Throws PluginLoadError.
  static std::shared_ptr<const PluginLibrary> load(const std::filesystem::path& file);

  const std::filesystem::path& path() const { return path_; }
  std::uint32_t abi_version() const { return abi_version_; }
  // The plugin's info: name, backend, version, abi, description,
  // config_schema.
  const nlohmann::json& info() const { return info_; }
  // NAT's `_type` this plugin implements.
  const std::string& name() const { return name_; }
  // An info field as text, "" when absent or not a string.
  std::string info_text(const char* key) const;
  const AbiFunctions& functions() const { return functions_; }

 private:
  PluginLibrary() = default;

  std::filesystem::path path_;
  std::uint32_t abi_version_ = 0;
  nlohmann::json info_;
  std::string name_;
  AbiFunctions functions_;
};

}  // namespace nat::host
