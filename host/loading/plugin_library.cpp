#include "loading/plugin_library.h"

#include <boost/dll/shared_library.hpp>

#include "loading/resident_libraries.h"
#include "platform/symbols.h"

namespace nat::host {
namespace {

// --- Loading ------------------------------------------------------------------

// Boost.DLL's throwing overloads put dlerror's text into the exception, as
// "<what> (dlerror system message: <text>): <errno text>". The dlerror part
// is the useful one; the rest repeats what we already know.
std::string dlerror_text(const std::exception &error, const std::filesystem::path &file = {}) {
  std::string text = error.what();
  // Windows: "boost::dll::shared_library::load() failed: <system message>".
  const std::string windows_marker = "load() failed: ";
  if (const std::size_t at = text.find(windows_marker); at != std::string::npos) {
    return text.substr(at + windows_marker.size());
  }
  const std::string marker = "dlerror system message: ";
  std::size_t start = text.find(marker);
  if (start == std::string::npos) {
    return text;
  }
  start += marker.size();
  std::size_t end = text.rfind("):");
  if (end == std::string::npos || end < start) {
    end = text.size();
  }
  std::string message = text.substr(start, end - start);
  // dlopen's message starts with the file name, which the caller reports.
  const std::string prefix = file.string() + ": ";
  if (!file.empty() && message.rfind(prefix, 0) == 0) {
    message.erase(0, prefix.size());
  }
  return message;
}

}  // namespace

std::string abi_version_text(std::uint32_t abi_version) {
  return std::to_string(abi_version >> 16) + "." + std::to_string(abi_version & 0xffffu);
}

std::string PluginLibrary::info_text(const char *key) const {
  for (const auto &[name, value] : info_strings_) {
    if (name == key) return value;
  }
  return std::string();
}

const nlohmann::json &PluginLibrary::info() const {
  // Checked by the same parser at load: this cannot fail.
  std::call_once(info_parsed_, [this] { info_ = nlohmann::json::parse(info_json_); });
  return info_;
}

std::shared_ptr<const PluginLibrary> PluginLibrary::load(const std::filesystem::path &file) {
  namespace dll = boost::dll;
  std::shared_ptr<PluginLibrary> plugin(new PluginLibrary);
  plugin->path_ = file;

  boost::dll::shared_library *library = nullptr;
  try {
    library =
        &keep_resident(dll::shared_library(file, dll::load_mode::rtld_now | dll::load_mode::rtld_local));
  } catch (const std::exception &e) {
    throw PluginLoadError("cannot load: " + dlerror_text(e, file));
  }
  void *const handle = reinterpret_cast<void *>(library->native());

  AbiFunctions &functions = plugin->functions_;
  void *bootstrap[2] = {nullptr, nullptr};
  const char *const bootstrap_names[2] = {"nat_trainer_adapter_abi_version",
                                          "nat_trainer_adapter_plugin_info"};
  for (int i = 0; i < 2; ++i) {
    bootstrap[i] = platform::find_symbol(handle, bootstrap_names[i]);
    if (bootstrap[i] == nullptr) {
      throw PluginLoadError(std::string("not a trainer adapter plugin: it does not export ") +
                            bootstrap_names[i]);
    }
  }
  functions.abi_version = reinterpret_cast<decltype(functions.abi_version)>(bootstrap[0]);
  functions.plugin_info = reinterpret_cast<decltype(functions.plugin_info)>(bootstrap[1]);

  // The version check comes before any other call into the plugin.
  plugin->abi_version_ = functions.abi_version();
  if ((plugin->abi_version_ >> 16) != NAT_TRAINER_ADAPTER_ABI_MAJOR) {
    throw PluginLoadError("plugin ABI " + abi_version_text(plugin->abi_version_) +
                          " is incompatible with nat-trainer's ABI " +
                          abi_version_text(NAT_TRAINER_ADAPTER_ABI_VERSION) + " (the major versions differ)");
  }

  const char *info_text = functions.plugin_info();
  PluginInfoSummary summary = read_plugin_info(info_text);
  plugin->info_json_ = info_text;
  plugin->info_strings_ = std::move(summary.strings);
  plugin->name_ = plugin->info_text("name");

  // The functions the plugin's minor promises, and only those (see
  // abi_functions.h).
  if (const char *missing = resolve_abi_functions(handle, plugin->abi_version_, functions)) {
    throw PluginLoadError("ABI " + abi_version_text(plugin->abi_version_) + " function " + missing +
                          " is missing");
  }
  return plugin;
}

}  // namespace nat::host
