// The subcommands of nat-trainer and what they share.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace nat::host {

// Exit codes of nat-trainer.
enum ExitCode : int {
  kExitSuccess = 0,
  // The job ended failed or canceled, or timed out; the backend is unhealthy.
  kExitJobNotCompleted = 1,
  // Usage, config, plugin, file or adapter error.
  kExitError = 2,
  // Interrupted by a signal: 128 + its number (130 for Ctrl-C).
  kExitSignalBase = 128,
};

// Options of nat-trainer itself, shared by all subcommands.
struct GlobalOptions {
  std::vector<std::string> plugin_dirs;
};

// A registered subcommand: its CLI11 app, and what to run when it was parsed.
struct Subcommand {
  CLI::App *app;
  std::function<int()> run;
};

Subcommand add_list_command(CLI::App &parent, const GlobalOptions &global);
Subcommand add_info_command(CLI::App &parent, const GlobalOptions &global);
Subcommand add_health_command(CLI::App &parent, const GlobalOptions &global);
Subcommand add_run_command(CLI::App &parent, const GlobalOptions &global);
Subcommand add_convert_command(CLI::App &parent, const GlobalOptions &global);
Subcommand add_resubmit_command(CLI::App &parent, const GlobalOptions &global);
// status, wait and cancel: they explain why jobs cannot be reached from
// another process.
std::vector<Subcommand> add_job_commands(CLI::App &parent);

}  // namespace nat::host
