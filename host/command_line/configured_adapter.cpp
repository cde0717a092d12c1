#include "command_line/configured_adapter.hpp"

#include <stdexcept>

#include <CLI/CLI.hpp>

#include "adapter/adapter_error.hpp"
#include "configuration/config_document.hpp"
#include "configuration/config_error.hpp"
#include "files/text_file.hpp"

namespace nat::host {

void add_adapter_options(CLI::App& app, AdapterOptions& options) {
  app.add_option("--config", options.config, "NAT config (YAML or JSON), or one adapter config with _type")
      ->required()
      ->check(CLI::ExistingFile.description(""))
      ->type_name("FILE");
  app.add_option("--adapter", options.adapter,
                 "Entry of trainer_adapters to use (default: finetuning.trainer_adapter, else the only entry)")
      ->type_name("NAME");
}

PluginCatalog discover_plugins_for(const GlobalOptions& global) {
  std::vector<std::filesystem::path> dirs(global.plugin_dirs.begin(), global.plugin_dirs.end());
  return discover_plugins(build_search_path(SearchPathInputs::from_process(std::move(dirs))));
}

std::string describe_plugin(const FoundPlugin& plugin) {
  return plugin.library->name() + " (" + plugin.path.string() + ")";
}

ConfiguredAdapter open_configured_adapter(const GlobalOptions& global, const AdapterOptions& options) {
  AdapterSelection selection = select_adapter(read_config_document(options.config), options.config, options.adapter);
  PluginCatalog catalog = discover_plugins_for(global);
  const FoundPlugin& plugin = catalog.require(selection.type, "the _type of " + selection.origin);
  try {
    auto adapter = std::make_unique<Adapter>(plugin.library, selection.adapter_config);
    return ConfiguredAdapter{std::move(selection), plugin, std::move(adapter)};
  } catch (const AdapterError& e) {
    throw std::runtime_error(selection.origin + ": plugin " + describe_plugin(plugin) +
                             " refused the adapter config: " + adapter_code_name(e.code()) + ": " + e.message());
  }
}

std::string read_trajectory_collection(const std::filesystem::path& file) {
  std::string text = read_text_file(file);
  try {
    const nlohmann::json parsed = nlohmann::json::parse(text);
    (void)parsed;
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(file.string() + ": not a TrajectoryCollection: invalid JSON: " + describe_json_error(e));
  }
  return text;
}

}  // namespace nat::host
