// NAT's NeMoCustomizerTrainerAdapter: turns collections of DPO episodes into
// a dataset in the NeMo Data Store, registers it, starts a NeMo Customizer
// job and follows it (optionally deploying the trained model), behind the
// same job table, events, spool and C boundary as the ART adapter.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "adapter/job_adapter.h"
#include "base/secret_redactor.h"
#include "customizer/customizer_config.h"
#include "customizer/dpo_dataset.h"
#include "customizer/nemo_client.h"

namespace nat::customizer {

class CustomizerTrainerAdapter : public JobAdapter {
 public:
  static constexpr const char *kType = "nemo_customizer_trainer_adapter";
  static constexpr const char *kBackend = "nemo-customizer";

  explicit CustomizerTrainerAdapter(CustomizerConfig config);
  ~CustomizerTrainerAdapter() override;

  void initialize(std::string_view run_config_json) override;
  bool is_healthy() override;
  std::string submit(std::string_view collection_json) override;
  std::string convert(std::string_view collection_json) override;
  std::string resubmit(const std::string &spool_path) override;
  std::string spooled(const std::optional<std::string> &dir) override;
  std::string jobs() override;
  void log_progress(std::string_view job_ref_json, std::string_view metrics_json,
                    const char *output_dir) override;

  // NAT's status mapping of a Customizer job status (case-insensitive):
  // created/pending -> pending, running -> running, completed, failed,
  // cancelled/canceled -> canceled, anything else -> running.
  static JobState map_status(const std::string &nemo_status);

 protected:
  nlohmann::json trainer_config_summary() const override;

 private:
  struct Submitted {
    std::string nemo_job_id;   // as the service gave it: used in requests
    std::string shown_job_id;  // in references, statuses and events
    std::optional<std::string> output_model;
    std::string dataset_name;
    std::string spool_file;
  };

  template <class F>
  auto redacting_errors(F &&fn) -> decltype(fn());
  void finish_job(Job &job, JobState state, const std::string &message, std::optional<double> progress) const;
  std::string submit_bytes(const std::string &input, std::string spool_file);
  // The dataset upload and the job creation, on the caller's thread (the
  // reference NAT returns carries the service's job id).
  Submitted send(Job &job, const std::string &run_id, const DpoDataset &dataset);
  nlohmann::ordered_json job_body() const;
  void run_job(Job &job, const Submitted &submitted);
  void cancel_remote(Job &job, const Submitted &submitted);
  // "" when the model is deployed and ready, else what went wrong.
  std::string deploy(Job &job, const std::string &run_id, const Submitted &submitted);
  bool sleep_or_cancel(Job &job, double seconds);

  CustomizerConfig config_;
  SecretRedactor secrets_;
  NemoClient client_;
  std::atomic<bool> initialized_{false};
  mutable std::mutex mu_;
  nlohmann::json run_config_;
  nlohmann::json namespaces_;             // what initialize's namespace requests did
  std::map<uint64_t, std::string> refs_;  // job id -> NAT's TrainingJobRef
};

}  // namespace nat::customizer
