// nat-trainer resubmit: its options, and spooled collections submitted again.
// What is spooled comes from the plugin (spool_listing), the listing's
// rendering from spool_table.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "adapter/adapter_error.h"
#include "command_line/commands.h"
#include "command_line/configured_adapter.h"
#include "command_line/foreground_job.h"
#include "command_line/interrupt_signal.h"
#include "command_line/spool_listing.h"
#include "command_line/spool_table.h"

namespace nat::host {
namespace {

namespace fs = std::filesystem;

struct ResubmitOptions {
  AdapterOptions target;
  std::vector<std::string> files;
  bool wait = false;
  double timeout_s = 0;
  bool list = false;
  bool json = false;
  std::optional<std::string> spool_dir;
};

// --list: what the plugin lists of the adapter's spool directory (or of
// --spool-dir).
int list_spool(const GlobalOptions &global, const ResubmitOptions &options) {
  ConfiguredAdapter configured = open_configured_adapter(global, options.target);
  const std::optional<fs::path> directory =
      options.spool_dir ? std::optional<fs::path>(*options.spool_dir) : std::nullopt;
  const SpoolListing listing = list_spooled(*configured.adapter, configured.selection.origin, directory);
  if (options.json) {
    print_spool_json(std::cout, listing);
  } else {
    print_spool_table(std::cout, listing, resubmit_command_for(global, options.target));
  }
  return kExitSuccess;
}

// --- resubmitting --------------------------------------------------------------

// A spool file must be a complete collection the plugin lists in its spool
// directory: the adapter removes the file once its training completed,
// which must never happen to a collection the user keeps elsewhere.
void check_spool_file(const fs::path &file, const SpoolListing &listing) {
  const SpooledFile *spooled = find_spooled(listing, file);
  if (spooled != nullptr && !spooled->ready) {
    throw std::runtime_error(
        file.string() +
        ": an incomplete spool file (its writer stopped while writing it); nothing of it was "
        "sent, and it cannot be resubmitted");
  }
  std::error_code error;
  if (!fs::is_regular_file(file, error)) {
    throw std::runtime_error(file.string() + ": not a regular file");
  }
  if (spooled == nullptr) {
    throw std::runtime_error(
        file.string() + ": not a file of the spool directory " + listing.directory.string() + " (" +
        listing.origin +
        "). resubmit takes spool files, and removes each once its training completed; "
        "submit other collections with `nat-trainer run --trajectories FILE`, or name the "
        "directory the file is in with --spool-dir");
  }
}

// The adapter again, with --spool-dir as its native.spool_dir: the plugin
// removes a resubmitted file once trained only when it is a file of its own
// spool directory (any other file it submits as a copy and leaves alone).
void use_spool_dir(ConfiguredAdapter &configured, const fs::path &directory) {
  nlohmann::json config = configured.selection.adapter_config;
  nlohmann::json &native = config["native"];
  if (native.is_null()) {
    native = nlohmann::json::object();
  }
  if (native.is_object()) {
    native["spool_dir"] = directory.string();
  }
  configured.adapter.reset();
  try {
    configured.adapter = std::make_unique<Adapter>(configured.plugin.library, config);
  } catch (const AdapterError &e) {
    throw std::runtime_error(configured.selection.origin + ": plugin " + describe_plugin(configured.plugin) +
                             " refused the adapter config with native.spool_dir from --spool-dir: " +
                             adapter_code_name(e.code()) + ": " + e.message());
  }
}

int resubmit(const GlobalOptions &global, const ResubmitOptions &options) {
  if (options.files.empty()) {
    std::cerr
        << "nat-trainer: error: resubmit needs the spool files to submit again (see `nat-trainer resubmit "
           "--list`)\nRun with --help for more information.\n";
    return kExitError;
  }
  ConfiguredAdapter configured = open_configured_adapter(global, options.target);
  if (!configured.adapter->can_resubmit()) {
    throw std::runtime_error("plugin " + describe_plugin(configured.plugin) + " cannot resubmit: its ABI " +
                             abi_version_text(configured.plugin.library->abi_version()) +
                             " has no nat_trainer_adapter_resubmit (it came with ABI 1.1)");
  }
  const std::optional<fs::path> directory =
      options.spool_dir ? std::optional<fs::path>(*options.spool_dir) : std::nullopt;
  const SpoolListing listing = list_spooled(*configured.adapter, configured.selection.origin, directory);
  // Every file is checked before initialize, which can take minutes.
  for (const std::string &file : options.files) {
    check_spool_file(file, listing);
  }
  if (options.spool_dir) {
    use_spool_dir(configured, listing.directory);
  }
  Adapter &adapter = *configured.adapter;
  adapter.initialize(configured.selection.finetuning);

  // From here on Ctrl-C cancels the running job and stops.
  InterruptSignal interrupt;
  ForegroundJobOptions foreground;
  foreground.wait = options.wait;
  foreground.timeout_s = options.timeout_s;
  foreground.resubmit_command = resubmit_command_for(global, options.target);
  foreground.report_spool_removal = true;

  bool failed_to_submit = false;
  bool not_completed = false;
  // One job after the other: collections of one run_id cannot train at once,
  // and one job at a time is what `run` does too.
  for (const std::string &file : options.files) {
    if (interrupt.requested()) {
      std::cerr << "nat-trainer: interrupted; not resubmitted: " << file << "\n";
      not_completed = true;
      continue;
    }
    nlohmann::json job_ref;
    try {
      job_ref = adapter.resubmit(file);
    } catch (const AdapterError &e) {
      std::cout.flush();
      std::cerr << "nat-trainer: error: " << file << ": " << e.what() << "\n";
      failed_to_submit = true;
      continue;
    }
    const ForegroundJobResult end = follow_in_foreground(adapter, job_ref, foreground, interrupt);
    if (end.interrupted) {
      for (auto rest = std::find(options.files.begin(), options.files.end(), file) + 1;
           rest != options.files.end(); ++rest) {
        std::cerr << "nat-trainer: interrupted; not resubmitted: " << *rest << "\n";
      }
      return end.exit_code;
    }
    not_completed = not_completed || end.exit_code != kExitSuccess;
  }
  if (failed_to_submit) {
    return kExitError;
  }
  return not_completed ? kExitJobNotCompleted : kExitSuccess;
}

}  // namespace

Subcommand add_resubmit_command(CLI::App &parent, const GlobalOptions &global) {
  CLI::App *app = parent.add_subcommand(
      "resubmit",
      "Submit spooled collections again. Every submit first writes its collection to the spool directory "
      "(native.spool_dir); the file is removed only when training completed. After a failed, canceled or "
      "interrupted job, or a crash, resubmit initializes the configured adapter as run does and submits each "
      "SPOOL_FILE again, one job after the other (same run_id; the file stays its spool file until training "
      "completes). Like run it prints each TrainingJobRef, stays until each job ends (Ctrl-C cancels it), "
      "and with "
      "--wait shows progress and prints each final TrainingJobStatus. Exit 0 only when every job completed. "
      "--list shows the spool directory instead.");
  auto options = std::make_shared<ResubmitOptions>();
  add_adapter_options(*app, options->target);
  CLI::Option *files =
      app->add_option("SPOOL_FILE", options->files,
                      "Spool files to submit again (files of the spool directory; see --list)")
          ->check(CLI::ExistingFile.description(""))
          ->type_name("FILE");
  CLI::Option *wait = app->add_flag("--wait", options->wait,
                                    "Follow each job: a progress bar on a terminal, plain lines otherwise "
                                    "(stderr); then print its final status");
  CLI::Option *timeout =
      app->add_option("--timeout", options->timeout_s,
                      "Cancel a job if it has not ended after this many seconds (default: no limit)")
          ->check(CLI::NonNegativeNumber);
  CLI::Option *list =
      app->add_flag("--list", options->list,
                    "List the spool directory: each spooled collection with its time, size, run "
                    "and writer process, then incomplete files; sends nothing");
  list->excludes(files)->excludes(wait)->excludes(timeout);
  app->add_flag("--json", options->json, "With --list: print the listing as JSON")->needs(list);
  app->add_option("--spool-dir", options->spool_dir,
                  "The spool directory (default: native.spool_dir of the adapter config, else the plugin's "
                  "default)")
      ->type_name("DIR");
  return {app, [&global, options] {
            return options->list ? list_spool(global, *options) : resubmit(global, *options);
          }};
}

}  // namespace nat::host
