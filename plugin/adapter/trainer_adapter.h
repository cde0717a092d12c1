// NAT's TrainerAdapter contract in C++: what every plugin of this tree
// implements behind the C boundary. Methods throw nat::Error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace nat {

class TrainerAdapter {
 public:
  virtual ~TrainerAdapter() = default;

  virtual void initialize(std::string_view run_config_json) = 0;
  virtual bool is_healthy() = 0;
  virtual std::string submit(std::string_view collection_json) = 0;
  virtual std::string status(std::string_view job_ref_json) = 0;
  virtual std::string wait_until_complete(std::string_view job_ref_json, double poll_interval_s,
                                          double timeout_s) = 0;
  virtual void cancel(std::string_view job_ref_json) = 0;
  virtual std::string jobs() = 0;
  virtual std::optional<std::string> next_event(std::string_view job_ref_json, double timeout_s) = 0;
  virtual void log_progress(std::string_view job_ref_json, std::string_view metrics_json,
                            const char *output_dir) = 0;
  virtual std::string convert(std::string_view collection_json) = 0;
  // Submits a collection again from its spool file.
  virtual std::string resubmit(const std::string &spool_path) = 0;
  // The collections in a spool directory (nullopt: the adapter's own) as the
  // JSON of nat_trainer_adapter_spooled. An adapter that keeps no spool
  // refuses with FAILED_PRECONDITION.
  virtual std::string spooled(const std::optional<std::string> &dir) {
    (void)dir;
    throw Error(ErrorCode::FailedPrecondition,
                "this adapter keeps no spool: there are no spooled collections to list");
  }
  // Cancels and joins all background work; the adapter is unusable afterwards.
  virtual void shutdown() = 0;
};

}  // namespace nat
