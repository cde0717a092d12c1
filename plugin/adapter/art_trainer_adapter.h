// NAT's ARTTrainerAdapter: validates and converts trajectory collections,
// streams them to an ART `art run` server and follows the training job.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "adapter/job_adapter.h"
#include "art/art_client.h"
#include "art/training_stream.h"
#include "base/secret_redactor.h"
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
  std::string spooled(const std::optional<std::string> &dir) override;

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
  // A submitted job, on its thread: the step before, old checkpoints, the
  // upload and training stream, then the outcome.
  void run_job(Job &job, Session session, std::shared_ptr<const std::string> input,
               std::shared_ptr<const CollectionPlan> plan, std::string spool_file,
               PendingSpoolSync *spool_sync);
  void delete_old_checkpoints(Job &job, const Session &session, const std::string &model,
                              int64_t step_before);
  // Converts the collection into the request body while it is sent to
  // /_train_model, and records each line of the training stream in the job.
  art::StreamResult upload_and_train(Job &job, const Session &session, const std::string &input,
                                     const CollectionPlan &plan, art::TrainingStreamReader &stream);
  void record_step(Job &job, const art::StreamStep &step, std::chrono::duration<double> elapsed);
  // The stream ended properly: the step after, the trained flag, the
  // inference model's name, the spool file removed; Completed.
  void complete_job(Job &job, const Session &session, const std::string &model, int64_t step_before,
                    const art::TrainingStreamReader &stream, const std::string &spool_file,
                    PendingSpoolSync *spool_sync);
  // /_train_model answered with a status that is not a training stream.
  void fail_on_status(Job &job, const art::StreamResult &result) const;
  // The stream broke or fell short: the server is asked for its step, and the
  // job fails saying what the server recorded.
  void fail_with_reconciliation(Job &job, const std::string &model, int64_t step_before,
                                const art::TrainingStreamReader &stream, const art::StreamResult &result);
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
