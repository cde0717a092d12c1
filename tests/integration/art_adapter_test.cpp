// The ART plugin loaded as a real .so and driven through its C ABI against
// the reference ART server, for both protocol dialects.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "plugin_api.h"
#include "reference_server.h"

using nat::testing::Adapter;
using nat::testing::CallResult;
using nat::testing::PluginApi;
using nat::testing::ReferenceServer;
using nlohmann::json;

namespace {

constexpr int32_t kInvalidArgument = 1, kNotFound = 2, kAlreadyExists = 3, kFailedPrecondition = 4,
                  kUnavailable = 5, kDeadlineExceeded = 6;

const PluginApi &api() { return PluginApi::art_plugin(); }

json logprobs(int tokens, int seed) {
  json content = json::array();
  for (int i = 0; i < tokens; ++i)
    content.push_back({{"token", "token_id:" + std::to_string(100 + seed * 10 + i)},
                       {"bytes", {104}},
                       {"logprob", -0.05 * (i + 1) - 0.01 * seed},
                       {"top_logprobs", json::array()}});
  return {{"content", content}, {"refusal", nullptr}};
}

json trajectory(double reward, int seed) {
  return {{"episode",
           {{{"role", "system"}, {"content", "You play tic-tac-toe."}},
            {{"role", "user"}, {"content", "Your move?"}},
            {{"role", "assistant"}, {"content", "<move>B2</move>"}, {"logprobs", logprobs(3, seed)}},
            {{"role", "tool"}, {"content", "ok"}},
            {{"role", "assistant"}, {"content", "<move>A1</move>"}, {"logprobs", logprobs(2, seed + 1)}}}},
          {"reward", reward},
          {"metadata", {{"id", seed}}}};
}

json collection(const std::string &run_id, std::vector<double> rewards) {
  json group = json::array();
  int seed = 0;
  for (double r : rewards) group.push_back(trajectory(r, seed++));
  return {{"run_id", run_id}, {"trajectories", {group}}};
}

class ArtAdapter : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ReferenceServer>(GetParam());
    std::string why;
    if (!server_->available(&why)) GTEST_SKIP() << why;
    server_->start();
  }

  json config(json native = json::object()) const {
    json c = {{"_type", "openpipe_art_trainer_adapter"},
              {"backend",
               {{"ip", "127.0.0.1"},
                {"port", server_->control_port()},
                {"name", "tic_tac_toe_training_run"},
                {"project", "tic_tac_toe_project"},
                {"base_model", "Qwen/Qwen2.5-3B-Instruct"},
                {"api_key", "default"},
                {"init_args", {{"max_seq_length", 8192}}},
                {"engine_args", {{"gpu_memory_utilization", 0.9}, {"max_logprobs", 5}}}}},
              {"training", {{"learning_rate", 1e-5}, {"beta", 0.1}}}};
    native["retry_backoff_s"] = 0.05;
    c["native"] = native;
    return c;
  }

  std::unique_ptr<Adapter> ready_adapter(json native = json::object()) {
    auto a = std::make_unique<Adapter>(api(), config(native));
    CallResult r = a->initialize();
    EXPECT_TRUE(r.ok()) << r.message;
    return a;
  }

  static std::vector<json> drain_events(Adapter &a, const std::string &ref) {
    std::vector<json> events;
    for (int i = 0; i < 10000; ++i) {
      CallResult r = a.next_event(ref, 30);
      EXPECT_TRUE(r.ok()) << r.message;
      if (!r.out) break;
      events.push_back(r.json());
      if (events.back().value("final", false)) break;
    }
    return events;
  }

  std::unique_ptr<ReferenceServer> server_;
};

TEST_P(ArtAdapter, TrainsACollectionEndToEnd) {
  auto a = ready_adapter();
  int32_t healthy = 0;
  ASSERT_TRUE(a->is_healthy(&healthy).ok());
  EXPECT_EQ(healthy, 1);

  CallResult sub = a->submit(collection("art_run_e2e", {1.0, 0.0, 0.5, 0.25}).dump());
  ASSERT_TRUE(sub.ok()) << sub.message;
  json ref = sub.json();
  EXPECT_EQ(ref["run_id"], "art_run_e2e");
  EXPECT_EQ(ref["backend"], "openpipe-art");

  std::vector<json> events = drain_events(*a, ref.dump());
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front()["type"], "started");
  EXPECT_EQ(events.back()["type"], "completed");
  int steps = 0;
  for (const auto &ev : events)
    if (ev["type"] == "step") {
      ++steps;
      EXPECT_TRUE(ev["metrics"].contains("loss"));
      EXPECT_EQ(ev["step"], steps);
    }
  EXPECT_GE(steps, 1);

  CallResult fin = a->wait(ref.dump(), 10.0, 60);
  ASSERT_TRUE(fin.ok()) << fin.message;
  json st = fin.json();
  EXPECT_EQ(st["status"], "completed");
  EXPECT_EQ(st["progress"], 100.0);
  EXPECT_EQ(st["message"], "Training completed successfully.");
  EXPECT_EQ(st["metadata"]["dialect"], GetParam());
  EXPECT_EQ(st["metadata"]["step_after"].get<int>(), st["metadata"]["step_before"].get<int>() + 1);
  EXPECT_EQ(st["metadata"]["gradient_steps_done"], steps);
  EXPECT_EQ(st["metadata"]["num_gradient_steps"], steps);
  EXPECT_EQ(st["metadata"]["trained"], true);
  std::string expected_name =
      GetParam() == "0.5"
          ? "tic_tac_toe_training_run@" + std::to_string(st["metadata"]["step_after"].get<int>())
          : "tic_tac_toe_training_run";
  EXPECT_EQ(st["metadata"]["inference_model_name"], expected_name);
  // status stays after the end (NAT's removes the job; ours keeps it).
  EXPECT_EQ(a->status(ref.dump()).json(), st);
  EXPECT_EQ(a->status(json{{"run_id", "art_run_e2e"}, {"backend", "openpipe-art"}}.dump()).json(), st);

  // What really reached the server.
  auto trains = server_->requests_to("/_train_model");
  ASSERT_EQ(trains.size(), 1u);
  const json &body = trains[0]["body"];
  EXPECT_EQ(trains[0]["headers"].value("transfer-encoding", ""), "chunked");
  EXPECT_EQ(body["config"]["learning_rate"], 1e-5);
  if (GetParam() == "0.4") {
    EXPECT_EQ(body["config"]["beta"], 0.1);
  } else {
    EXPECT_TRUE(body["config"].contains("beta") || body["config"].contains("kl_penalty_coef"));
    EXPECT_EQ(body["model"]["trainable"], true);
  }
  EXPECT_EQ(body["model"]["_internal_config"]["trainer_args"],
            (json{{"learning_rate", 1e-5}, {"beta", 0.1}}));
  EXPECT_EQ(body["model"]["_internal_config"]["init_args"]["max_seq_length"], 8192);
  EXPECT_EQ(body["model"]["name"], "tic_tac_toe_training_run");
  EXPECT_EQ(body["dev_config"], json::object());
  EXPECT_EQ(body["verbose"], false);
  ASSERT_EQ(body["trajectory_groups"].size(), 1u);
  const json &t0 = body["trajectory_groups"][0]["trajectories"][0];
  EXPECT_EQ(t0["reward"], 1.0);
  EXPECT_EQ(t0["messages_and_choices"][2]["finish_reason"], "stop");
  EXPECT_EQ(t0["messages_and_choices"][2]["logprobs"], logprobs(3, 0));
  EXPECT_EQ(t0["messages_and_choices"][3], (json{{"role", "assistant"}, {"content", "ok"}}));

  // The whole protocol sequence, in order.
  std::vector<std::string> paths;
  for (const auto &rq : server_->requests()) {
    std::string p = rq["path"];
    if (p.rfind("/_test/", 0) != 0) paths.push_back(p);
  }
  std::vector<std::string> expected = {
      "/healthcheck", "/openapi.json", "/register",     "/_prepare_backend_for_training",
      "/_get_step",   "/healthcheck",  "/v1/models",    "/healthcheck",
      "/v1/models",   "/_get_step",    "/_train_model", "/_get_step"};
  // is_healthy probes the control and the inference server at the same time:
  // its two requests (the 8th and 9th) come in either order.
  if (paths.size() == expected.size() && paths[7] == "/v1/models") std::swap(paths[7], paths[8]);
  EXPECT_EQ(paths, expected);
}

TEST_P(ArtAdapter, ReusesARunIdOnceTheJobEndedAndRefusesItWhileRunning) {
  server_->set_faults({{"train", {{"step_delay", 0.5}}}});
  auto a = ready_adapter();
  std::string c = collection("epoch_run", {1.0, 0.0}).dump();
  CallResult first = a->submit(c);
  ASSERT_TRUE(first.ok()) << first.message;
  CallResult dup = a->submit(c);
  EXPECT_EQ(dup.code, kAlreadyExists);
  EXPECT_EQ(dup.message, "Training job with run_id epoch_run already exists.");
  EXPECT_EQ(a->wait(first.out.value()).json()["status"], "completed");
  server_->set_faults(json::object());
  CallResult second = a->submit(c);
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_NE(first.json()["metadata"]["job_id"], second.json()["metadata"]["job_id"]);
  EXPECT_EQ(a->wait(second.out.value()).json()["status"], "completed");
  json jobs = a->jobs().json()["jobs"];
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0]["status"]["status"], "completed");
  EXPECT_EQ(jobs[1]["job_ref"], second.json());
}

TEST_P(ArtAdapter, NothingTrainableCompletesWithTheDialectsStepRule) {
  auto a = ready_adapter();
  CallResult sub = a->submit(collection("flat", {0.5, 0.5, 0.5}).dump());
  ASSERT_TRUE(sub.ok()) << sub.message;
  json st = a->wait(sub.out.value()).json();
  EXPECT_EQ(st["status"], "completed");
  EXPECT_EQ(st["metadata"]["trained"], false);
  EXPECT_NE(st["metadata"]["note"].get<std::string>().find("nothing was trainable"), std::string::npos);
  int before = st["metadata"]["step_before"], after = st["metadata"]["step_after"];
  if (GetParam() == "0.4") {
    // An empty stream. ART 0.4.11 still renames the current checkpoint
    // directory to the next step (0.3.x kept the step).
    EXPECT_EQ(st["metadata"]["gradient_steps_done"], 0);
    EXPECT_EQ(after, before + 1);
  } else {
    EXPECT_EQ(after, before + 1);  // one num_groups_trainable:0 line, step advanced
    EXPECT_EQ(st["metadata"]["last_metrics"]["num_groups_trainable"], 0);
  }
}

TEST_P(ArtAdapter, AStreamCutMidTrainingFailsAndIsReconciled) {
  server_->set_faults({{"train", {{"cut_after", 1}}}});
  auto a = ready_adapter();
  CallResult sub = a->submit(collection("cut", {1.0, 0.0, 0.75, 0.25}).dump());
  ASSERT_TRUE(sub.ok()) << sub.message;
  std::vector<json> events = drain_events(*a, sub.out.value());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["type"], "failed");
  json st = a->wait(sub.out.value()).json();
  EXPECT_EQ(st["status"], "failed");
  std::string msg = st["message"];
  EXPECT_NE(
      msg.find("Training failed with error: the training stream ended without its final chunk after 1 of"),
      std::string::npos)
      << msg;
  EXPECT_NE(msg.find("/_get_step reports step"), std::string::npos) << msg;
  EXPECT_TRUE(st["metadata"].contains("reconciliation"));
  EXPECT_EQ(st["metadata"]["gradient_steps_done"], 1);
}

TEST_P(ArtAdapter, AFailedJobsCollectionStaysSpooledAndResubmitsUntilItTrains) {
  server_->set_faults({{"train", {{"cut_after", 1}}}});
  auto spool = std::filesystem::path(server_->data_dir()) / "spool";
  auto a = ready_adapter({{"spool_dir", spool.string()}});
  std::string c = collection("spooled", {1.0, 0.0, 0.5}).dump();
  CallResult sub = a->submit(c);
  ASSERT_TRUE(sub.ok()) << sub.message;
  json failed = a->wait(sub.out.value()).json();
  ASSERT_EQ(failed["status"], "failed");
  std::string file = failed["metadata"]["spool_file"];
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  EXPECT_EQ(std::filesystem::path(file).parent_path(), spool);
  EXPECT_EQ((std::filesystem::status(file).permissions() & std::filesystem::perms::others_read),
            std::filesystem::perms::none);
  {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes, c);  // the collection exactly as submitted, and nothing else (no api key)
  }
  server_->set_faults(json::object());
  CallResult again = a->resubmit(file);
  ASSERT_TRUE(again.ok()) << again.message;
  json done = a->wait(again.out.value()).json();
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["metadata"]["spool_file"], file);
  EXPECT_EQ(done["metadata"]["spool_file_removed"], true);
  EXPECT_FALSE(std::filesystem::exists(file));
  CallResult missing = a->resubmit(file);
  EXPECT_EQ(missing.code, kNotFound);
  EXPECT_NE(missing.message.find(file), std::string::npos);
}

TEST_P(ArtAdapter, TheServersErrorDetailReachesTheCaller) {
  auto a = ready_adapter();
  server_->set_faults({{"fail",
                        {{"/_train_model",
                          {{"status", 422},
                           {"body",
                            {{"detail",
                              {{{"loc", {"body", "trajectory_groups"}},
                                {"msg", "Field required"},
                                {"type", "missing"}}}}}}}}}}});
  CallResult sub = a->submit(collection("rejected", {1.0, 0.0}).dump());
  ASSERT_TRUE(sub.ok()) << sub.message;
  json st = a->wait(sub.out.value()).json();
  EXPECT_EQ(st["status"], "failed");
  std::string msg = st["message"];
  EXPECT_NE(msg.find("POST /_train_model returned HTTP 422"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Field required"), std::string::npos) << msg;
}

TEST_P(ArtAdapter, InitializeAgainstAnUnreachableServerIsUnavailable) {
  json c = config({{"retries", 1}, {"connect_timeout_s", 2}});
  c["backend"]["port"] = nat::testing::closed_port();
  Adapter a(api(), c);
  CallResult r = a.initialize();
  EXPECT_EQ(r.code, kUnavailable);
  EXPECT_EQ(r.message.rfind("Failed to connect to ART backend. GET /healthcheck failed:", 0), 0u)
      << r.message;
  int32_t healthy = 1;
  ASSERT_TRUE(a.is_healthy(&healthy).ok());
  EXPECT_EQ(healthy, 0);
  EXPECT_EQ(a.submit(collection("x", {1, 0}).dump()).code, kFailedPrecondition);
}

TEST_P(ArtAdapter, InitializeFailsWhenPrepareReturns500) {
  server_->set_faults(
      {{"fail", {{"/_prepare_backend_for_training", {{"status", 500}, {"body", "Internal Server Error"}}}}}});
  Adapter a(api(), config());
  CallResult r = a.initialize();
  EXPECT_EQ(r.code, kUnavailable);
  EXPECT_NE(r.message.find("POST /_prepare_backend_for_training returned HTTP 500"), std::string::npos)
      << r.message;
  EXPECT_EQ(server_->requests_to("/_prepare_backend_for_training").size(), 1u);  // not retried
}

TEST_P(ArtAdapter, InferenceDownMakesInitializeAndHealthFail) {
  server_->set_faults({{"inference", {{"refuse", true}}}});
  Adapter a(api(), config({{"health_timeout_s", 2}}));
  CallResult r = a.initialize();
  EXPECT_EQ(r.code, kUnavailable);
  EXPECT_NE(r.message.find("Failed to connect to ART backend. inference server:"), std::string::npos)
      << r.message;
}

TEST_P(ArtAdapter, CancelStopsARunningJob) {
  server_->set_faults({{"train", {{"step_delay", 2.0}}}});
  auto a = ready_adapter();
  CallResult sub = a->submit(collection("cancel_me", {1.0, 0.0, 0.5}).dump());
  ASSERT_TRUE(sub.ok());
  // Wait for the stream to start, then cancel.
  for (int i = 0; i < 100; ++i) {
    json st = a->status(sub.out.value()).json();
    if (st["status"] == "running" && st["metadata"].contains("step_before")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a->cancel(sub.out.value()).ok());
  json st = a->wait(sub.out.value(), 10, 30).json();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(st["status"], "canceled");
  EXPECT_EQ(st["message"], "Training was cancelled.");
}

TEST_P(ArtAdapter, WaitReturnsAsSoonAsTheJobEndsAndTimesOutCleanly) {
  server_->set_faults({{"train", {{"step_delay", 0.3}}}});
  auto a = ready_adapter();
  CallResult sub = a->submit(collection("waiter", {1.0, 0.0}).dump());
  ASSERT_TRUE(sub.ok());
  CallResult early = a->wait(sub.out.value(), 10.0, 0.05);
  EXPECT_EQ(early.code, kDeadlineExceeded);
  auto t0 = std::chrono::steady_clock::now();
  CallResult fin = a->wait(sub.out.value(), 30.0, 0);  // poll interval 30 s, no timeout
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(fin.ok()) << fin.message;
  EXPECT_EQ(fin.json()["status"], "completed");
  EXPECT_LT(waited, 20.0);
}

TEST_P(ArtAdapter, DeletesOldCheckpointsThroughTheDialectsRoute) {
  Adapter a(api(), [&] {
    json c = config();
    c["backend"]["delete_old_checkpoints"] = true;
    return c;
  }());
  ASSERT_TRUE(a.initialize().ok());
  CallResult sub = a.submit(collection("gc", {1.0, 0.0}).dump());
  ASSERT_TRUE(sub.ok());
  json st = a.wait(sub.out.value()).json();
  EXPECT_EQ(st["status"], "completed");
  EXPECT_EQ(st["metadata"]["checkpoint_deletion"], "ok");
  if (GetParam() == "0.4") {
    auto del = server_->requests_to("/_delete_checkpoints");
    ASSERT_EQ(del.size(), 1u);
    EXPECT_EQ(del[0]["query"]["benchmark"], "val/reward");
    EXPECT_EQ(del[0]["body"]["name"], "tic_tac_toe_training_run");
  } else {
    auto del = server_->requests_to("/_delete_checkpoint_files");
    ASSERT_EQ(del.size(), 1u);
    EXPECT_EQ(del[0]["body"]["steps_to_keep"], json::array({st["metadata"]["step_before"]}));
  }
}

TEST_P(ArtAdapter, ValidationErrorsRejectTheWholeSubmitBeforeAnythingIsSent) {
  auto a = ready_adapter();
  json c = collection("bad", {1.0, 0.0});
  c["trajectories"][0][1]["episode"][1] =
      c["trajectories"][0][1]["episode"][2];  // system, assistant, assistant
  CallResult r = a->submit(c.dump());
  EXPECT_EQ(r.code, kInvalidArgument);
  EXPECT_EQ(r.message,
            "trajectories[0][1].episode[2]: Consecutive assistant messages from the same role found in "
            "trajectory.");
  json all_dropped = collection("dropped", {1.0});
  all_dropped["trajectories"][0][0]["episode"][2]["logprobs"] = json::array({1});
  r = a->submit(all_dropped.dump());
  EXPECT_EQ(r.code, kInvalidArgument);
  EXPECT_EQ(r.message.rfind("No valid trajectory groups to submit.", 0), 0u) << r.message;
  EXPECT_TRUE(server_->requests_to("/_train_model").empty());
  EXPECT_EQ(a->status(R"({"run_id":"nope","backend":"openpipe-art"})").code, kNotFound);
}

TEST_P(ArtAdapter, ReportsDroppedTrajectoriesAndSendsTheRest) {
  auto a = ready_adapter();
  json c = collection("partial", {1.0, 0.0, 0.5});
  c["trajectories"][0][2]["episode"][2]["logprobs"] = "not logprobs";
  CallResult sub = a->submit(c.dump());
  ASSERT_TRUE(sub.ok()) << sub.message;
  json st = a->wait(sub.out.value()).json();
  EXPECT_EQ(st["metadata"]["trajectories_dropped"], 1);
  EXPECT_EQ(st["metadata"]["trajectories_submitted"], 2);
  EXPECT_EQ(st["metadata"]["dropped"][0]["trajectory"], 2);
  auto trains = server_->requests_to("/_train_model");
  ASSERT_EQ(trains.size(), 1u);
  EXPECT_EQ(trains[0]["body"]["trajectory_groups"][0]["trajectories"].size(), 2u);
}

TEST_P(ArtAdapter, ConcurrentSubmitsStatusAndCancelFromManyThreads) {
  server_->set_faults({{"train", {{"step_delay", 0.05}}}});
  auto a = ready_adapter();
  std::vector<std::thread> threads;
  std::atomic<int> completed{0}, errors{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      CallResult sub = a->submit(collection("conc_" + std::to_string(t), {1.0, 0.0}).dump());
      if (!sub.ok()) {
        ++errors;
        return;
      }
      for (int i = 0; i < 50; ++i)
        if (!a->status(sub.out.value()).ok()) ++errors;
      if (t == 3) a->cancel(sub.out.value());
      json st = a->wait(sub.out.value()).json();
      if (st["status"] == "completed" || (t == 3 && st["status"] == "canceled")) ++completed;
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(completed.load(), 4);
}

TEST_P(ArtAdapter, DestroyWhileAJobRunsCancelsAndJoins) {
  server_->set_faults({{"train", {{"step_delay", 5.0}}}});
  auto a = ready_adapter();
  CallResult sub = a->submit(collection("doomed", {1.0, 0.0}).dump());
  ASSERT_TRUE(sub.ok());
  std::thread waiter([&] {
    CallResult r = a->wait(sub.out.value(), 1, 0);
    EXPECT_TRUE(r.code == 7 || (r.ok() && r.json()["status"] == "canceled")) << r.code << " " << r.message;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto t0 = std::chrono::steady_clock::now();
  nat_trainer_adapter *h = a->handle();
  api().destroy(h);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  waiter.join();
  nat_trainer_adapter_buffer *b = nullptr;
  nat_trainer_adapter_error *e = api().status(h, sub.out->data(), sub.out->size(), &b);
  EXPECT_EQ(api().error_code(e), kFailedPrecondition);
  api().error_free(e);
}

TEST_P(ArtAdapter, LogProgressWritesNatsJsonLines) {
  auto a = ready_adapter();
  auto dir = std::filesystem::path(server_->data_dir()) / "progress";
  std::string ref = R"({"run_id":"art_run_log","backend":"openpipe-art","metadata":null})";
  ASSERT_TRUE(a->log_progress(ref, R"({"status":"running","progress":50.0,"epoch":1})", dir.c_str()).ok());
  ASSERT_TRUE(a->log_progress(ref, R"({"status":"completed"})", dir.c_str()).ok());
  std::ifstream f(dir / "trainer_adapter_art_run_log.jsonl");
  std::string line;
  std::vector<json> lines;
  while (std::getline(f, line)) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["run_id"], "art_run_log");
  EXPECT_EQ(lines[0]["backend"], "openpipe-art");
  EXPECT_EQ(lines[0]["trainer_config"], (json{{"base_model", "Qwen/Qwen2.5-3B-Instruct"},
                                              {"project", "tic_tac_toe_project"},
                                              {"name", "tic_tac_toe_training_run"}}));
  EXPECT_EQ(lines[0]["progress"], 50.0);
  EXPECT_EQ(lines[1]["status"], "completed");
  EXPECT_TRUE(lines[0]["timestamp"].is_string());
  EXPECT_EQ(a->log_progress(R"({"run_id":"../escape","backend":"b"})", "{}", dir.c_str()).code,
            kInvalidArgument);
  EXPECT_EQ(a->log_progress(ref, "[1]", dir.c_str()).code, kInvalidArgument);
}

// native.insecure_skip_tls_verify warns once per adapter, as a "warning"
// event of its first job (right after "started"); every job's status says
// that verification is off.
TEST_P(ArtAdapter, WarnsOnceThroughTheEventsWhenTlsVerificationIsOff) {
  auto warnings_of = [&](Adapter &a, const std::string &run_id, json *status) {
    CallResult sub = a.submit(collection(run_id, {1.0, 0.0}).dump());
    EXPECT_TRUE(sub.ok()) << sub.message;
    if (!sub.ok()) return std::vector<json>{};
    std::vector<json> events = drain_events(a, sub.out.value());
    std::vector<json> warnings;
    for (const auto &ev : events)
      if (ev["type"] == "warning") warnings.push_back(ev);
    if (!warnings.empty()) {
      EXPECT_EQ(events.at(1)["type"], "warning");
    }
    *status = a.wait(sub.out.value()).json();
    EXPECT_EQ((*status)["status"], "completed");
    return warnings;
  };
  json status;
  auto insecure = ready_adapter({{"insecure_skip_tls_verify", true}});
  std::vector<json> first = warnings_of(*insecure, "tls_first", &status);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["code"], "insecure_skip_tls_verify");
  const std::string text = first[0]["message"];
  EXPECT_NE(text.find("native.insecure_skip_tls_verify is on"), std::string::npos) << text;
  EXPECT_NE(text.find("not verified"), std::string::npos) << text;
  EXPECT_NE(text.find("native.scheme is http"), std::string::npos) << text;
  EXPECT_EQ(status["metadata"]["tls_verification"], "off (native.insecure_skip_tls_verify)");
  EXPECT_TRUE(warnings_of(*insecure, "tls_second", &status).empty());  // once per adapter
  EXPECT_EQ(status["metadata"]["tls_verification"], "off (native.insecure_skip_tls_verify)");
  insecure.reset();
  auto another = ready_adapter({{"insecure_skip_tls_verify", true}});
  EXPECT_EQ(warnings_of(*another, "tls_other_adapter", &status).size(), 1u);  // each adapter warns
  auto verified = ready_adapter();
  EXPECT_TRUE(warnings_of(*verified, "tls_verified", &status).empty());
  EXPECT_FALSE(status["metadata"].contains("tls_verification"));
}

// The api key (backend.api_key, and the same key as server_args.api_key,
// which the server hands back and the adapter sends as inference_api_key)
// never appears in what the adapter reports, whatever fails: errors, events,
// statuses, the jobs list, log_progress lines, spool files. Where a server
// answer echoes it (a FastAPI 422 quotes its input, a 500 its traceback), it
// is masked.
TEST_P(ArtAdapter, TheApiKeyNeverAppearsInErrorsEventsStatusesOrFiles) {
  const std::string key = "sk-nat-LEAKCHECK-7f3a9c";
  const auto dir = std::filesystem::path(server_->data_dir());
  const auto spool = dir / "key_spool";
  std::vector<std::string> reported;  // everything the adapter said
  auto keep = [&](const CallResult &r) {
    reported.push_back(r.message);
    if (r.out) reported.push_back(*r.out);
    return r;
  };
  auto keyed = [&](json native) {
    json c = config(native);
    c["backend"]["api_key"] = key;
    c["backend"]["server_config"] = {{"server_args", {{"api_key", key}}}};
    return c;
  };
  const json native = {
      {"spool_dir", spool.string()}, {"retries", 0}, {"connect_timeout_s", 2}, {"health_timeout_s", 2}};

  // A config the plugin cannot parse, with the key in the broken string.
  for (const std::string &broken :
       {R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"127.0.0.1","port":1,"api_key":")" + key +
            "\x01\"}}",
        R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"127.0.0.1","port":1,"api_key":")" + key +
            "}}",
        R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"127.0.0.1","port":"x","api_key":")" +
            key + "\"}}"}) {
    nat_trainer_adapter *h = nullptr;
    nat_trainer_adapter_error *e = api().create(broken.data(), broken.size(), &h);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(api().error_code(e), kInvalidArgument);
    reported.push_back(api().error_message(e));
    api().error_free(e);
  }

  {  // Nothing listens.
    json c = keyed(native);
    c["backend"]["port"] = nat::testing::closed_port();
    Adapter a(api(), c);
    EXPECT_EQ(keep(a.initialize()).code, kUnavailable);
    int32_t healthy = 1;
    keep(a.is_healthy(&healthy));
    EXPECT_EQ(keep(a.submit(collection("key_unreachable", {1, 0}).dump())).code, kFailedPrecondition);
  }
  {  // 401 from /register.
    server_->set_faults(
        {{"fail", {{"/register", {{"status", 401}, {"body", {{"error", "Unauthorized"}}}}}}}});
    Adapter a(api(), keyed(native));
    EXPECT_EQ(keep(a.initialize()).code, kUnavailable);
  }
  {  // 500 from prepare, with a traceback that quotes the server config.
    server_->set_faults(
        {{"fail",
          {{"/_prepare_backend_for_training",
            {{"status", 500}, {"body", "Traceback: bad server_args={'api_key': '" + key + "'}"}}}}}});
    Adapter a(api(), keyed(native));
    CallResult r = keep(a.initialize());
    EXPECT_EQ(r.code, kUnavailable);
    EXPECT_NE(r.message.find("[redacted]"), std::string::npos) << r.message;
  }

  server_->set_faults(json::object());
  Adapter a(api(), keyed(native));
  ASSERT_TRUE(keep(a.initialize()).ok());
  int32_t healthy = 0;
  ASSERT_TRUE(keep(a.is_healthy(&healthy)).ok());
  EXPECT_EQ(healthy, 1);
  json model_echo = {{"name", "tic_tac_toe_training_run"}, {"inference_api_key", key}};
  const std::vector<json> train_faults = {
      {{"status", 422},
       {"body",
        {{"detail",
          {{{"type", "missing"},
            {"loc", {"body", "model", "x"}},
            {"msg", "Field required"},
            {"input", model_echo}}}}}}},
      {{"status", 500}, {"body", "Internal Server Error: Bearer " + key}},
      {{"status", 401}, {"body", {{"error", "Unauthorized"}}}},
  };
  int n = 0;
  for (const json &fault : train_faults) {
    server_->set_faults({{"fail", {{"/_train_model", fault}}}});
    CallResult sub = keep(a.submit(collection("key_train_" + std::to_string(n++), {1.0, 0.0}).dump()));
    ASSERT_TRUE(sub.ok()) << sub.message;
    for (const json &ev : drain_events(a, sub.out.value())) reported.push_back(ev.dump());
    json st = keep(a.wait(sub.out.value())).json();
    EXPECT_EQ(st["status"], "failed");
    if (fault["status"] != 401) {  // the 422 and the 500 echo the key
      EXPECT_NE(st["message"].get<std::string>().find("[redacted]"), std::string::npos) << st["message"];
    }
    keep(a.status(sub.out.value()));
  }
  EXPECT_NE(reported.back().find("HTTP 401"), std::string::npos) << reported.back();
  server_->set_faults(json::object());
  // A stream cut, then a resubmit that completes.
  server_->set_faults({{"train", {{"cut_after", 1}}}});
  CallResult cut = keep(a.submit(collection("key_cut", {1.0, 0.0, 0.5}).dump()));
  ASSERT_TRUE(cut.ok()) << cut.message;
  json cut_status = keep(a.wait(cut.out.value())).json();
  ASSERT_EQ(cut_status["status"], "failed");
  server_->set_faults(json::object());
  CallResult again = keep(a.resubmit(cut_status["metadata"]["spool_file"]));
  ASSERT_TRUE(again.ok()) << again.message;
  for (const json &ev : drain_events(a, again.out.value())) reported.push_back(ev.dump());
  EXPECT_EQ(keep(a.wait(again.out.value())).json()["status"], "completed");
  EXPECT_EQ(keep(a.resubmit((spool / "missing.json").string())).code, kNotFound);
  EXPECT_EQ(keep(a.convert("{\"run_id\": 1}")).code, kInvalidArgument);
  keep(a.convert(collection("key_convert", {1.0, 0.0}).dump()));
  keep(a.jobs());
  const auto progress = dir / "key_progress";
  ASSERT_TRUE(keep(a.log_progress(cut.out.value(), R"({"status":"failed"})", progress.c_str())).ok());

  bool masked = false;
  for (const std::string &text : reported) {
    EXPECT_EQ(text.find(key), std::string::npos) << text;
    masked = masked || text.find("[redacted]") != std::string::npos;
  }
  EXPECT_TRUE(masked) << "the echoing faults were not exercised";
  int files = 0;
  for (const auto &d : {spool, progress}) {
    if (!std::filesystem::exists(d)) continue;
    for (const auto &entry : std::filesystem::directory_iterator(d)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(bytes.find(key), std::string::npos) << entry.path();
      ++files;
    }
  }
  EXPECT_GE(files, 4);  // the spool files of the failed jobs, the progress file
}

INSTANTIATE_TEST_SUITE_P(Dialects, ArtAdapter, ::testing::Values("0.4", "0.5"), [](const auto &info) {
  return "art_" + std::string(info.param == "0.4" ? "04" : "05");
});

}  // namespace
