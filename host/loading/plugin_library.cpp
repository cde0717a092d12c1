#include "loading/plugin_library.hpp"

#include <type_traits>

#include <boost/dll/shared_library.hpp>

#include "loading/resident_libraries.hpp"

namespace nat::host {
namespace {

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

// `slot` has a function pointer type; Boost.DLL's get<> wants the function
// type (get<F*> would read a variable holding a pointer).
template <typename FunctionPointer>
void resolve(boost::dll::shared_library& library, const char* symbol, FunctionPointer& slot) {
  using Function = std::remove_pointer_t<FunctionPointer>;
  if (!library.has(symbol)) {
    throw PluginLoadError("ABI " + abi_version_text(NAT_TRAINER_ADAPTER_ABI_VERSION) + " function " + symbol +
                          " is missing");
  }
  try {
    slot = &library.get<Function>(symbol);
  } catch (const std::exception& e) {
    throw PluginLoadError(std::string("cannot resolve ") + symbol + ": " + dlerror_text(e));
  }
}

void resolve_all(boost::dll::shared_library& library, AbiFunctions& functions) {
  resolve(library, "nat_trainer_adapter_abi_version", functions.abi_version);
  resolve(library, "nat_trainer_adapter_plugin_info", functions.plugin_info);
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
}

}  // namespace

std::string abi_version_text(std::uint32_t abi_version) {
  return std::to_string(abi_version >> 16) + "." + std::to_string(abi_version & 0xffffu);
}

std::string PluginLibrary::info_text(const char* key) const {
  auto field = info_.find(key);
  return field != info_.end() && field->is_string() ? field->get<std::string>() : std::string();
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

  for (const char* bootstrap : {"nat_trainer_adapter_abi_version", "nat_trainer_adapter_plugin_info"}) {
    if (!library->has(bootstrap)) {
      throw PluginLoadError(std::string("not a trainer adapter plugin: it does not export ") + bootstrap);
    }
  }

  // The version check comes before any other call into the plugin.
  AbiFunctions& functions = plugin->functions_;
  resolve(*library, "nat_trainer_adapter_abi_version", functions.abi_version);
  plugin->abi_version_ = functions.abi_version();
  if ((plugin->abi_version_ >> 16) != NAT_TRAINER_ADAPTER_ABI_MAJOR) {
    throw PluginLoadError("plugin ABI " + abi_version_text(plugin->abi_version_) +
                          " is incompatible with nat-trainer's ABI " +
                          abi_version_text(NAT_TRAINER_ADAPTER_ABI_VERSION) + " (the major versions differ)");
  }

  resolve(*library, "nat_trainer_adapter_plugin_info", functions.plugin_info);
  const char* info_text = functions.plugin_info();
  if (info_text == nullptr) {
    throw PluginLoadError("nat_trainer_adapter_plugin_info() returned NULL");
  }
  try {
    plugin->info_ = nlohmann::json::parse(info_text);
  } catch (const nlohmann::json::exception& e) {
    throw PluginLoadError(std::string("plugin info is not valid JSON: ") + e.what());
  }
  if (!plugin->info_.is_object()) {
    throw PluginLoadError("plugin info is not a JSON object");
  }
  auto name = plugin->info_.find("name");
  if (name == plugin->info_.end() || !name->is_string() || name->get<std::string>().empty()) {
    throw PluginLoadError("plugin info has no \"name\" (the NAT _type the plugin implements)");
  }
  plugin->name_ = name->get<std::string>();

  resolve_all(*library, functions);
  return plugin;
}

}  // namespace nat::host
