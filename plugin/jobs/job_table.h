// The jobs an adapter knows (NAT's training_jobs), looked up by reference.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jobs/job.h"

namespace nat {

struct JobRef {
  std::string run_id;
  std::optional<uint64_t> job_id;  // metadata.job_id when the reference carries it
};

// Parses a TrainingJobRef: {"run_id": str, "backend": str, "metadata": {"job_id": int} | null}.
JobRef parse_job_ref(std::string_view json_text);

class JobTable {
 public:
  // A new pending job. ALREADY_EXISTS while a job with this run_id is pending
  // or running; the run_id of a finished job may be reused.
  std::shared_ptr<Job> create(const std::string &run_id, const std::string &backend, nlohmann::json metadata);
  // The job a reference names: by job_id when given, else the newest job with
  // that run_id. NOT_FOUND otherwise.
  std::shared_ptr<Job> find(const JobRef &ref) const;
  std::shared_ptr<Job> find(std::string_view job_ref_json) const { return find(parse_job_ref(job_ref_json)); }
  std::vector<std::shared_ptr<Job>> all() const;
  // {"jobs": [{"job_ref", "status"}...]}
  std::string jobs_json() const;

  // Cancels every job, wakes every waiter and joins the jobs' threads.
  void shutdown();
  const std::atomic<bool> &closing() const { return closing_; }

 private:
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Job>> by_id_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Job>>> by_run_id_;
  std::atomic<bool> closing_{false};
};

}  // namespace nat
