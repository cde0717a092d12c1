#include "adapter/job_follower.h"

#include <chrono>

namespace nat::host {

bool is_final_status(const nlohmann::json &status) {
  auto state = status.find("status");
  if (state == status.end() || !state->is_string()) {
    return false;
  }
  const std::string &value = state->get_ref<const std::string &>();
  return value == "completed" || value == "failed" || value == "canceled";
}

bool is_final_event(const nlohmann::json &event) {
  auto final = event.find("final");
  return final != event.end() && *final == true;
}

FollowResult follow_job(Adapter &adapter, const nlohmann::json &job_ref, const FollowOptions &options,
                        const FollowCallbacks &callbacks) {
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const Clock::time_point started = Clock::now();
  FollowResult result;
  bool cancelled = false;
  Clock::time_point give_up = Clock::time_point::max();

  const auto cancel_job = [&](FollowOutcome why) {
    adapter.cancel(job_ref);
    cancelled = true;
    result.outcome = why;
    give_up = Clock::now() + seconds(options.cancel_grace_s);
  };

  for (;;) {
    if (!cancelled && callbacks.interrupt_requested && callbacks.interrupt_requested()) {
      cancel_job(FollowOutcome::interrupted);
    }
    if (!cancelled && options.timeout_s > 0 && Clock::now() - started >= seconds(options.timeout_s)) {
      cancel_job(FollowOutcome::timed_out);
    }
    if (cancelled && Clock::now() >= give_up) {
      break;
    }

    std::optional<nlohmann::json> event = adapter.next_event(job_ref, options.poll_slice_s);
    if (event) {
      if (callbacks.on_event) {
        callbacks.on_event(*event);
      }
      if (is_final_event(*event)) {
        break;
      }
      continue;
    }
    // No event: either none yet, or the final one went to another caller.
    if (is_final_status(adapter.status(job_ref))) {
      break;
    }
    if (callbacks.on_idle) {
      callbacks.on_idle();
    }
  }
  result.status = adapter.status(job_ref);
  return result;
}

}  // namespace nat::host
