#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string_view>

#include "adapter/adapter_error.h"
#include "command_line/commands.h"
#include "command_line/configured_adapter.h"
#include "files/text_file.h"

namespace nat::host {
namespace {

struct ConvertOptions {
  AdapterOptions target;
  std::string trajectories;
  std::optional<std::string> out;
};

int convert(const GlobalOptions &global, const ConvertOptions &options) {
  ConfiguredAdapter configured = open_configured_adapter(global, options.target);
  std::optional<PluginBuffer> converted;
  {
    // The collection is not needed once converted: freed before the body is
    // written.
    const std::string collection = read_trajectory_collection(options.trajectories);
    try {
      converted.emplace(configured.adapter->convert_in_place(collection));
    } catch (const AdapterError &e) {
      throw std::runtime_error(options.trajectories + ": " + e.what());
    }
  }
  // Written from the plugin's buffer: a body of hundreds of MB is not copied.
  const std::string_view body = converted->view();
  if (options.out) {
    write_text_file(*options.out, body);
    return kExitSuccess;
  }
  std::cout.write(body.data(), static_cast<std::streamsize>(body.size()));
  if (body.empty() || body.back() != '\n') {
    std::cout << '\n';
  }
  std::cout.flush();
  return kExitSuccess;
}

}  // namespace

Subcommand add_convert_command(CLI::App &parent, const GlobalOptions &global) {
  CLI::App *app = parent.add_subcommand(
      "convert",
      "Validate a TrajectoryCollection and convert it exactly as run would, without sending anything: print "
      "what the adapter would send to its backend (for openpipe-art the /_train_model request body). Needs "
      "no "
      "backend.");
  auto options = std::make_shared<ConvertOptions>();
  add_adapter_options(*app, options->target);
  app->add_option("--trajectories", options->trajectories, "TrajectoryCollection JSON file to convert")
      ->required()
      ->check(CLI::ExistingFile.description(""))
      ->type_name("FILE");
  app->add_option("--out", options->out, "Write the converted body to this file instead of stdout");
  return {app, [&global, options] { return convert(global, *options); }};
}

}  // namespace nat::host
