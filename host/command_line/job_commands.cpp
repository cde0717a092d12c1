#include <CLI/CLI.hpp>
#include <iostream>

#include "command_line/commands.h"

namespace nat::host {
namespace {

// The ABI keeps jobs inside the adapter object that submitted them, and the
// backends have nothing to ask instead (an ART server has no job identity
// and no cancel route). A second nat-trainer process cannot reach a job, so
// these commands say so rather than pretend.
constexpr const char *kWhy =
    "jobs live inside the adapter of the `nat-trainer run` process that submitted them and end with it; "
    "another process cannot reach them. Follow a job with `nat-trainer run --wait` (progress, then the final "
    "status) and cancel it with Ctrl-C in that terminal (or SIGTERM to that process).";

Subcommand explaining(CLI::App &parent, const std::string &name, const std::string &what) {
  CLI::App *app = parent.add_subcommand(name, what + " (not available across processes; see --help)");
  app->footer(std::string("Not available: ") + kWhy);
  // Whatever follows (a run id, options) gets the explanation, not a parse error.
  app->allow_extras();
  app->fallthrough(false);
  return {app, [name] {
            std::cerr << "nat-trainer: error: `" << name << "` is not available: " << kWhy << "\n";
            return static_cast<int>(kExitError);
          }};
}

}  // namespace

std::vector<Subcommand> add_job_commands(CLI::App &parent) {
  return {explaining(parent, "status", "Report a job's status"),
          explaining(parent, "wait", "Wait for a job to end"), explaining(parent, "cancel", "Cancel a job")};
}

}  // namespace nat::host
