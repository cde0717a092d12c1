#include <iostream>

#include <CLI/CLI.hpp>

#include "adapter/adapter_error.hpp"
#include "adapter/job_follower.hpp"
#include "command_line/commands.hpp"
#include "command_line/configured_adapter.hpp"
#include "command_line/interrupt_signal.hpp"
#include "command_line/progress_display.hpp"

namespace nat::host {
namespace {

// A string member, "" when absent or not a string (TrainingJobStatus.message may be null).
std::string text_member(const nlohmann::json& object, const char* key) {
  auto member = object.find(key);
  return member != object.end() && member->is_string() ? member->get<std::string>() : std::string();
}

struct RunOptions {
  AdapterOptions target;
  std::string trajectories;
  bool wait = false;
  double timeout_s = 0;
};

int run_job(const GlobalOptions& global, const RunOptions& options) {
  ConfiguredAdapter configured = open_configured_adapter(global, options.target);
  Adapter& adapter = *configured.adapter;
  const std::string collection = read_trajectory_collection(options.trajectories);

  adapter.initialize(configured.selection.finetuning);

  // From here on Ctrl-C cancels the job instead of killing the process.
  InterruptSignal interrupt;
  nlohmann::json job_ref;
  try {
    job_ref = adapter.submit(collection);
  } catch (const AdapterError& e) {
    throw std::runtime_error(options.trajectories + ": " + e.what());
  }
  std::cout << job_ref.dump() << std::endl;

  const std::string run_id = text_member(job_ref, "run_id");
  std::unique_ptr<ProgressDisplay> display;
  if (options.wait) {
    display = ProgressDisplay::for_stream(stderr, run_id);
  } else {
    // A job lives inside its adapter, and the adapter inside this process:
    // leaving now would cancel it.
    std::cerr << "nat-trainer: job " << run_id
              << " submitted; staying until it ends (Ctrl-C cancels it, --wait shows progress)\n";
  }

  FollowOptions follow;
  follow.timeout_s = options.timeout_s;
  FollowCallbacks callbacks;
  if (display) {
    callbacks.on_event = [&](const nlohmann::json& event) { display->on_event(event); };
    callbacks.on_idle = [&] { display->on_idle(); };
  }
  callbacks.interrupt_requested = [&] { return interrupt.requested(); };
  const FollowResult result = follow_job(adapter, job_ref, follow, callbacks);

  if (display) {
    display->finish(result.status);
  }
  if (result.outcome == FollowOutcome::interrupted) {
    std::cerr << "nat-trainer: interrupted; job " << run_id << " cancelled\n";
  } else if (result.outcome == FollowOutcome::timed_out) {
    std::cerr << "nat-trainer: --timeout " << options.timeout_s << " s ran out; job " << run_id << " cancelled\n";
  }
  if (options.wait) {
    std::cout << result.status.dump() << std::endl;
  } else {
    std::cerr << "nat-trainer: job " << run_id << " " << text_member(result.status, "status");
    const std::string message = text_member(result.status, "message");
    std::cerr << (message.empty() ? "" : ": ") << message << "\n";
  }

  if (text_member(result.status, "status") == "completed") {
    return kExitSuccess;
  }
  if (result.outcome == FollowOutcome::interrupted) {
    return kExitSignalBase + interrupt.signal_number();
  }
  return kExitJobNotCompleted;
}

}  // namespace

Subcommand add_run_command(CLI::App& parent, const GlobalOptions& global) {
  CLI::App* app = parent.add_subcommand(
      "run",
      "Create the configured adapter, initialize it with the config's finetuning: section, submit a "
      "TrajectoryCollection and print the TrainingJobRef (one JSON line on stdout). The job lives in this "
      "process, so run stays until the job ends; Ctrl-C cancels it. With --wait it shows progress on stderr and "
      "prints the final TrainingJobStatus (one JSON line on stdout). Exit 0 only when the job completed.");
  auto options = std::make_shared<RunOptions>();
  add_adapter_options(*app, options->target);
  app->add_option("--trajectories", options->trajectories, "TrajectoryCollection JSON file to submit")
      ->required()
      ->check(CLI::ExistingFile.description(""))
      ->type_name("FILE");
  app->add_flag("--wait", options->wait,
                "Follow the job: a progress bar on a terminal, plain lines otherwise (stderr); then print the "
                "final status");
  app->add_option("--timeout", options->timeout_s,
                  "Cancel the job if it has not ended after this many seconds (default: no limit)")
      ->check(CLI::NonNegativeNumber);
  return {app, [&global, options] { return run_job(global, *options); }};
}

}  // namespace nat::host
