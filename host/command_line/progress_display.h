// Showing a followed job's progress on stderr.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace nat::host {

// Renders training events: a progress bar redrawn in place on a terminal,
// one plain line per event otherwise (logs, pipes, CI).
class ProgressDisplay {
 public:
  virtual ~ProgressDisplay() = default;

  // A progress bar when `stream` is a terminal, plain lines otherwise.
  static std::unique_ptr<ProgressDisplay> for_stream(std::FILE *stream, const std::string &run_id);

  virtual void on_event(const nlohmann::json &event) = 0;
  // Time passes without events: lets a bar's clock tick.
  virtual void on_idle() = 0;
  // The job stopped being followed; `status` is its TrainingJobStatus.
  virtual void finish(const nlohmann::json &status) = 0;
};

// "mm:ss", or "h:mm:ss" past an hour.
std::string format_elapsed(std::chrono::steady_clock::duration elapsed);

// "step 3/10  loss 0.4321"-style summary of a step event's fields.
struct StepProgress {
  long long step = 0;
  long long total = 0;  // 0: unknown
  bool has_loss = false;
  double loss = 0;

  static StepProgress from_event(const nlohmann::json &event);
};

}  // namespace nat::host
