// Job and JobTable under concurrent use, without a server: the races the C
// ABI tests (tests/integration/capi_concurrency_test.cpp) reach only by
// chance, driven here directly and many times. Meant for ThreadSanitizer
// (tools/run-sanitizers.sh thread), where a data race fails the test; without
// a sanitizer it checks the same outcomes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "jobs/job.h"
#include "jobs/job_table.h"

using nat::Job;
using nat::JobState;
using nat::JobTable;

namespace {

// A job body that runs until it is cancelled.
void until_cancelled(Job &j) {
  j.mark_running();
  while (j.sleep_unless_cancelled(0.01)) {
  }
  j.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
}

// A submit creates the job in the table and then starts its thread; the
// adapter's shutdown may run in between (destroy on another thread). The
// thread started after shutdown's join must still be joined (here by the
// second shutdown, in the adapter by its destructor), and start and join must
// not race on the job's std::thread.
TEST(JobConcurrency, StartRacingWithShutdownIsSafeAndTheJobIsJoined) {
  for (int round = 0; round < 100; ++round) {
    JobTable table;
    auto job = table.create("race_" + std::to_string(round), "b", nlohmann::json::object());
    std::atomic<bool> go{false};
    std::thread closer([&] {
      while (!go.load()) std::this_thread::yield();
      table.shutdown();
    });
    go = true;
    job->start(until_cancelled);
    closer.join();
    table.shutdown();  // joins a thread that started after the first shutdown's join
    EXPECT_EQ(job->state(), JobState::Canceled);
    EXPECT_THROW(table.create("late", "b", nlohmann::json::object()), nat::Error);
  }
}

TEST(JobConcurrency, JoinFromSeveralThreadsAtOnce) {
  for (int round = 0; round < 50; ++round) {
    Job job(1, "r", "b", nlohmann::json::object());
    job.start([](Job &j) {
      j.mark_running();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      j.finish(JobState::Completed, "done", 100.0);
    });
    std::vector<std::thread> joiners;
    for (int t = 0; t < 4; ++t) joiners.emplace_back([&] { job.join(); });
    for (auto &t : joiners) t.join();
    EXPECT_EQ(job.state(), JobState::Completed);
  }
}

// The worker emits and updates while callers read the status, cancel and
// pull events from several threads; each event reaches exactly one reader,
// each reader sees increasing seqs, and the final event is the last one.
TEST(JobConcurrency, EventsStatusAndCancelFromManyThreads) {
  constexpr int kEvents = 2000;
  std::atomic<bool> closing{false};
  Job job(7, "run", "b", nlohmann::json::object());
  job.start([](Job &j) {
    j.mark_running();
    for (int i = 0; i < kEvents; ++i) {
      j.emit({{"type", "step"}, {"i", i}});
      if (i % 10 == 0) j.set_progress(100.0 * i / kEvents);
      if (i % 25 == 0) j.update_metadata([&](nlohmann::json &m) { m["i"] = i; });
      if (j.cancel_requested() && i > kEvents / 2) {
        j.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
        return;
      }
    }
    j.finish(JobState::Completed, "done", 100.0);
  });
  std::vector<std::vector<uint64_t>> seen(3);
  std::vector<int> finals(3, 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r)
    threads.emplace_back([&, r] {
      for (;;) {
        auto ev = job.next_event(5.0, closing);
        if (!ev) return;
        auto e = nlohmann::json::parse(*ev);
        seen[r].push_back(e["seq"].get<uint64_t>());
        if (e.value("final", false)) ++finals[r];
      }
    });
  threads.emplace_back([&] {
    for (int i = 0; i < 500 && !nat::is_terminal(job.state()); ++i) {
      auto st = nlohmann::json::parse(job.status_json());
      EXPECT_TRUE(st["status"].is_string());
      (void)job.status_object();
    }
  });
  threads.emplace_back([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    job.request_cancel();
    job.request_cancel();
  });
  threads.emplace_back([&] { EXPECT_TRUE(job.wait(60, closing)); });
  for (auto &t : threads) t.join();
  job.join();

  std::set<uint64_t> all;
  uint64_t max_seq = 0;
  for (const auto &list : seen) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) {
        EXPECT_LT(list[i - 1], list[i]);
      }
      EXPECT_TRUE(all.insert(list[i]).second) << "seq " << list[i] << " delivered twice";
      max_seq = std::max(max_seq, list[i]);
    }
  }
  EXPECT_EQ(finals[0] + finals[1] + finals[2], 1);
  EXPECT_EQ(all.size(), max_seq + 1) << "events lost";
  EXPECT_TRUE(nat::is_terminal(job.state()));
}

// Creates, lookups, listings and the end of jobs from several threads, then
// shutdown while readers are blocked on the jobs.
TEST(JobConcurrency, TableCreateFindListAndShutdownFromManyThreads) {
  JobTable table;
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        // Two threads share each run_id: one of a pair is refused while the
        // other's job is active.
        std::string run_id = "run_" + std::to_string(t / 2) + "_" + std::to_string(i);
        try {
          auto job = table.create(run_id, "b", nlohmann::json::object());
          ++created;
          job->start([](Job &j) {
            j.mark_running();
            j.emit({{"type", "step"}});
            if (j.sleep_unless_cancelled(0.005))
              j.finish(JobState::Completed, "done", 100.0);
            else
              j.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
          });
        } catch (const nat::Error &e) {
          EXPECT_EQ(e.code(), nat::ErrorCode::AlreadyExists) << e.what();
          ++refused;
        }
        EXPECT_NO_THROW(table.find(nat::JobRef{run_id, std::nullopt})->status_json());
        auto list = nlohmann::json::parse(table.jobs_json());
        EXPECT_TRUE(list["jobs"].is_array());
      }
    });
  for (auto &t : threads) t.join();
  EXPECT_EQ(created.load() + refused.load(), 80);

  // Readers blocked without a timeout on jobs that never end by themselves.
  std::vector<std::shared_ptr<Job>> stuck;
  for (int i = 0; i < 3; ++i) {
    auto job = table.create("stuck_" + std::to_string(i), "b", nlohmann::json::object());
    job->start(until_cancelled);
    stuck.push_back(job);
  }
  std::vector<std::thread> readers;
  std::atomic<int> released{0};
  for (const auto &job : stuck) {
    readers.emplace_back([&, job] {
      try {
        while (job->next_event(-1, table.closing())) {
        }
      } catch (const nat::Error &e) {
        EXPECT_EQ(e.code(), nat::ErrorCode::Cancelled);
      }
      ++released;
    });
    readers.emplace_back([&, job] {
      try {
        EXPECT_TRUE(job->wait(0, table.closing()));
      } catch (const nat::Error &e) {
        EXPECT_EQ(e.code(), nat::ErrorCode::Cancelled);
      }
      ++released;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  table.shutdown();
  for (auto &t : readers) t.join();
  EXPECT_EQ(released.load(), 6);
  for (const auto &job : table.all()) EXPECT_TRUE(nat::is_terminal(job->state()));
}

}  // namespace
