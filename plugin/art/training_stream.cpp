#include "art/training_stream.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "art/replies.h"
#include "json/small_json.h"

namespace nat::art {

namespace {

// The largest step count taken from the stream: 2^53, where doubles still
// hold every integer, far below what int64_t holds.
constexpr double kMaxGradientSteps = 9007199254740992.0;

constexpr const char *kNonfiniteNote =
    "the stream had NaN or Infinity values (not JSON; Python's json.dumps writes them) or numbers beyond the "
    "range of a double, read as null";

}  // namespace

// ART sends an int. A value that is negative, not a whole number or beyond
// 2^53 (1e300, -1e300; NaN, Infinity and 1e400 arrive as null, see
// parse_stream_line) cannot be converted to an integer without undefined
// behaviour, or means nothing as a step count. Such a field is ignored, not a
// protocol error: it only feeds the progress percentage; the server is
// training regardless, and failing the job would report a failure for a step
// the server completes (and invite a resubmit that trains the collection
// twice). The job's metadata notes that it was ignored.
std::optional<int64_t> gradient_step_count(const nlohmann::json &value) {
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v <= static_cast<uint64_t>(kMaxGradientSteps)) return static_cast<int64_t>(v);
    return std::nullopt;
  }
  if (value.is_number_integer()) {
    int64_t v = value.get<int64_t>();
    if (v >= 0 && v <= static_cast<int64_t>(kMaxGradientSteps)) return v;
    return std::nullopt;
  }
  if (value.is_number_float()) {
    double v = value.get<double>();
    // NaN fails every comparison, so it is refused here too.
    if (v >= 0.0 && v <= kMaxGradientSteps && std::floor(v) == v) return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

StreamStep TrainingStreamReader::read_line(std::string_view line) {
  bool nonfinite = false;
  StreamStep step;
  step.metrics = parse_stream_line(line, &nonfinite);
  if (!step.metrics.is_object()) throw std::runtime_error("training stream line is not a JSON object");
  secrets_.redact(step.metrics);
  ++lines_;
  if (nonfinite) step.notes.push_back(kNonfiniteNote);
  auto it = step.metrics.find("num_gradient_steps");
  if (it != step.metrics.end() && it->is_number()) {
    // Range-checked before any conversion; see gradient_step_count.
    if (auto count = gradient_step_count(*it)) {
      total_steps_ = *count;
    } else {
      step.notes.push_back("num_gradient_steps " + nat::json::dump(*it) +
                           " is not a step count (a whole number from 0 to 2^53) and was ignored");
    }
  }
  step.steps_done = lines_;
  step.total_steps = total_steps_;
  if (total_steps_ > 0)
    step.progress = std::min(100.0, 100.0 * static_cast<double>(lines_) / static_cast<double>(total_steps_));
  return step;
}

std::string TrainingStreamReader::steps_text() const {
  return total_steps_ >= 0 ? std::to_string(lines_) + " of " + std::to_string(total_steps_)
                           : std::to_string(lines_);
}

}  // namespace nat::art
