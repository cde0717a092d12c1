// A submitted job followed in the foreground until it ends: what run and
// resubmit share.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "adapter/adapter.h"
#include "command_line/interrupt_signal.h"

namespace nat::host {

struct ForegroundJobOptions {
  // Progress on stderr and the final TrainingJobStatus on stdout.
  bool wait = false;
  // Cancel the job after this many seconds; <= 0: never.
  double timeout_s = 0;
  // The command that submits a spooled collection of this config again
  // ("nat-trainer resubmit --config config.yml"), for the hint printed when
  // the job did not complete and its spool file is still there.
  std::string resubmit_command;
  // Also say when the spool file was removed (training completed).
  bool report_spool_removal = false;
};

struct ForegroundJobResult {
  // kExitSuccess (completed), kExitJobNotCompleted, or kExitSignalBase + N
  // after an interrupt.
  int exit_code = 0;
  bool interrupted = false;
  nlohmann::json status;
};

// Prints the TrainingJobRef (one JSON line on stdout), follows the job until
// it ends (progress on stderr with wait), cancels it on an interrupt or the
// timeout, then prints the final status (stdout with wait, one stderr line
// otherwise) and what became of its spool file. Throws AdapterError.
ForegroundJobResult follow_in_foreground(Adapter &adapter, const nlohmann::json &job_ref,
                                         const ForegroundJobOptions &options,
                                         const InterruptSignal &interrupt);

// `text` quoted for a POSIX shell when it needs to be.
std::string shell_quoted(const std::string &text);

}  // namespace nat::host
