#include <CLI/CLI.hpp>
#include <iostream>

#include "command_line/commands.h"
#include "command_line/configured_adapter.h"

namespace nat::host {

Subcommand add_health_command(CLI::App &parent, const GlobalOptions &global) {
  CLI::App *app = parent.add_subcommand(
      "health",
      "Create the configured adapter and check its backend (is_healthy); exit 0 when healthy, 1 when "
      "not");
  auto options = std::make_shared<AdapterOptions>();
  add_adapter_options(*app, *options);
  return {app, [&global, options] {
            ConfiguredAdapter configured = open_configured_adapter(global, *options);
            const bool healthy = configured.adapter->is_healthy();
            std::cout << configured.selection.origin << ": " << describe_plugin(configured.plugin) << ": "
                      << (healthy ? "healthy" : "unhealthy") << "\n";
            return static_cast<int>(healthy ? kExitSuccess : kExitJobNotCompleted);
          }};
}

}  // namespace nat::host
