// The part of an adapter that is the same for every backend: the job table,
// status, waiting, cancellation, events and NAT's log_progress file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "adapter/trainer_adapter.h"
#include "jobs/job_table.h"

namespace nat {

class JobAdapter : public TrainerAdapter {
 public:
  std::string status(std::string_view job_ref_json) override;
  std::string wait_until_complete(std::string_view job_ref_json, double poll_interval_s,
                                  double timeout_s) override;
  void cancel(std::string_view job_ref_json) override;
  std::string jobs() override;
  std::optional<std::string> next_event(std::string_view job_ref_json, double timeout_s) override;
  void log_progress(std::string_view job_ref_json, std::string_view metrics_json,
                    const char *output_dir) override;
  void shutdown() override;

 protected:
  // The "trainer_config" object of log_progress lines.
  virtual nlohmann::json trainer_config_summary() const = 0;

  JobTable jobs_;
};

// NAT's default log_progress directory.
constexpr const char *kDefaultProgressDir = "./.tmp/nat/finetuning/trainer_adapter";

}  // namespace nat
