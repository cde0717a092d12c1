#include "jobs/job_table.h"

#include "base/error.h"
#include "json/scanner.h"
#include "json/small_json.h"

namespace nat {

JobRef parse_job_ref(std::string_view text) {
  // A hand-rolled walk: status() is on the hot path of callers that poll.
  JobRef ref;
  bool have_run_id = false;
  try {
    json::Scanner s(text, 16);
    if (s.peek() != json::Kind::Object) throw_invalid("job reference: expected a TrainingJobRef JSON object");
    s.begin_object();
    std::string_view key;
    while (s.next_key(key)) {
      if (json::Scanner::key_equals(key, "run_id")) {
        if (s.peek() != json::Kind::String) throw_invalid("job reference: run_id must be a string");
        ref.run_id = s.string_value();
        have_run_id = true;
      } else if (json::Scanner::key_equals(key, "metadata") && s.peek() == json::Kind::Object) {
        s.begin_object();
        std::string_view mkey;
        while (s.next_key(mkey)) {
          if (json::Scanner::key_equals(mkey, "job_id") && s.peek() == json::Kind::Number) {
            std::string_view n = s.number_raw();
            uint64_t v = 0;
            bool ok = !n.empty() && n.size() < 20;
            for (char c : n) {
              ok = ok && c >= '0' && c <= '9';
              v = v * 10 + static_cast<uint64_t>(c - '0');
            }
            if (!ok) throw_invalid("job reference: metadata.job_id must be a positive integer");
            ref.job_id = v;
          } else {
            s.skip_value();
          }
        }
      } else {
        s.skip_value();
      }
    }
    s.expect_end();
  } catch (const json::SyntaxError &e) {
    throw_invalid(std::string("job reference: ") + e.what());
  }
  if (!have_run_id) throw_invalid("job reference: missing required key 'run_id'");
  return ref;
}

std::shared_ptr<Job> JobTable::create(const std::string &run_id, const std::string &backend,
                                      nlohmann::json metadata) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) throw Error(ErrorCode::FailedPrecondition, "the adapter is being destroyed");
  auto it = by_run_id_.find(run_id);
  if (it != by_run_id_.end()) {
    for (const auto &job : it->second)
      if (!is_terminal(job->state()))
        throw Error(ErrorCode::AlreadyExists, "Training job with run_id " + run_id + " already exists.");
  }
  auto job = std::make_shared<Job>(next_id_++, run_id, backend, std::move(metadata));
  by_id_[job->id()] = job;
  by_run_id_[run_id].push_back(job);
  return job;
}

std::shared_ptr<Job> JobTable::find(const JobRef &ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (ref.job_id) {
    auto it = by_id_.find(*ref.job_id);
    if (it != by_id_.end() && it->second->run_id() == ref.run_id) return it->second;
  } else {
    auto it = by_run_id_.find(ref.run_id);
    if (it != by_run_id_.end() && !it->second.empty()) return it->second.back();
  }
  throw Error(ErrorCode::NotFound, "No training job found with run_id " + ref.run_id + ".");
}

std::vector<std::shared_ptr<Job>> JobTable::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Job>> out;
  out.reserve(by_id_.size());
  for (const auto &kv : by_id_) out.push_back(kv.second);
  return out;
}

std::string JobTable::jobs_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto &job : all()) {
    list.push_back({{"job_ref", nlohmann::json::parse(job->ref_json())}, {"status", job->status_object()}});
  }
  return json::dump(nlohmann::json{{"jobs", list}});
}

void JobTable::shutdown() {
  closing_.store(true);
  for (const auto &job : all()) {
    job->request_cancel();
    job->wake_all();
  }
  for (const auto &job : all()) job->join();
}

}  // namespace nat
