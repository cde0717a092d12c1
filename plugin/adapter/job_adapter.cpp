#include "adapter/job_adapter.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "base/error.h"
#include "jobs/progress_log.h"
#include "json/small_json.h"

namespace nat {

std::string JobAdapter::status(std::string_view job_ref_json) {
  return jobs_.find(job_ref_json)->status_json();
}

std::string JobAdapter::wait_until_complete(std::string_view job_ref_json, double poll_interval_s,
                                            double timeout_s) {
  if (!(poll_interval_s >= 0) || poll_interval_s != poll_interval_s)
    throw_invalid("poll_interval_s must be a number >= 0");
  if (timeout_s != timeout_s) throw_invalid("timeout_s must be a number");
  auto job = jobs_.find(job_ref_json);
  // The job's condition variable wakes the wait the moment the job ends, so
  // the poll interval does not delay the answer.
  if (!job->wait(timeout_s, jobs_.closing()))
    throw Error(ErrorCode::DeadlineExceeded, "Training job with run_id " + job->run_id() +
                                                 " did not finish within " + std::to_string(timeout_s) +
                                                 " s; it is still " + job_state_name(job->state()) + ".");
  return job->status_json();
}

void JobAdapter::cancel(std::string_view job_ref_json) { jobs_.find(job_ref_json)->request_cancel(); }

std::string JobAdapter::jobs() { return jobs_.jobs_json(); }

std::optional<std::string> JobAdapter::next_event(std::string_view job_ref_json, double timeout_s) {
  if (timeout_s != timeout_s) throw_invalid("timeout_s must be a number");
  return jobs_.find(job_ref_json)->next_event(timeout_s, jobs_.closing());
}

void JobAdapter::log_progress(std::string_view job_ref_json, std::string_view metrics_json,
                              const char *output_dir) {
  nlohmann::json ref = json::parse_checked(job_ref_json, "job reference");
  if (!ref.is_object() || !ref.contains("run_id") || !ref["run_id"].is_string())
    throw_invalid("job reference: expected a TrainingJobRef object with a string run_id");
  // Duplicate keys are refused, as collections refuse them.
  nlohmann::json metrics = json::parse_checked(metrics_json, "metrics", 64, json::DuplicateKeys::Refuse);
  if (!metrics.is_object()) throw_invalid("metrics: expected a JSON object");
  std::string run_id = ref["run_id"].get<std::string>();
  if (run_id.empty() || run_id.find('/') != std::string::npos || run_id.find('\0') != std::string::npos ||
      run_id == "." || run_id == "..")
    throw_invalid("job reference: run_id \"" + run_id + "\" cannot name a progress file");
  // NAT writes {"timestamp", "run_id", "backend", "trainer_config", **metrics}
  // in that order; metrics may override the earlier keys.
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["timestamp"] = iso_now();
  line["run_id"] = run_id;
  line["backend"] =
      ref.contains("backend") ? nlohmann::ordered_json(ref["backend"]) : nlohmann::ordered_json();
  line["trainer_config"] = nlohmann::ordered_json::parse(json::dump(trainer_config_summary()));
  nlohmann::ordered_json ordered_metrics =
      nlohmann::ordered_json::parse(metrics_json.begin(), metrics_json.end());
  for (auto it = ordered_metrics.begin(); it != ordered_metrics.end(); ++it) line[it.key()] = it.value();
  std::filesystem::path dir = output_dir && *output_dir ? std::filesystem::path(output_dir)
                                                        : std::filesystem::path(kDefaultProgressDir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::Unavailable, "cannot create " + dir.string() + ": " + ec.message());
  append_line(dir / ("trainer_adapter_" + run_id + ".jsonl"),
              line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

void JobAdapter::shutdown() { jobs_.shutdown(); }

}  // namespace nat
