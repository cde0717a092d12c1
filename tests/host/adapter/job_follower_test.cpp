#include "adapter/job_follower.h"

#include <gtest/gtest.h>

#include <chrono>

#include "test_fixtures.h"

namespace nat::host {
namespace {

using nlohmann::json;

struct SubmittedJob {
  std::unique_ptr<Adapter> adapter;
  json ref;
};

SubmittedJob submit_minimal_job() {
  static const auto plugin = PluginLibrary::load(testing::fixture_library("nat_trainer_adapter_minimal"));
  SubmittedJob job{std::make_unique<Adapter>(plugin, json{{"_type", "minimal_trainer_adapter"}}), {}};
  job.adapter->initialize(json::object());
  job.ref = job.adapter->submit(testing::test_data_text("trajectories.json"));
  return job;
}

TEST(JobFollower, DeliversEveryEventInOrderUntilTheFinalOne) {
  SubmittedJob job = submit_minimal_job();
  std::vector<std::string> types;
  FollowCallbacks callbacks;
  callbacks.on_event = [&](const json &event) { types.push_back(event["type"]); };
  const FollowResult result = follow_job(*job.adapter, job.ref, FollowOptions{}, callbacks);
  EXPECT_EQ(result.outcome, FollowOutcome::finished);
  EXPECT_EQ(result.status["status"], "completed");
  EXPECT_EQ(types, (std::vector<std::string>{"started", "step", "completed"}));
}

TEST(JobFollower, StopsWhenTheFinalEventWentElsewhere) {
  SubmittedJob job = submit_minimal_job();
  while (job.adapter->next_event(job.ref, 0)) {
  }
  int events = 0;
  FollowCallbacks callbacks;
  callbacks.on_event = [&](const json &) { ++events; };
  const FollowResult result = follow_job(*job.adapter, job.ref, FollowOptions{}, callbacks);
  EXPECT_EQ(events, 0);
  EXPECT_EQ(result.status["status"], "completed");
}

TEST(JobFollower, InterruptCancelsTheJob) {
  SubmittedJob job = submit_minimal_job();
  FollowCallbacks callbacks;
  callbacks.interrupt_requested = [] { return true; };
  const FollowResult result = follow_job(*job.adapter, job.ref, FollowOptions{}, callbacks);
  // The minimal adapter's jobs are finished at once, so cancel is a no-op.
  EXPECT_EQ(result.outcome, FollowOutcome::interrupted);
  EXPECT_EQ(result.status["status"], "completed");
}

SubmittedJob submit_never_ending_job() {
  static const auto plugin = PluginLibrary::load(testing::fixture_library("never_ending_adapter"));
  SubmittedJob job{std::make_unique<Adapter>(plugin, json::object()), {}};
  job.adapter->initialize(json::object());
  job.ref = job.adapter->submit(R"({"run_id": "forever", "trajectories": []})");
  return job;
}

TEST(JobFollower, TimeoutCancelsARunningJob) {
  SubmittedJob job = submit_never_ending_job();
  std::vector<std::string> types;
  FollowOptions options;
  options.timeout_s = 0.3;
  options.poll_slice_s = 0.05;
  FollowCallbacks callbacks;
  callbacks.on_event = [&](const json &event) { types.push_back(event["type"]); };
  const auto started = std::chrono::steady_clock::now();
  const FollowResult result = follow_job(*job.adapter, job.ref, options, callbacks);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(result.outcome, FollowOutcome::timed_out);
  EXPECT_EQ(result.status["status"], "canceled");
  EXPECT_EQ(types, (std::vector<std::string>{"started", "step", "canceled"}));
}

TEST(JobFollower, InterruptCancelsARunningJobAfterItsEvents) {
  SubmittedJob job = submit_never_ending_job();
  int events = 0;
  FollowOptions options;
  options.poll_slice_s = 0.05;
  FollowCallbacks callbacks;
  callbacks.on_event = [&](const json &) { ++events; };
  callbacks.interrupt_requested = [&] { return events >= 2; };
  const FollowResult result = follow_job(*job.adapter, job.ref, options, callbacks);
  EXPECT_EQ(result.outcome, FollowOutcome::interrupted);
  EXPECT_EQ(result.status["status"], "canceled");
  EXPECT_EQ(events, 3);
}

TEST(JobFollower, FinalStatuses) {
  EXPECT_TRUE(is_final_status(json{{"status", "completed"}}));
  EXPECT_TRUE(is_final_status(json{{"status", "failed"}}));
  EXPECT_TRUE(is_final_status(json{{"status", "canceled"}}));
  EXPECT_FALSE(is_final_status(json{{"status", "running"}}));
  EXPECT_FALSE(is_final_status(json{{"status", "pending"}}));
  EXPECT_FALSE(is_final_status(json::object()));
}

}  // namespace
}  // namespace nat::host
