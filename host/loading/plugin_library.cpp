#include "loading/plugin_library.hpp"

#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>

#include "loading/resident_libraries.hpp"

namespace nat::host {
namespace {

// --- Loading ------------------------------------------------------------------

// Boost.DLL's throwing overloads put dlerror's text into the exception, as
// "<what> (dlerror system message: <text>): <errno text>". The dlerror part
// is the useful one; the rest repeats what we already know.
std::string dlerror_text(const std::exception& error, const std::filesystem::path& file = {}) {
  std::string text = error.what();
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

// One dlsym per function, on the handle Boost.DLL opened (its has() and
// get<>() would look each symbol up twice).
template <typename FunctionPointer>
void resolve(void* library, const char* symbol, FunctionPointer& slot) {
  void* address = ::dlsym(library, symbol);
  if (address == nullptr) {
    throw PluginLoadError("ABI " + abi_version_text(NAT_TRAINER_ADAPTER_ABI_VERSION) + " function " + symbol +
                          " is missing");
  }
  slot = reinterpret_cast<FunctionPointer>(address);
}

// A function a plugin may leave out: the slot stays null without it.
template <typename FunctionPointer>
void resolve_optional(void* library, const char* symbol, FunctionPointer& slot) {
  slot = reinterpret_cast<FunctionPointer>(::dlsym(library, symbol));
}

void resolve_all(void* library, AbiFunctions& functions) {
  resolve(library, "nat_trainer_adapter_error_code", functions.error_code);
  resolve(library, "nat_trainer_adapter_error_message", functions.error_message);
  resolve(library, "nat_trainer_adapter_error_free", functions.error_free);
  resolve(library, "nat_trainer_adapter_buffer_data", functions.buffer_data);
  resolve(library, "nat_trainer_adapter_buffer_size", functions.buffer_size);
  resolve(library, "nat_trainer_adapter_buffer_free", functions.buffer_free);
  resolve(library, "nat_trainer_adapter_create", functions.create);
  resolve(library, "nat_trainer_adapter_destroy", functions.destroy);
  resolve(library, "nat_trainer_adapter_initialize", functions.initialize);
  resolve(library, "nat_trainer_adapter_is_healthy", functions.is_healthy);
  resolve(library, "nat_trainer_adapter_submit", functions.submit);
  resolve(library, "nat_trainer_adapter_status", functions.status);
  resolve(library, "nat_trainer_adapter_wait_until_complete", functions.wait_until_complete);
  resolve(library, "nat_trainer_adapter_cancel", functions.cancel);
  resolve(library, "nat_trainer_adapter_jobs", functions.jobs);
  resolve(library, "nat_trainer_adapter_next_event", functions.next_event);
  resolve(library, "nat_trainer_adapter_log_progress", functions.log_progress);
  resolve(library, "nat_trainer_adapter_convert", functions.convert);
  resolve_optional(library, "nat_trainer_adapter_resubmit", functions.resubmit);
}

}  // namespace

std::string abi_version_text(std::uint32_t abi_version) {
  return std::to_string(abi_version >> 16) + "." + std::to_string(abi_version & 0xffffu);
}

std::string PluginLibrary::info_text(const char* key) const {
  for (const auto& [name, value] : info_strings_) {
    if (name == key) return value;
  }
  return std::string();
}

const nlohmann::json& PluginLibrary::info() const {
  // Checked by the same parser at load: this cannot fail.
  std::call_once(info_parsed_, [this] { info_ = nlohmann::json::parse(info_json_); });
  return info_;
}

std::shared_ptr<const PluginLibrary> PluginLibrary::load(const std::filesystem::path& file) {
  namespace dll = boost::dll;
  std::shared_ptr<PluginLibrary> plugin(new PluginLibrary);
  plugin->path_ = file;

  boost::dll::shared_library* library = nullptr;
  try {
    library = &keep_resident(dll::shared_library(file, dll::load_mode::rtld_now | dll::load_mode::rtld_local));
  } catch (const std::exception& e) {
    throw PluginLoadError("cannot load: " + dlerror_text(e, file));
  }
  void* const handle = library->native();

  AbiFunctions& functions = plugin->functions_;
  void* bootstrap[2] = {nullptr, nullptr};
  const char* const bootstrap_names[2] = {"nat_trainer_adapter_abi_version", "nat_trainer_adapter_plugin_info"};
  for (int i = 0; i < 2; ++i) {
    bootstrap[i] = ::dlsym(handle, bootstrap_names[i]);
    if (bootstrap[i] == nullptr) {
      throw PluginLoadError(std::string("not a trainer adapter plugin: it does not export ") + bootstrap_names[i]);
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

  const char* info_text = functions.plugin_info();
  PluginInfoSummary summary = read_plugin_info(info_text);
  plugin->info_json_ = info_text;
  plugin->info_strings_ = std::move(summary.strings);
  plugin->name_ = plugin->info_text("name");

  resolve_all(handle, functions);
  return plugin;
}

}  // namespace nat::host
