#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command_line/commands.h"
#include "command_line/configured_adapter.h"

namespace nat::host {

Subcommand add_info_command(CLI::App &parent, const GlobalOptions &global) {
  CLI::App *app = parent.add_subcommand(
      "info", "Print a plugin's info and the JSON Schema of its adapter config, as pretty JSON");
  auto name = std::make_shared<std::string>();
  app->add_option("NAME", *name, "Plugin name: the NAT _type it implements (see `nat-trainer list`)")
      ->required();
  return {app, [&global, name] {
            const PluginCatalog catalog = discover_plugins_for(global);
            const FoundPlugin &plugin = catalog.require(*name, "the NAME argument");
            // Re-read in the plugin's own key order ("name" first, as it wrote it).
            const nlohmann::ordered_json info =
                nlohmann::ordered_json::parse(plugin.library->functions().plugin_info());
            std::cout << info.dump(2) << "\n";
            return static_cast<int>(kExitSuccess);
          }};
}

}  // namespace nat::host
