// One training job: its state machine, progress, metadata and event queue.
//
// pending -> running -> completed | failed | canceled. The background work
// runs on the job's own thread and reports through this object; callers on
// other threads read the status, wait for the end, or pull events. Terminal
// states are final and kept until the adapter goes away.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

namespace nat {

enum class JobState { Pending = 0, Running = 1, Completed = 2, Failed = 3, Canceled = 4 };

const char *job_state_name(JobState state);
inline bool is_terminal(JobState s) {
  return s == JobState::Completed || s == JobState::Failed || s == JobState::Canceled;
}

class Job {
 public:
  static constexpr size_t kMaxQueuedEvents = 100000;

  Job(uint64_t id, std::string run_id, std::string backend, nlohmann::json metadata);
  ~Job();
  Job(const Job &) = delete;
  Job &operator=(const Job &) = delete;

  uint64_t id() const { return id_; }
  const std::string &run_id() const { return run_id_; }
  const std::string &backend() const { return backend_; }

  // TrainingJobRef JSON: {"run_id", "backend", "metadata": {"job_id"}}.
  const std::string &ref_json() const { return ref_json_; }
  // TrainingJobStatus JSON, rebuilt on every change, so reading it is cheap.
  std::string status_json() const;
  nlohmann::json status_object() const;
  JobState state() const;

  // Runs `body` on the job's thread. The body reports through mark_running,
  // emit, set_progress, update_metadata and finish; an exception escaping it
  // fails the job with its message. A body that returns without finishing
  // fails the job too. If no thread can be started, the job fails at once.
  // Called once; start and join may be called from different threads at the
  // same time (a submit racing with the adapter's shutdown).
  void start(std::function<void(Job &)> body);
  // Joins the job's thread if it was started (a no-op on the job's own
  // thread). Safe to call from several threads; a later start is joined by a
  // later join (the destructor's at the latest).
  void join();

  // Runs `fn` once, on the thread that first finishes the job, before the
  // terminal state is set and the final event queued: work that every
  // terminal status must wait for (the sync of the job's spool file). `fn`
  // may call update_metadata and emit; an exception leaving it is ignored.
  // Set before start.
  void set_before_finish(std::function<void(Job &)> fn);

  // Worker side.
  void mark_running();
  void set_progress(std::optional<double> percent);
  // The status message of a job that is not finished yet (no-op once it is).
  void set_message(const std::string &message);
  void update_metadata(const std::function<void(nlohmann::json &)> &fn);
  void emit(nlohmann::json event);  // run_id, job_id and seq are added
  void finish(JobState state, const std::string &message, std::optional<double> progress);
  bool cancel_requested() const { return cancel_.load(std::memory_order_relaxed); }
  const std::atomic<bool> &cancel_flag() const { return cancel_; }
  // Sleeps up to `seconds`, waking early on cancel. Returns false if cancelled.
  bool sleep_unless_cancelled(double seconds);

  // Caller side.
  void request_cancel();
  // Blocks until the job is terminal (true) or the timeout passes (false).
  // timeout_s <= 0 waits without limit. Returns early when `closing` is set.
  bool wait(double timeout_s, const std::atomic<bool> &closing);
  // The next event, nullopt on timeout or once the final event was taken.
  std::optional<std::string> next_event(double timeout_s, const std::atomic<bool> &closing);
  // Wakes every waiter (used when the adapter shuts down).
  void wake_all();

 private:
  void rebuild_status_locked();

  const uint64_t id_;
  const std::string run_id_;
  const std::string backend_;
  std::string ref_json_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  JobState state_ = JobState::Pending;
  std::string message_ = "Training is queued.";
  std::optional<double> progress_;
  nlohmann::json metadata_;
  std::string status_json_;
  std::deque<std::string> events_;
  uint64_t next_seq_ = 0;
  uint64_t events_dropped_ = 0;
  bool final_queued_ = false;
  bool final_taken_ = false;
  std::atomic<bool> cancel_{false};
  std::function<void(Job &)> before_finish_;  // guarded by mu_
  std::once_flag before_finish_once_;
  // Guards thread_ (not mu_: the job's thread takes mu_, and join() waits
  // for that thread while holding thread_mu_).
  std::mutex thread_mu_;
  std::thread thread_;
};

}  // namespace nat
