#include <CLI/CLI.hpp>
#include <iostream>

#include "adapter/adapter_error.h"
#include "command_line/commands.h"
#include "command_line/configured_adapter.h"
#include "command_line/foreground_job.h"
#include "command_line/interrupt_signal.h"

namespace nat::host {
namespace {

struct RunOptions {
  AdapterOptions target;
  std::string trajectories;
  bool wait = false;
  double timeout_s = 0;
};

int run_job(const GlobalOptions &global, const RunOptions &options) {
  ConfiguredAdapter configured = open_configured_adapter(global, options.target);
  Adapter &adapter = *configured.adapter;
  const std::string collection = read_trajectory_collection(options.trajectories);

  // A collection the adapter would refuse is reported before initialize,
  // which for openpipe-art contacts the backend and prepares it for
  // training. convert runs the same validation as submit and needs no
  // backend; an adapter that cannot convert before initialize is left to
  // submit's own validation.
  try {
    (void)adapter.convert_in_place(collection);
  } catch (const AdapterError &e) {
    if (e.code() == NAT_TRAINER_ADAPTER_INVALID_ARGUMENT) {
      throw std::runtime_error(options.trajectories + ": " + e.what());
    }
  }

  adapter.initialize(configured.selection.finetuning);

  // From here on Ctrl-C cancels the job instead of killing the process.
  InterruptSignal interrupt;
  nlohmann::json job_ref;
  try {
    job_ref = adapter.submit(collection);
  } catch (const AdapterError &e) {
    throw std::runtime_error(options.trajectories + ": " + e.what());
  }
  ForegroundJobOptions foreground;
  foreground.wait = options.wait;
  foreground.timeout_s = options.timeout_s;
  foreground.resubmit_command = resubmit_command_for(global, options.target);
  return follow_in_foreground(adapter, job_ref, foreground, interrupt).exit_code;
}

}  // namespace

Subcommand add_run_command(CLI::App &parent, const GlobalOptions &global) {
  CLI::App *app = parent.add_subcommand(
      "run",
      "Create the configured adapter, initialize it with the config's finetuning: section, submit a "
      "TrajectoryCollection and print the TrainingJobRef (one JSON line on stdout). The job lives in this "
      "process, so run stays until the job ends; Ctrl-C cancels it. With --wait it shows progress on stderr "
      "and "
      "prints the final TrainingJobStatus (one JSON line on stdout). Exit 0 only when the job completed. The "
      "collection "
      "is spooled before it is sent (native.spool_dir); when the job does not complete, `nat-trainer "
      "resubmit` "
      "submits it again.");
  auto options = std::make_shared<RunOptions>();
  add_adapter_options(*app, options->target);
  app->add_option("--trajectories", options->trajectories, "TrajectoryCollection JSON file to submit")
      ->required()
      ->check(CLI::ExistingFile.description(""))
      ->type_name("FILE");
  app->add_flag(
      "--wait", options->wait,
      "Follow the job: a progress bar on a terminal, plain lines otherwise (stderr); then print the "
      "final status");
  app->add_option("--timeout", options->timeout_s,
                  "Cancel the job if it has not ended after this many seconds (default: no limit)")
      ->check(CLI::NonNegativeNumber);
  return {app, [&global, options] { return run_job(global, *options); }};
}

}  // namespace nat::host
