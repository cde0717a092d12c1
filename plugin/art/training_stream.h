// The reader of /_train_model's stream: one JSON object of metrics per
// gradient step, each carrying the call's total (num_gradient_steps). Counts
// the steps, keeps the announced total and says what the job should note.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_redactor.h"

namespace nat::art {

// A line's num_gradient_steps as a step count (0 to 2^53), or nullopt when it
// is not one (negative, not whole, beyond 2^53, or not a number).
std::optional<int64_t> gradient_step_count(const nlohmann::json &value);

// What one line of the stream told.
struct StreamStep {
  nlohmann::json metrics;          // the line's object, secrets masked
  int64_t steps_done = 0;          // lines read so far, this one included
  int64_t total_steps = -1;        // the announced total, -1 while unknown
  std::optional<double> progress;  // percent, once a total is known
  std::vector<std::string> notes;  // for the job's metadata.stream_notes
};

class TrainingStreamReader {
 public:
  explicit TrainingStreamReader(const SecretRedactor &secrets) : secrets_(secrets) {}

  // Throws std::runtime_error when the line is not a JSON object.
  StreamStep read_line(std::string_view line);

  int64_t steps_done() const { return lines_; }
  int64_t total_steps() const { return total_steps_; }
  // Fewer steps than the stream announced: it was cut.
  bool short_of_steps() const { return total_steps_ > 0 && lines_ < total_steps_; }
  // "3 of 5", or "3" when no total was announced.
  std::string steps_text() const;

 private:
  const SecretRedactor &secrets_;
  int64_t lines_ = 0;
  int64_t total_steps_ = -1;
};

}  // namespace nat::art
