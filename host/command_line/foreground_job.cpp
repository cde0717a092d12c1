#include "command_line/foreground_job.h"

#include <filesystem>
#include <iostream>
#include <memory>

#include "adapter/job_follower.h"
#include "command_line/commands.h"
#include "command_line/progress_display.h"

namespace nat::host {
namespace {

// A string member, "" when absent or not a string (TrainingJobStatus.message may be null).
std::string text_member(const nlohmann::json &object, const char *key) {
  auto member = object.find(key);
  return member != object.end() && member->is_string() ? member->get<std::string>() : std::string();
}

// metadata.spool_file of a status, "" when there is none.
std::string spool_file_of(const nlohmann::json &status) {
  auto metadata = status.find("metadata");
  return metadata != status.end() && metadata->is_object() ? text_member(*metadata, "spool_file")
                                                           : std::string();
}

void report_spool_file(const std::string &run_id, const nlohmann::json &status,
                       const ForegroundJobOptions &options) {
  const std::string file = spool_file_of(status);
  if (file.empty()) {
    return;
  }
  std::error_code error;
  const bool exists = std::filesystem::exists(file, error);
  if (text_member(status, "status") == "completed") {
    if (options.report_spool_removal && !exists) {
      std::cerr << "nat-trainer: job " << run_id << ": training completed; spool file " << file
                << " removed\n";
    }
    return;
  }
  if (exists) {
    std::cerr << "nat-trainer: job " << run_id << ": the collection stays in the spool: " << file << "\n";
    if (!options.resubmit_command.empty()) {
      std::cerr << "nat-trainer: submit it again with: " << options.resubmit_command << " "
                << shell_quoted(file) << "\n";
    }
  }
}

}  // namespace

std::string shell_quoted(const std::string &text) {
  const bool plain = !text.empty() && text.find_first_not_of(
                                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789@%+=:,./_-") == std::string::npos;
  if (plain) {
    return text;
  }
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

ForegroundJobResult follow_in_foreground(Adapter &adapter, const nlohmann::json &job_ref,
                                         const ForegroundJobOptions &options,
                                         const InterruptSignal &interrupt) {
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
    callbacks.on_event = [&](const nlohmann::json &event) { display->on_event(event); };
    callbacks.on_idle = [&] { display->on_idle(); };
  } else {
    // Without --wait only warnings are shown: they concern this run.
    callbacks.on_event = [&](const nlohmann::json &event) {
      if (text_member(event, "type") == "warning") {
        std::cerr << "nat-trainer: job " << run_id << ": warning: " << text_member(event, "message") << "\n";
      }
    };
  }
  callbacks.interrupt_requested = [&] { return interrupt.requested(); };
  const FollowResult result = follow_job(adapter, job_ref, follow, callbacks);

  if (display) {
    display->finish(result.status);
  }
  if (result.outcome == FollowOutcome::interrupted) {
    std::cerr << "nat-trainer: interrupted; job " << run_id << " cancelled\n";
  } else if (result.outcome == FollowOutcome::timed_out) {
    std::cerr << "nat-trainer: --timeout " << options.timeout_s << " s ran out; job " << run_id
              << " cancelled\n";
  }
  if (options.wait) {
    std::cout << result.status.dump() << std::endl;
  } else {
    std::cerr << "nat-trainer: job " << run_id << " " << text_member(result.status, "status");
    const std::string message = text_member(result.status, "message");
    std::cerr << (message.empty() ? "" : ": ") << message << "\n";
  }
  report_spool_file(run_id, result.status, options);

  ForegroundJobResult end;
  end.status = result.status;
  end.interrupted = result.outcome == FollowOutcome::interrupted;
  if (text_member(result.status, "status") == "completed") {
    end.exit_code = kExitSuccess;
  } else if (end.interrupted) {
    end.exit_code = kExitSignalBase + interrupt.signal_number();
  } else {
    end.exit_code = kExitJobNotCompleted;
  }
  return end;
}

}  // namespace nat::host
