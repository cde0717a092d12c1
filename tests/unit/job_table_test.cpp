#include "jobs/job_table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/error.h"

using nat::Job;
using nat::JobState;
using nat::JobTable;
using nlohmann::json;

namespace {

nat::ErrorCode code_of(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const nat::Error &e) {
    return e.code();
  }
  return nat::ErrorCode::Ok;
}

}  // namespace

TEST(JobRef, ParsesRunIdAndJobId) {
  auto ref =
      nat::parse_job_ref(R"({"run_id":"r1","backend":"openpipe-art","metadata":{"job_id":42,"x":[1]}})");
  EXPECT_EQ(ref.run_id, "r1");
  ASSERT_TRUE(ref.job_id);
  EXPECT_EQ(*ref.job_id, 42u);
  EXPECT_FALSE(nat::parse_job_ref(R"({"run_id":"r1","backend":"b","metadata":null})").job_id);
  EXPECT_EQ(code_of([] { nat::parse_job_ref("{}"); }), nat::ErrorCode::InvalidArgument);
  EXPECT_EQ(code_of([] { nat::parse_job_ref("[1]"); }), nat::ErrorCode::InvalidArgument);
  EXPECT_EQ(code_of([] { nat::parse_job_ref(R"({"run_id":5})"); }), nat::ErrorCode::InvalidArgument);
  EXPECT_EQ(code_of([] { nat::parse_job_ref(R"({"run_id":"r","metadata":{"job_id":-1}})"); }),
            nat::ErrorCode::InvalidArgument);
  EXPECT_EQ(code_of([] { nat::parse_job_ref("{\"run_id\":\"r\""); }), nat::ErrorCode::InvalidArgument);
}

TEST(JobTable, RefusesASecondActiveJobWithTheSameRunIdButAllowsReuseAfterTheEnd) {
  JobTable table;
  auto a = table.create("run", "b", json::object());
  try {
    table.create("run", "b", json::object());
    FAIL();
  } catch (const nat::Error &e) {
    EXPECT_EQ(e.code(), nat::ErrorCode::AlreadyExists);
    EXPECT_STREQ(e.what(), "Training job with run_id run already exists.");
  }
  a->finish(JobState::Completed, "done", 100.0);
  auto b = table.create("run", "b", json::object());
  EXPECT_NE(a->id(), b->id());
  // A bare run_id finds the newest job; a job_id finds the exact one.
  EXPECT_EQ(table.find(R"({"run_id":"run","backend":"b"})")->id(), b->id());
  EXPECT_EQ(table.find(a->ref_json())->id(), a->id());
  EXPECT_EQ(code_of([&] { table.find(R"({"run_id":"nope","backend":"b"})"); }), nat::ErrorCode::NotFound);
  EXPECT_EQ(code_of([&] { table.find(R"({"run_id":"other","metadata":{"job_id":1}})"); }),
            nat::ErrorCode::NotFound);
}

TEST(Job, StatusFollowsTheStateMachineAndStaysAfterTheEnd) {
  Job job(1, "r", "openpipe-art", json::object());
  json st = json::parse(job.status_json());
  EXPECT_EQ(st["status"], "pending");
  EXPECT_TRUE(st["progress"].is_null());
  job.mark_running();
  EXPECT_EQ(json::parse(job.status_json())["message"], "Training is in progress.");
  job.set_progress(50.0);
  job.update_metadata([](json &m) { m["step_before"] = 3; });
  st = json::parse(job.status_json());
  EXPECT_EQ(st["progress"], 50.0);
  EXPECT_EQ(st["metadata"]["step_before"], 3);
  EXPECT_EQ(st["metadata"]["job_id"], 1);
  job.finish(JobState::Completed, "Training completed successfully.", 100.0);
  job.finish(JobState::Failed, "late", std::nullopt);  // terminal states are final
  st = json::parse(job.status_json());
  EXPECT_EQ(st["status"], "completed");
  EXPECT_EQ(st["progress"], 100.0);
  EXPECT_EQ(json::parse(job.status_json()), st);  // idempotent
}

TEST(Job, EventsArriveInOrderEndWithTheFinalOneAndThenStop) {
  Job job(7, "r", "b", json::object());
  std::atomic<bool> closing{false};
  EXPECT_FALSE(job.next_event(0, closing));
  job.emit({{"type", "started"}});
  job.emit({{"type", "step"}, {"step", 1}});
  job.finish(JobState::Failed, "Training failed with error: x", std::nullopt);
  job.emit({{"type", "step"}, {"step", 2}});  // after the end: dropped
  std::vector<json> events;
  while (auto ev = job.next_event(0, closing)) events.push_back(json::parse(*ev));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "started");
  EXPECT_EQ(events[1]["seq"], 1);
  EXPECT_EQ(events[2]["type"], "failed");
  EXPECT_EQ(events[2]["final"], true);
  EXPECT_EQ(events[2]["status"]["status"], "failed");
  EXPECT_EQ(events[2]["run_id"], "r");
  EXPECT_EQ(events[2]["job_id"], 7);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(job.next_event(5.0, closing));  // the final event was taken: no wait
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(Job, WaitWakesWhenTheJobEndsNotAtTheNextTick) {
  Job job(1, "r", "b", json::object());
  std::atomic<bool> closing{false};
  job.start([](Job &j) {
    j.mark_running();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    j.finish(JobState::Completed, "ok", 100.0);
  });
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(job.wait(0, closing));
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 2.0);
  EXPECT_EQ(job.state(), JobState::Completed);
  job.join();
}

TEST(Job, WaitTimesOutAndAnEscapingExceptionFailsTheJob) {
  Job job(1, "r", "b", json::object());
  std::atomic<bool> closing{false};
  job.start([](Job &j) {
    j.mark_running();
    while (!j.cancel_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    throw std::runtime_error("boom");
  });
  EXPECT_FALSE(job.wait(0.05, closing));
  job.request_cancel();
  EXPECT_TRUE(job.wait(5, closing));
  json st = json::parse(job.status_json());
  EXPECT_EQ(st["status"], "failed");
  EXPECT_EQ(st["message"], "Training failed with error: boom");
  EXPECT_EQ(st["metadata"]["cancel_requested"], true);
}

TEST(JobTable, ShutdownCancelsJoinsAndWakesWaiters) {
  JobTable table;
  auto job = table.create("r", "b", json::object());
  job->start([](Job &j) {
    j.mark_running();
    if (!j.sleep_unless_cancelled(60)) j.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
  });
  bool woke = false;
  std::thread waiter([&] {
    // Either the job ended first, or the wait is told the table is closing.
    try {
      woke = job->wait(0, table.closing());
    } catch (const nat::Error &e) {
      woke = e.code() == nat::ErrorCode::Cancelled;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto t0 = std::chrono::steady_clock::now();
  table.shutdown();
  waiter.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(job->state(), JobState::Canceled);
  EXPECT_EQ(code_of([&] { table.create("r3", "b", json::object()); }), nat::ErrorCode::FailedPrecondition);
}
