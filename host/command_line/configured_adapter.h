// From --config and --adapter to a created adapter of the right plugin.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "adapter/adapter.h"
#include "command_line/commands.h"
#include "configuration/adapter_selection.h"
#include "discovery/plugin_catalog.h"

namespace CLI {
class App;
}

namespace nat::host {

// --config and --adapter: which adapter of which config file.
struct AdapterOptions {
  std::string config;
  std::optional<std::string> adapter;
};

// Registers --config (required) and --adapter on a subcommand.
void add_adapter_options(CLI::App &app, AdapterOptions &options);

// The catalog of the search path of this process and its --plugin-dir options.
PluginCatalog discover_plugins_for(const GlobalOptions &global);

// Reads the config and selects the adapter entry (no plugin is loaded).
// Throws ConfigError naming the file and the key.
AdapterSelection select_configured_adapter(const AdapterOptions &options);

struct ConfiguredAdapter {
  AdapterSelection selection;
  FoundPlugin plugin;
  std::unique_ptr<Adapter> adapter;
};

// Reads the config, selects the adapter entry, finds the plugin named by its
// _type and creates the adapter. Errors name the file, the entry and the
// plugin. Warns on stderr when the config turns TLS verification off
// (native.insecure_skip_tls_verify).
ConfiguredAdapter open_configured_adapter(const GlobalOptions &global, const AdapterOptions &options);

// A TrajectoryCollection file's text, not parsed: the adapter validates it
// (invalid JSON included) when it converts or submits it, and the commands
// put the file name before its error. Throws FileError naming the file.
std::string read_trajectory_collection(const std::filesystem::path &file);

// The command line that resubmits spool files of this config:
// "nat-trainer [--plugin-dir D...] resubmit --config C [--adapter A]",
// quoted for a POSIX shell.
std::string resubmit_command_for(const GlobalOptions &global, const AdapterOptions &options);

// "plugin-name (path)" for messages.
std::string describe_plugin(const FoundPlugin &plugin);

}  // namespace nat::host
