// NAT's ARTTrainerAdapter: validates and converts trajectory collections,
// streams them to an ART `art run` server and follows the training job.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "adapter/job_adapter.h"
#include "adapter/secret_redactor.h"
#include "art/art_client.h"
#include "config/adapter_config.h"

namespace nat {

class ArtTrainerAdapter : public JobAdapter {
 public:
  static constexpr const char *kType = "openpipe_art_trainer_adapter";
  static constexpr const char *kBackend = "openpipe-art";

  explicit ArtTrainerAdapter(AdapterConfig config);
  ~ArtTrainerAdapter() override;

  void initialize(std::string_view run_config_json) override;
  bool is_healthy() override;
  std::string submit(std::string_view collection_json) override;
  std::string convert(std::string_view collection_json) override;
  std::string resubmit(const std::string &spool_path) override;

 protected:
  nlohmann::json trainer_config_summary() const override;

 private:
  // What initialize learned; copied by each job so a later initialize does
  // not change a running job.
  struct Session {
    art::ServerDialect server;
    art::InferenceEndpoint inference;
    int64_t step = 0;
  };

  struct Body {
    std::string prefix;  // {"model":...,"trajectory_groups":
    std::string suffix;  // ,"config":{...},"dev_config":{},"verbose":false}
  };
  Body body_frame(const Session &session) const;
  void initialize_unredacted(std::string_view run_config_json);
  std::string convert_unredacted(std::string_view collection_json);
  Session current_session(bool require_initialized) const;
  std::string model_json(const Session &session, bool with_inference) const;
  struct PendingSpoolSync;
  // Waits for the spool file's sync and notes it in the job's metadata
  // (spool_sync, spool_sync_s, spool_sync_wait_s), with a "warning" event
  // when it failed. Once per file; before the job's terminal status.
  static void settle_spool_sync(Job &job, PendingSpoolSync &pending);
  std::string submit_bytes(std::shared_ptr<const std::string> input, std::string spool_file);
  void run_job(Job &job, Session session, std::shared_ptr<const std::string> input,
               std::shared_ptr<const CollectionPlan> plan, std::string spool_file,
               PendingSpoolSync *spool_sync);
  // Runs `fn`; a nat::Error or other exception leaving it has its message
  // redacted (the api keys masked).
  template <class F>
  auto redacting_errors(F &&fn) -> decltype(fn());
  // job.finish with the message redacted.
  void finish_job(Job &job, JobState state, const std::string &message, std::optional<double> progress) const;

  AdapterConfig config_;
  // The api keys, masked in every message, status and event (and in server
  // replies the client quotes, before they are cut).
  SecretRedactor secrets_;
  art::ArtClient client_;
  // native.insecure_skip_tls_verify: warned once per adapter, as a "warning"
  // event of the first job that runs.
  std::atomic<bool> tls_warning_pending_{false};
  mutable std::mutex session_mu_;
  std::optional<Session> session_;
  nlohmann::json run_config_;
};

}  // namespace nat
