#include "jobs/job.h"

#include "base/error.h"
#include "json/small_json.h"

namespace nat {

using Clock = std::chrono::steady_clock;

namespace {

Clock::duration seconds_to_duration(double s) {
  if (s > 1e9) s = 1e9;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

const char *job_state_name(JobState state) {
  switch (state) {
    case JobState::Pending:
      return "pending";
    case JobState::Running:
      return "running";
    case JobState::Completed:
      return "completed";
    case JobState::Failed:
      return "failed";
    case JobState::Canceled:
      return "canceled";
  }
  return "pending";
}

Job::Job(uint64_t id, std::string run_id, std::string backend, nlohmann::json metadata)
    : id_(id), run_id_(std::move(run_id)), backend_(std::move(backend)), metadata_(std::move(metadata)) {
  if (!metadata_.is_object()) metadata_ = nlohmann::json::object();
  metadata_["job_id"] = id_;
  nlohmann::json ref = {{"run_id", run_id_}, {"backend", backend_}, {"metadata", {{"job_id", id_}}}};
  ref_json_ = json::dump(ref);
  std::lock_guard<std::mutex> lock(mu_);
  rebuild_status_locked();
}

Job::~Job() { join(); }

nlohmann::json Job::status_object() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json st = {{"run_id", run_id_}, {"backend", backend_}, {"status", job_state_name(state_)}};
  st["progress"] = progress_ ? nlohmann::json(*progress_) : nlohmann::json();
  st["message"] = message_;
  st["metadata"] = metadata_;
  return st;
}

void Job::rebuild_status_locked() {
  nlohmann::json st = {{"run_id", run_id_}, {"backend", backend_}, {"status", job_state_name(state_)}};
  st["progress"] = progress_ ? nlohmann::json(*progress_) : nlohmann::json();
  st["message"] = message_;
  st["metadata"] = metadata_;
  status_json_ = json::dump(st);
}

std::string Job::status_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_json_;
}

JobState Job::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void Job::start(std::function<void(Job &)> body) {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable()) throw std::logic_error("Job::start called twice");
  try {
    thread_ = std::thread([this, body = std::move(body)]() {
      try {
        body(*this);
      } catch (const std::exception &e) {
        finish(JobState::Failed, std::string("Training failed with error: ") + e.what(), std::nullopt);
      } catch (...) {
        finish(JobState::Failed, "Training failed with error: unknown error", std::nullopt);
      }
      if (!is_terminal(state()))
        finish(JobState::Failed, "Training failed with error: the job ended without a result", std::nullopt);
    });
  } catch (const std::exception &e) {
    // No thread (std::system_error, e.g. EAGAIN): the job must not stay
    // pending forever and block its run_id.
    finish(JobState::Failed,
           std::string("Training failed with error: cannot start the job's thread: ") + e.what(),
           std::nullopt);
  }
}

void Job::join() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Job::mark_running() {
  std::lock_guard<std::mutex> lock(mu_);
  if (is_terminal(state_)) return;
  state_ = JobState::Running;
  message_ = "Training is in progress.";
  rebuild_status_locked();
  cv_.notify_all();
}

void Job::set_message(const std::string &message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (is_terminal(state_)) return;
  message_ = message;
  rebuild_status_locked();
}

void Job::set_progress(std::optional<double> percent) {
  std::lock_guard<std::mutex> lock(mu_);
  progress_ = percent;
  rebuild_status_locked();
}

void Job::update_metadata(const std::function<void(nlohmann::json &)> &fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn(metadata_);
  rebuild_status_locked();
}

void Job::emit(nlohmann::json event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (final_queued_) return;
  event["run_id"] = run_id_;
  event["job_id"] = id_;
  event["seq"] = next_seq_++;
  if (events_.size() >= kMaxQueuedEvents) {
    // A caller that never pulls events must not grow memory without bound:
    // the oldest step events go first; the count is reported in metadata.
    events_.pop_front();
    ++events_dropped_;
    metadata_["events_dropped"] = events_dropped_;
  }
  events_.push_back(json::dump(event));
  cv_.notify_all();
}

void Job::set_before_finish(std::function<void(Job &)> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  before_finish_ = std::move(fn);
}

void Job::finish(JobState state, const std::string &message, std::optional<double> progress) {
  std::function<void(Job &)> before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = before_finish_;
  }
  if (before) {
    // Outside mu_: it may wait, update the metadata and emit.
    std::call_once(before_finish_once_, [&] {
      try {
        before(*this);
      } catch (...) {
      }
    });
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (is_terminal(state_)) return;
  state_ = state;
  message_ = message;
  if (progress) progress_ = progress;
  rebuild_status_locked();
  nlohmann::json event = {{"type", job_state_name(state)}, {"final", true}};
  event["run_id"] = run_id_;
  event["job_id"] = id_;
  event["seq"] = next_seq_++;
  event["status"] = nlohmann::json::parse(status_json_);
  events_.push_back(json::dump(event));
  final_queued_ = true;
  cv_.notify_all();
}

bool Job::sleep_unless_cancelled(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, seconds_to_duration(seconds), [&] { return cancel_.load(); });
  return !cancel_.load();
}

void Job::request_cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancel_.store(true);
  if (!is_terminal(state_)) {
    metadata_["cancel_requested"] = true;
    rebuild_status_locked();
  }
  cv_.notify_all();
}

bool Job::wait(double timeout_s, const std::atomic<bool> &closing) {
  std::unique_lock<std::mutex> lock(mu_);
  auto done = [&] { return is_terminal(state_) || closing.load(); };
  if (timeout_s <= 0) {
    cv_.wait(lock, done);
  } else if (!cv_.wait_for(lock, seconds_to_duration(timeout_s), done)) {
    return false;
  }
  if (!is_terminal(state_)) throw Error(ErrorCode::Cancelled, "the adapter is being destroyed");
  return true;
}

std::optional<std::string> Job::next_event(double timeout_s, const std::atomic<bool> &closing) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] { return !events_.empty() || final_taken_ || closing.load(); };
  if (timeout_s < 0) {
    cv_.wait(lock, ready);
  } else if (timeout_s > 0) {
    cv_.wait_for(lock, seconds_to_duration(timeout_s), ready);
  }
  if (!events_.empty()) {
    std::string ev = std::move(events_.front());
    events_.pop_front();
    if (final_queued_ && events_.empty()) final_taken_ = true;
    return ev;
  }
  if (closing.load() && !final_taken_) throw Error(ErrorCode::Cancelled, "the adapter is being destroyed");
  return std::nullopt;
}

void Job::wake_all() {
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

}  // namespace nat
