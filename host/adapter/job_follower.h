// Following one job's events until it ends, with cancel on request.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "adapter/adapter.h"

namespace nat::host {

struct FollowOptions {
  // Give up (and cancel the job) after this many seconds; <= 0: never.
  double timeout_s = 0;
  // How long to wait for the job to reach "canceled" after cancelling it.
  double cancel_grace_s = 30;
  // How long one next_event call may block, which bounds how late an
  // interrupt or the timeout is noticed.
  double poll_slice_s = 0.2;
};

enum class FollowOutcome {
  // The job ended on its own (completed, failed or canceled elsewhere).
  finished,
  // interrupt_requested() became true and the job was cancelled.
  interrupted,
  // The timeout ran out and the job was cancelled.
  timed_out,
};

struct FollowResult {
  FollowOutcome outcome = FollowOutcome::finished;
  // The job's TrainingJobStatus when following stopped.
  nlohmann::json status;
};

// "completed", "failed" and "canceled" end a job.
bool is_final_status(const nlohmann::json &status);

// The last event of a job carries "final": true.
bool is_final_event(const nlohmann::json &event);

struct FollowCallbacks {
  // Each event, in order.
  std::function<void(const nlohmann::json &)> on_event;
  // After every poll slice that brought no event (a clock can tick here).
  std::function<void()> on_idle;
  // Polled between slices; true once asks for the job to be cancelled.
  std::function<bool()> interrupt_requested;
};

// Pulls the job's events with nat_trainer_adapter_next_event and hands each
// to on_event until the final one. When interrupt_requested() turns true or
// the timeout runs out, cancels the job and keeps following until it is
// canceled or cancel_grace_s has passed. Throws AdapterError.
FollowResult follow_job(Adapter &adapter, const nlohmann::json &job_ref, const FollowOptions &options,
                        const FollowCallbacks &callbacks);

}  // namespace nat::host
