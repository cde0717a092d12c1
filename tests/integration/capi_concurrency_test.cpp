// One adapter handle shared by many threads, through the C ABI of the real
// plugin .so against the reference ART server (dialect 0.4): concurrent
// submit / status / cancel / jobs / next_event / wait_until_complete, and
// destroy while jobs stream events to blocked readers and other threads keep
// calling. Written for ThreadSanitizer and AddressSanitizer runs
// (tools/run-sanitizers.sh); without sanitizers it checks the same contract:
// every call either succeeds or returns a documented error, nothing hangs,
// destroy cancels and joins, and events are never duplicated or lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "plugin_api.h"
#include "reference_server.h"

using nat::testing::Adapter;
using nat::testing::CallResult;
using nat::testing::PluginApi;
using nat::testing::ReferenceServer;
using nlohmann::json;

namespace {

constexpr int32_t kOk = 0, kAlreadyExists = 3, kFailedPrecondition = 4, kCancelled = 7;
using Clock = std::chrono::steady_clock;

const PluginApi &api() { return PluginApi::art_plugin(); }

json collection(const std::string &run_id, int groups = 1) {
  auto traj = [](double reward, int seed) {
    json content = json::array();
    for (int i = 0; i < 3; ++i)
      content.push_back({{"token", "token_id:" + std::to_string(100 + seed * 10 + i)},
                         {"bytes", {104}},
                         {"logprob", -0.05 * (i + 1)},
                         {"top_logprobs", json::array()}});
    return json{{"episode",
                 {{{"role", "system"}, {"content", "You play tic-tac-toe."}},
                  {{"role", "user"}, {"content", "Your move?"}},
                  {{"role", "assistant"},
                   {"content", "<move>B2</move>"},
                   {"logprobs", {{"content", content}, {"refusal", nullptr}}}}}},
                {"reward", reward}};
  };
  json groups_json = json::array();
  for (int g = 0; g < groups; ++g) groups_json.push_back(json::array({traj(1.0, g), traj(0.0, g + 1)}));
  return {{"run_id", run_id}, {"trajectories", groups_json}};
}

bool terminal(const std::string &s) { return s == "completed" || s == "failed" || s == "canceled"; }

class CapiConcurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ReferenceServer>("0.4");
    std::string why;
    if (!server_->available(&why)) GTEST_SKIP() << why;
    server_->start();
  }

  json config() const {
    return {{"_type", "openpipe_art_trainer_adapter"},
            {"backend",
             {{"ip", "127.0.0.1"},
              {"port", server_->control_port()},
              {"name", "conc_model"},
              {"project", "conc_project"},
              {"base_model", "Qwen/Qwen2.5-3B-Instruct"}}},
            {"native", {{"retry_backoff_s", 0.05}, {"spool_dir", server_->data_dir() + "/spool"}}}};
  }

  std::unique_ptr<Adapter> ready_adapter() {
    auto a = std::make_unique<Adapter>(api(), config());
    CallResult r = a->initialize();
    EXPECT_TRUE(r.ok()) << r.message;
    return a;
  }

  std::unique_ptr<ReferenceServer> server_;
};

// A small thread-safe list of job references the threads publish and read.
class Refs {
 public:
  void add(const std::string &ref) {
    std::lock_guard<std::mutex> lock(mu_);
    refs_.push_back(ref);
  }
  std::vector<std::string> snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return refs_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> refs_;
};

// Submitters, status pollers, a canceller, a jobs() lister and two event
// readers competing for the events of the same jobs, all on one handle.
TEST_F(CapiConcurrency, ManyThreadsCallEveryFunctionOnOneHandle) {
  server_->set_faults({{"train", {{"step_delay", 0.05}}}});
  auto a = ready_adapter();
  constexpr int kSubmitters = 4;
  Refs refs;
  std::atomic<int> unexpected{0};
  std::atomic<int> submitted{0};
  std::atomic<bool> submitters_done{false};
  std::mutex msg_mu;
  std::vector<std::string> messages;
  auto note = [&](const std::string &what, const CallResult &r) {
    ++unexpected;
    std::lock_guard<std::mutex> lock(msg_mu);
    messages.push_back(what + ": " + std::to_string(r.code) + " " + r.message);
  };

  std::vector<std::thread> threads;
  // Submitters: each run_id twice at the same moment from two threads; one
  // wins, the other gets ALREADY_EXISTS (or, if the first already ended, a
  // second job of that run_id).
  std::atomic<int> duplicates_refused{0};
  for (int t = 0; t < kSubmitters; ++t) {
    for (int twin = 0; twin < 2; ++twin) {
      threads.emplace_back([&, t] {
        CallResult sub = a->submit(collection("abi_conc_" + std::to_string(t), 2).dump());
        if (sub.code == kAlreadyExists) {
          ++duplicates_refused;
        } else if (!sub.ok()) {
          note("submit", sub);
        } else {
          refs.add(sub.out.value());
          ++submitted;
        }
      });
    }
  }
  // Status pollers: read every known job until all are terminal.
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto all = refs.snapshot();
        bool done = submitters_done.load() && !all.empty();
        for (const auto &ref : all) {
          CallResult st = a->status(ref);
          if (!st.ok()) {
            note("status", st);
            continue;
          }
          if (!terminal(st.json()["status"].get<std::string>())) done = false;
        }
        if (done) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  // jobs(): the listing stays well-formed while jobs are added and change.
  threads.emplace_back([&] {
    for (int i = 0; i < 200 && !(submitters_done.load() && refs.snapshot().size() >= kSubmitters); ++i) {
      CallResult j = a->jobs();
      if (!j.ok())
        note("jobs", j);
      else if (!j.json()["jobs"].is_array())
        note("jobs shape", j);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  for (int t = 0; t < 2 * kSubmitters; ++t) threads[t].join();
  submitters_done = true;
  auto all = refs.snapshot();
  ASSERT_GE(all.size(), static_cast<size_t>(kSubmitters));

  // Cancel one job from two threads at once, and while readers pull its events.
  const std::string victim = all.back();
  std::vector<std::thread> cancellers;
  for (int c = 0; c < 2; ++c)
    cancellers.emplace_back([&] {
      CallResult r = a->cancel(victim);
      if (!r.ok()) note("cancel", r);
    });

  // Two readers per job: together they must see each seq once, in order per
  // reader, and exactly one final event, which is the last seq.
  std::vector<std::thread> readers;
  std::vector<std::vector<json>> seen(all.size() * 2);
  for (size_t j = 0; j < all.size(); ++j) {
    for (int r = 0; r < 2; ++r) {
      readers.emplace_back([&, j, r] {
        auto &mine = seen[j * 2 + r];
        auto deadline = Clock::now() + std::chrono::seconds(120);
        while (Clock::now() < deadline) {
          CallResult ev = a->next_event(all[j], 0.2);
          if (!ev.ok()) {
            note("next_event", ev);
            return;
          }
          if (!ev.out) {
            // Timeout, or the final event was taken (by either reader).
            CallResult st = a->status(all[j]);
            if (st.ok() && terminal(st.json()["status"].get<std::string>())) {
              CallResult again = a->next_event(all[j], 0);
              if (again.ok() && !again.out) return;
              if (again.out) mine.push_back(again.json());
            }
            continue;
          }
          mine.push_back(ev.json());
        }
        note("next_event deadline", CallResult{});
      });
    }
  }
  // Meanwhile a waiter per job.
  std::vector<std::thread> waiters;
  std::vector<std::string> final_status(all.size());
  for (size_t j = 0; j < all.size(); ++j)
    waiters.emplace_back([&, j] {
      CallResult w = a->wait(all[j], 0.1, 120);
      if (!w.ok())
        note("wait", w);
      else
        final_status[j] = w.json()["status"].get<std::string>();
    });

  for (auto &th : cancellers) th.join();
  for (auto &th : waiters) th.join();
  for (auto &th : readers) th.join();
  for (size_t t = 2 * kSubmitters; t < threads.size(); ++t) threads[t].join();

  {
    std::lock_guard<std::mutex> lock(msg_mu);
    for (const auto &m : messages) ADD_FAILURE() << m;
  }
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(submitted.load() + duplicates_refused.load(), 2 * kSubmitters);
  for (size_t j = 0; j < all.size(); ++j) {
    if (all[j] == victim)
      EXPECT_TRUE(final_status[j] == "canceled" || final_status[j] == "completed") << final_status[j];
    else
      EXPECT_EQ(final_status[j], "completed") << all[j];
    std::set<uint64_t> seqs;
    int finals = 0;
    uint64_t final_seq = 0;
    for (int r = 0; r < 2; ++r) {
      uint64_t last = 0;
      bool first = true;
      for (const auto &ev : seen[j * 2 + r]) {
        uint64_t s = ev["seq"].get<uint64_t>();
        EXPECT_TRUE(seqs.insert(s).second) << "seq " << s << " delivered twice for " << all[j];
        if (!first) {
          EXPECT_GT(s, last) << "out of order for one reader";
        }
        first = false;
        last = s;
        if (ev.value("final", false)) {
          ++finals;
          final_seq = s;
        }
      }
    }
    EXPECT_EQ(finals, 1) << all[j];
    ASSERT_FALSE(seqs.empty());
    EXPECT_EQ(*seqs.rbegin(), final_seq);
    EXPECT_EQ(seqs.size(), final_seq + 1) << "events lost for " << all[j];
  }
  CallResult j = a->jobs();
  ASSERT_TRUE(j.ok()) << j.message;
  EXPECT_EQ(j.json()["jobs"].size(), all.size());
}

// destroy while jobs stream: readers blocked in next_event (no timeout),
// waiters blocked in wait_until_complete (no timeout), and threads that keep
// calling status/jobs/cancel/submit on the handle until it is gone.
TEST_F(CapiConcurrency, DestroyWhileJobsStreamCancelsJoinsAndReleasesEveryCaller) {
  server_->set_faults({{"train", {{"step_delay", 0.3}}}});
  auto a = ready_adapter();
  nat_trainer_adapter *h = a->handle();
  std::vector<std::string> refs;
  for (int i = 0; i < 2; ++i) {
    CallResult sub = a->submit(collection("streaming_" + std::to_string(i), 8).dump());
    ASSERT_TRUE(sub.ok()) << sub.message;
    refs.push_back(sub.out.value());
  }
  std::atomic<int> steps_seen{0};
  std::atomic<bool> gone{false};
  std::atomic<int> bad{0};
  std::mutex msg_mu;
  std::vector<std::string> messages;
  auto note = [&](const std::string &what, const CallResult &r) {
    ++bad;
    std::lock_guard<std::mutex> lock(msg_mu);
    messages.push_back(what + ": " + std::to_string(r.code) + " " + r.message);
  };
  // What a call racing with destroy may answer: success, CANCELLED (it was
  // blocked when destroy began), or FAILED_PRECONDITION (the handle is gone,
  // or the adapter is shutting down).
  auto acceptable = [](const CallResult &r) {
    return r.code == kOk || r.code == kCancelled || r.code == kFailedPrecondition;
  };

  std::vector<std::thread> threads;
  for (const auto &ref : refs) {
    threads.emplace_back([&, ref] {  // blocking reader
      for (;;) {
        CallResult ev = a->next_event(ref, -1);
        if (!acceptable(ev)) note("next_event", ev);
        if (!ev.ok() || !ev.out) return;
        json e = ev.json();
        if (e["type"] == "step") ++steps_seen;
        if (e.value("final", false)) {
          if (e["type"] != "canceled") note("final event " + e.dump(), ev);
          return;
        }
      }
    });
    threads.emplace_back([&, ref] {  // blocking waiter
      CallResult w = a->wait(ref, 0.5, 0);
      if (!acceptable(w)) note("wait", w);
      if (w.ok() && w.json()["status"] != "canceled") note("wait status " + *w.out, w);
    });
  }
  threads.emplace_back([&] {  // pollers until the handle is gone
    while (true) {
      bool was_gone = gone.load();
      for (const auto &ref : refs) {
        CallResult st = a->status(ref);
        if (!acceptable(st)) note("status", st);
        if (was_gone && st.code != kFailedPrecondition) note("status after destroy", st);
        CallResult c = a->cancel(R"({"run_id":"nobody"})");
        if (c.code != 2 && c.code != kFailedPrecondition) note("cancel unknown", c);
      }
      CallResult j = a->jobs();
      if (!acceptable(j)) note("jobs", j);
      if (was_gone) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  threads.emplace_back([&] {  // submitter racing with destroy
    for (int i = 0;; ++i) {
      bool was_gone = gone.load();
      CallResult sub = a->submit(collection("late_" + std::to_string(i)).dump());
      if (!acceptable(sub)) note("late submit", sub);
      if (sub.code == kFailedPrecondition) return;
      if (was_gone) {
        note("submit after destroy", sub);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  // Destroy once events are streaming.
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (steps_seen.load() < 2 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(steps_seen.load(), 2) << "no training events arrived";
  auto t0 = Clock::now();
  api().destroy(h);
  gone = true;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(30)) << "destroy did not cancel and join promptly";
  for (auto &th : threads) th.join();
  api().destroy(h);  // a second destroy is refused quietly
  {
    std::lock_guard<std::mutex> lock(msg_mu);
    for (const auto &m : messages) ADD_FAILURE() << m;
  }
  EXPECT_EQ(bad.load(), 0);
  nat_trainer_adapter_buffer *b = nullptr;
  nat_trainer_adapter_error *e = api().jobs(h, &b);
  EXPECT_EQ(api().error_code(e), kFailedPrecondition);
  EXPECT_EQ(b, nullptr);
  api().error_free(e);
}

// destroy racing with submit calls already inside the adapter: a job created
// just before shutdown must still be cancelled and joined, never left running
// on a destroyed adapter.
TEST_F(CapiConcurrency, DestroyRacingWithSubmitLeavesNoJobBehind) {
  server_->set_faults({{"train", {{"step_delay", 0.2}}}});
  for (int round = 0; round < 4; ++round) {
    auto a = ready_adapter();
    nat_trainer_adapter *h = a->handle();
    std::atomic<bool> go{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < 3; ++t)
      submitters.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 50; ++i) {
          CallResult sub = a->submit(
              collection("race_" + std::to_string(round) + "_" + std::to_string(t) + "_" + std::to_string(i))
                  .dump());
          if (sub.code == kFailedPrecondition) return;
          if (!sub.ok()) ++bad;
        }
      });
    go = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 20 * round));
    auto t0 = Clock::now();
    api().destroy(h);
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(30));
    for (auto &th : submitters) th.join();
    EXPECT_EQ(bad.load(), 0);
  }
}

}  // namespace
