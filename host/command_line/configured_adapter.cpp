#include "command_line/configured_adapter.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <stdexcept>
#include <vector>

#include "adapter/adapter_error.h"
#include "command_line/foreground_job.h"
#include "configuration/config_document.h"
#include "configuration/config_error.h"
#include "configuration/yaml_to_json.h"
#include "files/text_file.h"

namespace nat::host {

void add_adapter_options(CLI::App &app, AdapterOptions &options) {
  app.add_option("--config", options.config, "NAT config (YAML or JSON), or one adapter config with _type")
      ->required()
      ->check(CLI::ExistingFile.description(""))
      ->type_name("FILE");
  app.add_option(
         "--adapter", options.adapter,
         "Entry of trainer_adapters to use (default: finetuning.trainer_adapter, else the only entry)")
      ->type_name("NAME");
}

PluginCatalog discover_plugins_for(const GlobalOptions &global) {
  std::vector<std::filesystem::path> dirs(global.plugin_dirs.begin(), global.plugin_dirs.end());
  return discover_plugins(build_search_path(SearchPathInputs::from_process(std::move(dirs))));
}

std::string describe_plugin(const FoundPlugin &plugin) {
  return plugin.library->name() + " (" + plugin.path.string() + ")";
}

namespace {

// The scalars under every `api_key` key of a YAML (or JSON) document. Aliases
// are followed as the conversion follows them, within the conversion's
// limits of depth and of values visited (`budget`): a self-referencing alias
// or an alias bomb, which the conversion refused, ends the walk early.
void collect_api_keys(const YAML::Node &node, std::vector<std::string> &keys, std::size_t depth,
                      std::size_t &budget) {
  if (depth > kMaxYamlDepth || budget == 0) {
    return;
  }
  --budget;
  if (node.IsMap()) {
    for (const auto &entry : node) {
      if (entry.first.IsScalar() && entry.first.Scalar() == "api_key" && entry.second.IsScalar()) {
        keys.push_back(entry.second.Scalar());
      }
      collect_api_keys(entry.second, keys, depth + 1, budget);
    }
  } else if (node.IsSequence()) {
    for (const auto &item : node) {
      collect_api_keys(item, keys, depth + 1, budget);
    }
  }
}

// A config error without the secrets of the config. Two ways a message could
// quote one:
// - nlohmann's parse errors quote the text the parser stopped in, which can
//   be an api key with a stray control character or a missing quote:
//   describe_json_error drops that quote, the line and column stay;
// - YAML errors: yaml_to_json names the key of a scalar that does not
//   convert, not its value, but yaml-cpp's own messages are not ours to
//   vouch for: every api_key value the file holds (when it parses as YAML at
//   all) is masked. Short values and NAT's public "default" are left alone,
//   as the plugin does.
std::string without_config_secrets(std::string message, const std::filesystem::path &config) {
  std::vector<std::string> keys;
  try {
    std::size_t budget = kMaxYamlValues;
    collect_api_keys(YAML::Load(read_text_file(config)), keys, 0, budget);
  } catch (const std::exception &) {
    // Not YAML: the parser's quote, the only place a key could be, is gone.
  }
  for (const std::string &key : keys) {
    if (key.size() < 4 || key == "default") {
      continue;
    }
    const std::string mask = "[redacted]";
    for (std::size_t found = message.find(key); found != std::string::npos;
         found = message.find(key, found + mask.size())) {
      message.replace(found, key.size(), mask);
    }
  }
  return message;
}

// Warns once per command on stderr: the plugin also warns, once per adapter,
// as an event of its first job.
void warn_if_tls_unverified(const AdapterSelection &selection) {
  const nlohmann::json &config = selection.adapter_config;
  auto native = config.find("native");
  if (native == config.end() || !native->is_object()) {
    return;
  }
  auto insecure = native->find("insecure_skip_tls_verify");
  if (insecure != native->end() && *insecure == true) {
    std::cerr
        << "nat-trainer: warning: " << selection.origin
        << ": native.insecure_skip_tls_verify is true: the TLS certificate and host name of the backend are "
           "not verified, so anyone on the network path can impersonate it and read the trajectories and "
           "the api key; use native.ca_path for a private CA instead\n";
  }
}

}  // namespace

AdapterSelection select_configured_adapter(const AdapterOptions &options) {
  nlohmann::json document;
  try {
    document = read_config_document(options.config);
  } catch (const ConfigError &e) {
    throw ConfigError(without_config_secrets(e.what(), options.config));
  }
  return select_adapter(document, options.config, options.adapter);
}

ConfiguredAdapter open_configured_adapter(const GlobalOptions &global, const AdapterOptions &options) {
  AdapterSelection selection = select_configured_adapter(options);
  warn_if_tls_unverified(selection);
  PluginCatalog catalog = discover_plugins_for(global);
  const FoundPlugin &plugin = catalog.require(selection.type, "the _type of " + selection.origin);
  try {
    auto adapter = std::make_unique<Adapter>(plugin.library, selection.adapter_config);
    return ConfiguredAdapter{std::move(selection), plugin, std::move(adapter)};
  } catch (const AdapterError &e) {
    throw std::runtime_error(selection.origin + ": plugin " + describe_plugin(plugin) +
                             " refused the adapter config: " + adapter_code_name(e.code()) + ": " +
                             e.message());
  }
}

std::string resubmit_command_for(const GlobalOptions &global, const AdapterOptions &options) {
  std::string command = "nat-trainer";
  for (const std::string &directory : global.plugin_dirs) {
    command += " --plugin-dir " + shell_quoted(directory);
  }
  command += " resubmit --config " + shell_quoted(options.config);
  if (options.adapter) {
    command += " --adapter " + shell_quoted(*options.adapter);
  }
  return command;
}

std::string read_trajectory_collection(const std::filesystem::path &file) {
  // Not parsed here: the plugin validates the collection anyway, with the
  // byte offset of a syntax error, and a DOM of a collection of hundreds of
  // MB costs seconds and several times the file's size in memory.
  return read_text_file(file);
}

}  // namespace nat::host
