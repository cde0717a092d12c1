// nat-trainer: finds trainer adapter plugins and drives them through the C ABI.
#include <nat/trainer_adapter.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "command_line/commands.h"
#include "configured_paths.h"
#include "discovery/search_path.h"

namespace nat::host {
namespace {

std::string footer() {
#ifdef _WIN32
  std::string search = std::string(R"(Plugins are searched in order in: --plugin-dir (each, as given), then
%NAT_TRAINER_ADAPTER_PATH% (';'-separated), then the plugins folder beside
nat-trainer.exe, then the installed plugin directory
  <folder of nat-trainer.exe>\)") +
                       NAT_HOST_INSTALLED_PLUGIN_DIR_FROM_BIN +
                       R"(
A plugin's name is the NAT _type it implements, in any case; the first plugin
with a name wins. DLLs that do not export nat_trainer_adapter_abi_version
(libcurl beside the plugins) are not plugins and are passed over.
`nat-trainer list` shows the search path.
)";
#else
  std::string search = std::string(R"(Plugins are searched in order in: --plugin-dir (each, as given), then
NAT_TRAINER_ADAPTER_PATH (colon-separated; ignored in setuid/setgid processes),
then the installed plugin directory
  )") + NAT_HOST_INSTALLED_PLUGIN_DIR +
                       R"(
then, for a binary run from its build tree, <build>/plugin. A plugin's name is
the NAT _type it implements; the first plugin with a name wins.
`nat-trainer list` shows the search path.
)";
#endif
  return search + R"(
Exit codes: 0 success (job completed, backend healthy); 1 job failed, canceled or
timed out, or backend unhealthy; 2 usage, config, plugin or adapter error;
128+N interrupted by signal N (the job is cancelled first).)";
}

int run_command_line(int argc, char **argv) {
  CLI::App app(
      "Run NeMo Agent Toolkit trainer adapter plugins: list them, check a backend, convert, submit and "
      "resubmit trajectory collections and follow training jobs.",
      "nat-trainer");
  app.set_version_flag("--version", std::string("nat-trainer ") + NAT_HOST_VERSION +
                                        " (trainer adapter ABI " +
                                        std::to_string(NAT_TRAINER_ADAPTER_ABI_MAJOR) + "." +
                                        std::to_string(NAT_TRAINER_ADAPTER_ABI_MINOR) + ")");
  app.footer(footer());
  // At most one; none is reported below with the list of subcommands, which
  // also makes CLI11 name an unknown word instead of asking for a subcommand.
  app.require_subcommand(0, 1);
  // --plugin-dir may also come after the subcommand.
  app.fallthrough();

  GlobalOptions global;
  app.add_option("--plugin-dir", global.plugin_dirs,
                 "Search this directory for plugins first (repeatable; searched in the order given)")
      ->check(CLI::ExistingDirectory.description(""))
      ->type_name("DIR");

  std::vector<Subcommand> subcommands{add_list_command(app, global),    add_info_command(app, global),
                                      add_health_command(app, global),  add_run_command(app, global),
                                      add_convert_command(app, global), add_resubmit_command(app, global)};
  for (Subcommand &job_command : add_job_commands(app)) {
    subcommands.push_back(std::move(job_command));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    const int code = app.exit(e);
    return code == 0 ? kExitSuccess : kExitError;
  }
  std::string names;
  for (const Subcommand &subcommand : subcommands) {
    if (subcommand.app->parsed()) {
      return subcommand.run();
    }
    names += (names.empty() ? "" : ", ") + subcommand.app->get_name();
  }
  std::cerr << "nat-trainer: error: a subcommand is required: " << names
            << "\nRun with --help for more information.\n";
  return kExitError;
}

}  // namespace
}  // namespace nat::host

int main(int argc, char **argv) {
  // Nothing escapes: every failure becomes one message and exit code 2.
  try {
    return nat::host::run_command_line(argc, argv);
  } catch (const std::exception &e) {
    std::cout.flush();
    std::cerr << "nat-trainer: error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "nat-trainer: error: unexpected failure\n";
  }
  return nat::host::kExitError;
}
