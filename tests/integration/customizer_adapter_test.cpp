// The NeMo Customizer plugin loaded with dlopen and driven through its C
// ABI against the NeMo server of the build (meson's nemo_server_python and
// nemo_server_script, started on a free port once for the suite). About 5 s.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "child_server.h"
#include "plugin_api.h"
#include "reference_server.h"

namespace nat::testing {
namespace {

using Json = nlohmann::json;
constexpr const char *kToken = "hf-secret-token-1234";

std::string env(const char *name, const std::string &fallback = "") {
  const char *v = std::getenv(name);
  return v ? v : fallback;
}

// The NeMo server's interpreter: meson's nemo_server_python, else the
// environment tools/setup-nemo-venvs.sh makes.
std::string nemo_python() {
  return env("NEMO_SERVER_PYTHON", env("NAT_SOURCE_ROOT", ".") + "/.venv/nat-customizer/bin/python");
}

const PluginApi &customizer_plugin() {
  return PluginApi::load(env("NAT_CUSTOMIZER_PLUGIN", "libnat_trainer_adapter_nemo_customizer.so"));
}

std::string data_file(const std::string &name) {
  return read_file(env("NAT_SOURCE_ROOT", ".") + "/tests/integration/customizer_data/" + name);
}

// The NeMo server of the build (meson's nemo_server_python and
// nemo_server_script).
class NemoServer {
 public:
  NemoServer()
      : child_({nemo_python(),
                env("NEMO_SERVER_SCRIPT", env("NAT_SOURCE_ROOT", ".") + "/tests/nemo_server/server.py")}),
        port_(child_.port()) {}
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void faults(const Json &f) const { http_request("POST", base() + "/_test/faults", f.dump()); }
  void reset() const { http_request("POST", base() + "/_test/reset"); }
  Json state() const { return Json::parse(http_request("GET", base() + "/_test/state").body); }
  std::vector<Json> requests_to(const std::string &method, const std::string &suffix) const {
    std::vector<Json> out;
    const Json all = state();
    for (const auto &r : all["requests"]) {
      const std::string path = r["path"];
      if (r["method"] == method && path.size() >= suffix.size() &&
          path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(r);
    }
    return out;
  }

 private:
  ChildServer child_;
  int port_ = 0;
};

class CustomizerTest : public ::testing::Test {
 protected:
  // One server for the suite (it takes about half a second to start),
  // reset before each test.
  static void SetUpTestSuite() {
    if (std::filesystem::exists(nemo_python())) shared_server_ = std::make_unique<NemoServer>();
  }
  static void TearDownTestSuite() { shared_server_.reset(); }

  void SetUp() override {
    if (!shared_server_)
      GTEST_SKIP() << "no NeMo server interpreter at " << nemo_python() << " (tools/setup-nemo-venvs.sh)";
    server_ = shared_server_.get();
    server_->reset();
    dir_ = std::filesystem::temp_directory_path() /
           ("nat-customizer-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Json config(const Json &extra = Json::object()) const {
    Json c = {{"_type", "nemo_customizer_trainer_adapter"},
              {"entity_host", server_->base() + "/"},
              {"datastore_host", server_->base()},
              {"hf_token", kToken},
              {"namespace", "nat-test"},
              {"customization_config", "meta/llama-3.2-1b-instruct@v1.0.0+A100"},
              {"poll_interval_seconds", 0.02},
              {"native", {{"spool_dir", (dir_ / "spool").string()}}}};
    c.merge_patch(extra);
    return c;
  }

  // Waits for the job's final status.
  static Json wait(Adapter &a, const std::string &ref) {
    CallResult r = a.wait(ref, 0.02, 20);
    EXPECT_TRUE(r.ok()) << r.message;
    return r.ok() ? r.json() : Json();
  }

  static std::vector<Json> events(Adapter &a, const std::string &ref) {
    std::vector<Json> out;
    for (;;) {
      CallResult r = a.next_event(ref, 5);
      if (!r.ok() || !r.out) break;
      out.push_back(r.json());
      if (out.back().value("final", false)) break;
    }
    return out;
  }

  static std::unique_ptr<NemoServer> shared_server_;
  NemoServer *server_ = nullptr;
  std::filesystem::path dir_;
};

std::unique_ptr<NemoServer> CustomizerTest::shared_server_;

TEST_F(CustomizerTest, UploadsNatsDatasetFilesByteForByteAndCompletes) {
  Adapter a(customizer_plugin(), config({{"dataset_output_dir", (dir_ / "datasets").string()}}));
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  Json ref = submitted.json();
  EXPECT_EQ(ref["run_id"], "dpo_run_1");
  EXPECT_EQ(ref["backend"], "nemo-customizer");
  EXPECT_EQ(ref["metadata"], (Json{{"job_id", "cust-1"},
                                   {"output_model", "nat-test/dpo-model@cust-1"},
                                   {"dataset_name", "nat-dpo"}}));
  Json status = wait(a, submitted.out.value());
  EXPECT_EQ(status["status"], "completed") << status.dump();
  EXPECT_EQ(status["message"], "Status: completed, Epochs: 2");
  EXPECT_EQ(status["progress"], 100.0);
  EXPECT_EQ(status["metadata"]["job_id"], "cust-1");
  EXPECT_EQ(status["metadata"]["nemo_status"], "completed");
  EXPECT_EQ(status["metadata"]["output_model"], "nat-test/dpo-model@cust-1");
  EXPECT_EQ(status["metadata"]["spool_file_removed"], true);
  EXPECT_FALSE(std::filesystem::exists(status["metadata"]["spool_file"].get<std::string>()));

  // The files on the server, and under dataset_output_dir/<run_id>, are NAT's.
  Json files = server_->state()["files"];
  EXPECT_EQ(files["nat-test/nat-dpo/training/training_file.jsonl"],
            data_file("expected_training_last.jsonl"));
  EXPECT_EQ(files["nat-test/nat-dpo/validation/validation_file.jsonl"],
            data_file("expected_validation_last.jsonl"));
  EXPECT_EQ(read_file((dir_ / "datasets" / "dpo_run_1" / "training_file.jsonl").string()),
            data_file("expected_training_last.jsonl"));

  // What was sent: NAT's requests, the token only to the Hugging Face API.
  auto jobs = server_->requests_to("POST", "/v1/customization/jobs");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(Json::parse(jobs[0]["body"].get<std::string>()),
            (Json{{"config", "meta/llama-3.2-1b-instruct@v1.0.0+A100"},
                  {"dataset", {{"name", "nat-dpo"}, {"namespace", "nat-test"}}},
                  {"hyperparameters",
                   {{"training_type", "dpo"},
                    {"finetuning_type", "all_weights"},
                    {"epochs", 3},
                    {"batch_size", 4},
                    {"learning_rate", 5e-05},
                    {"dpo",
                     {{"ref_policy_kl_penalty", 0.1},
                      {"preference_loss_weight", 1.0},
                      {"preference_average_log_probs", false},
                      {"sft_loss_weight", 0.0}}}}}}));
  auto datasets = server_->requests_to("POST", "/v1/datasets");
  ASSERT_EQ(datasets.size(), 1u);
  EXPECT_EQ(Json::parse(datasets[0]["body"].get<std::string>()),
            (Json{{"name", "nat-dpo"},
                  {"namespace", "nat-test"},
                  {"files_url", "hf://datasets/nat-test/nat-dpo"},
                  {"description", "NAT DPO training dataset for run dpo_run_1"}}));
  auto ns = server_->requests_to("POST", "/v1/datastore/namespaces");
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0]["body"], "namespace=nat-test");
  EXPECT_EQ(ns[0]["content_type"], "application/x-www-form-urlencoded");
  auto commits = server_->requests_to("POST", "/commit/main");
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0]["content_type"], "application/x-ndjson");
  const Json recorded = server_->state();
  for (const auto &r : recorded["requests"]) {
    const std::string path = r["path"];
    if (path.rfind("/v1/hf/", 0) == 0)
      EXPECT_EQ(r["authorization"], std::string("Bearer ") + kToken) << path;
    else
      EXPECT_TRUE(r["authorization"].is_null()) << path;
  }
  EXPECT_TRUE(server_->requests_to("POST", "/v1/deployment/configs").empty());

  // Events: started, one per status change, the final one; no token anywhere.
  std::vector<Json> ev = events(a, submitted.out.value());
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev.front()["type"], "started");
  EXPECT_EQ(ev.back()["type"], "completed");
  int status_events = 0;
  for (const auto &e : ev) status_events += e["type"] == "status";
  EXPECT_EQ(status_events, 3);  // created, running (epoch 1), completed (epoch 2)
  CallResult listed = a.jobs();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed.json()["jobs"][0]["job_ref"], ref);
  EXPECT_EQ(listed.out->find(kToken), std::string::npos);
}

TEST_F(CustomizerTest, FullMessageHistoryAndConvertGiveNatsLines) {
  Adapter a(customizer_plugin(), config({{"use_full_message_history", true}}));
  CallResult converted = a.convert(data_file("dpo_collection.json"));
  ASSERT_TRUE(converted.ok()) << converted.message;
  Json files = converted.json()["files"];
  EXPECT_EQ(files["training/training_file.jsonl"], data_file("expected_training_full.jsonl"));
  EXPECT_EQ(files["validation/validation_file.jsonl"], data_file("expected_validation_full.jsonl"));
}

TEST_F(CustomizerTest, EmptyHfTokenSendsNoAuthorizationHeader) {
  Adapter a(customizer_plugin(), config({{"hf_token", ""}}));
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  EXPECT_EQ(wait(a, submitted.out.value())["status"], "completed");
  auto commits = server_->requests_to("POST", "/commit/main");
  ASSERT_EQ(commits.size(), 2u);
  const Json recorded = server_->state();
  for (const auto &r : recorded["requests"]) EXPECT_TRUE(r["authorization"].is_null()) << r["path"];
}

TEST_F(CustomizerTest, AFailedJobIsAFailedStatusNotAnError) {
  server_->faults({{"job_statuses", {{"running", 10, 0}, {"failed", 10, 0}}}});
  Adapter a(customizer_plugin(), config());
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  Json status = wait(a, submitted.out.value());
  EXPECT_EQ(status["status"], "failed");
  EXPECT_EQ(status["message"], "Status: failed, Epochs: 0");
  // Not trained: the collection stays in the spool for a resubmit.
  EXPECT_TRUE(std::filesystem::exists(status["metadata"]["spool_file"].get<std::string>()));
  CallResult again = a.resubmit(status["metadata"]["spool_file"].get<std::string>());
  EXPECT_TRUE(again.ok()) << again.message;
}

TEST_F(CustomizerTest, CancelAsksTheServiceToCancel) {
  server_->faults({{"job_statuses", {{"running", 10, 0}}}});
  Adapter a(customizer_plugin(), config());
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  ASSERT_TRUE(a.cancel(submitted.out.value()).ok());
  Json status = wait(a, submitted.out.value());
  EXPECT_EQ(status["status"], "canceled");
  EXPECT_EQ(status["metadata"]["cancel_request"], "sent");
  EXPECT_EQ(server_->requests_to("POST", "/v1/customization/jobs/cust-1/cancel").size(), 1u);
}

TEST_F(CustomizerTest, StatusFailuresWithinTheLimitAreRetried) {
  server_->faults({{"status_errors", 2}});
  Adapter a(customizer_plugin(), config({{"max_consecutive_status_failures", 3}}));
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  EXPECT_EQ(wait(a, submitted.out.value())["status"], "completed");
  int warnings = 0;
  for (const auto &e : events(a, submitted.out.value()))
    warnings += e["type"] == "warning" && e["code"] == "status_check_failed";
  EXPECT_EQ(warnings, 2);
}

TEST_F(CustomizerTest, StatusFailuresBeyondTheLimitFailTheJob) {
  server_->faults({{"status_error_from", 2}});
  Adapter a(customizer_plugin(), config({{"max_consecutive_status_failures", 2}}));
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  Json status = wait(a, submitted.out.value());
  EXPECT_EQ(status["status"], "failed");
  const std::string message = status["message"];
  EXPECT_EQ(message.rfind("Error getting status: ", 0), 0u) << message;
  EXPECT_NE(message.find("HTTP 500"), std::string::npos) << message;
  EXPECT_EQ(server_->state()["status_calls"], 3);  // one answer, then two failures
}

TEST_F(CustomizerTest, HealthCheckNamesTheServiceThatIsDown) {
  const std::string closed = "http://127.0.0.1:" + std::to_string(closed_port());
  {
    Adapter a(customizer_plugin(), config({{"datastore_host", closed}}));
    CallResult r = a.initialize();
    EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_UNAVAILABLE);
    EXPECT_NE(r.message.find("NeMo Data Store at " + closed), std::string::npos) << r.message;
    EXPECT_EQ(r.message.find("Entity Store"), std::string::npos) << r.message;
    int32_t healthy = 1;
    ASSERT_TRUE(a.is_healthy(&healthy).ok());
    EXPECT_EQ(healthy, 0);
  }
  {
    Adapter a(customizer_plugin(), config({{"entity_host", closed}}));
    CallResult r = a.initialize();
    EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_UNAVAILABLE);
    EXPECT_NE(r.message.find("NeMo Entity Store at " + closed), std::string::npos) << r.message;
  }
  Adapter a(customizer_plugin(), config());
  int32_t healthy = 0;
  ASSERT_TRUE(a.is_healthy(&healthy).ok());
  EXPECT_EQ(healthy, 1);
}

TEST_F(CustomizerTest, DeploysOnCompletion) {
  Adapter a(customizer_plugin(), config({{"deploy_on_completion", true}}));
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  Json status = wait(a, submitted.out.value());
  EXPECT_EQ(status["status"], "completed") << status.dump();
  EXPECT_EQ(status["metadata"]["deployment"]["status"], "ready");
  auto configs = server_->requests_to("POST", "/v1/deployment/configs");
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(Json::parse(configs[0]["body"].get<std::string>()),
            (Json{{"name", "nat-deploy-config-dpo_run_1"},
                  {"namespace", "nat-test"},
                  {"description", "Fine-tuned model deployment"},
                  {"model", "nat-test/dpo-model@cust-1"},
                  {"nim_deployment",
                   {{"image_name", "nvcr.io/nim/nvidia/nemotron-3.5-lightning-30b-a3b"},
                    {"image_tag", "latest"},
                    {"gpu", 1}}}}));
  auto deployments = server_->requests_to("POST", "/v1/deployment/model-deployments");
  ASSERT_EQ(deployments.size(), 1u);
  EXPECT_EQ(Json::parse(deployments[0]["body"].get<std::string>()),
            (Json{{"name", "nat-deployment-dpo_run_1"},
                  {"namespace", "nat-test"},
                  {"description", "Fine-tuned model deployment"},
                  {"config", "nat-test/nat-deploy-config-dpo_run_1"}}));
}

TEST_F(CustomizerTest, ADeploymentThatNeverGetsReadyFailsAfterItsTimeout) {
  server_->faults({{"deployment_statuses", {"pending"}}});
  Adapter a(customizer_plugin(),
            config({{"deploy_on_completion", true}, {"deployment_timeout_seconds", 0.3}}));
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  Json status = wait(a, submitted.out.value());
  EXPECT_EQ(status["status"], "failed");
  EXPECT_EQ(status["message"],
            "Training job dpo_run_1 completed, but deploying the model failed: Deployment "
            "'nat-deployment-dpo_run_1' did not become ready within 0.3 seconds");
  EXPECT_EQ(status["metadata"]["training"], "completed");
}

TEST_F(CustomizerTest, CancelWhileWaitingForTheDeployment) {
  server_->faults({{"deployment_statuses", {"pending"}}});
  Adapter a(customizer_plugin(),
            config({{"deploy_on_completion", true}, {"deployment_timeout_seconds", 60}}));
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(data_file("dpo_collection.json"));
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  for (;;) {  // until the deployment reports its first status
    CallResult e = a.next_event(submitted.out.value(), 10);
    ASSERT_TRUE(e.ok() && e.out) << e.message;
    if (e.json()["type"] == "deployment") break;
  }
  ASSERT_TRUE(a.cancel(submitted.out.value()).ok());
  Json status = wait(a, submitted.out.value());
  EXPECT_EQ(status["status"], "canceled");
  EXPECT_EQ(
      status["message"],
      "Training job dpo_run_1 completed; waiting for its deployment was cancelled (cancelled while waiting "
      "for deployment 'nat-deployment-dpo_run_1').");
}

TEST_F(CustomizerTest, ValidationErrorsNameTheItemAndField) {
  Adapter a(customizer_plugin(), config());
  Json c = Json::parse(data_file("dpo_collection.json"));
  c["trajectories"][0][1]["episode"][0].erase("chosen_response");
  CallResult r = a.convert(c.dump());
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  EXPECT_NE(r.message.find("trajectories[0][1].episode[0]: missing required key 'chosen_response'"),
            std::string::npos)
      << r.message;
  c = Json::parse(data_file("dpo_collection.json"));
  c["trajectories"][1][0]["episode"][1]["prompt"] = {{{"role", "user"}, {"content", 7}}};
  r = a.convert(c.dump());
  EXPECT_NE(r.message.find("trajectories[1][0].episode[1].prompt[0].content: expected a string"),
            std::string::npos)
      << r.message;
  // As NAT: an episode of EpisodeItems is skipped; one that mixes both kinds is refused.
  c = Json::parse(data_file("dpo_collection.json"));
  c["trajectories"][0].push_back(
      {{"reward", 0.5},
       {"episode",
        {{{"role", "user"}, {"content", "q"}},
         {{"role", "assistant"}, {"content", "a"}, {"logprobs", Json::object()}}}}});
  r = a.convert(c.dump());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.json()["trajectories_skipped"], 1);
  EXPECT_EQ(r.json()["files"]["training/training_file.jsonl"], data_file("expected_training_last.jsonl"));
  c["trajectories"][0].back()["episode"].push_back(
      {{"prompt", "p"}, {"chosen_response", "c"}, {"rejected_response", "r"}});
  r = a.convert(c.dump());
  EXPECT_NE(r.message.find("trajectories[0][2].episode[0]: missing required key 'prompt': this looks like an "
                           "EpisodeItem"),
            std::string::npos)
      << r.message;
  r = a.convert(
      R"({"run_id": "r", "trajectories": [[{"episode": [{"role": "user", "content": "x"}], "reward": 1}]]})");
  EXPECT_EQ(r.message, "No DPO items found in trajectories");
  r = a.convert(R"({"run_id": "r", "trajectories": [[{"episode": [], "reward": 1}]]})");
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  EXPECT_EQ(r.message, "No DPO items found in trajectories");
  r = a.submit(data_file("dpo_collection.json"));
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_FAILED_PRECONDITION) << r.message;
  EXPECT_TRUE(server_->requests_to("POST", "/commit/main").empty());
}

TEST_F(CustomizerTest, AnActiveRunIdIsRefusedWithNatsMessage) {
  server_->faults({{"job_statuses", {{"running", 10, 0}}}});
  Adapter a(customizer_plugin(), config());
  ASSERT_TRUE(a.initialize().ok());
  ASSERT_TRUE(a.submit(data_file("dpo_collection.json")).ok());
  CallResult again = a.submit(data_file("dpo_collection.json"));
  EXPECT_EQ(again.code, NAT_TRAINER_ADAPTER_ALREADY_EXISTS);
  EXPECT_EQ(again.message, "Training job for run dpo_run_1 already exists");
}

TEST_F(CustomizerTest, ConfigIsCheckedAsNatChecksIt) {
  const PluginApi &api = customizer_plugin();
  auto create_error = [&](const Json &c) {
    std::string text = c.dump();
    nat_trainer_adapter *h = nullptr;
    nat_trainer_adapter_error *e = api.create(text.data(), text.size(), &h);
    std::string message = e ? api.error_message(e) : "";
    api.error_free(e);
    api.destroy(h);
    return message;
  };
  EXPECT_EQ(create_error(config({{"max_consecutive_status_failures", 11}})),
            "config: max_consecutive_status_failures: must be an integer between 1 and 10");
  EXPECT_EQ(create_error(config({{"poll_interval_seconds", 0}})),
            "config: poll_interval_seconds: must be a number greater than 0");
  EXPECT_EQ(create_error(config({{"hyperparameters", {{"training_type", "ppo"}}}})),
            "config: hyperparameters.training_type: expected \"sft\" or \"dpo\"");
  Json missing = config();
  missing.erase("customization_config");
  EXPECT_EQ(create_error(missing), "config: customization_config: missing required key");
  EXPECT_EQ(create_error(config({{"hf_token", std::string(kToken) + "\r\nX: y"}})).find(kToken),
            std::string::npos);
  Json info = Json::parse(api.plugin_info());
  EXPECT_EQ(info["name"], "nemo_customizer_trainer_adapter");
  EXPECT_EQ(info["backend"], "nemo-customizer");
}

TEST_F(CustomizerTest, ABackendFailureLeavesTheCollectionSpooledForAResubmit) {
  server_->faults({{"job_create_status", 503}});
  Adapter a(customizer_plugin(), config());
  ASSERT_TRUE(a.initialize().ok());
  CallResult r = a.submit(data_file("dpo_collection.json"));
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_UNAVAILABLE);
  EXPECT_NE(r.message.find("returned HTTP 503"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("for a resubmit"), std::string::npos) << r.message;
  nat_trainer_adapter_buffer *b = nullptr;
  nat_trainer_adapter_error *e = customizer_plugin().spooled(a.handle(), nullptr, 0, &b);
  ASSERT_EQ(e, nullptr) << customizer_plugin().error_message(e);
  Json collections = Json::parse(customizer_plugin().buffer_data(b))["collections"];
  customizer_plugin().buffer_free(b);
  ASSERT_EQ(collections.size(), 1u);
  EXPECT_EQ(collections[0]["run_id"], "dpo_run_1");
  server_->faults(Json::object());
  CallResult again = a.resubmit(collections[0]["path"].get<std::string>());
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(wait(a, again.out.value())["status"], "completed");
  EXPECT_FALSE(std::filesystem::exists(collections[0]["path"].get<std::string>()));
}

TEST_F(CustomizerTest, LogProgressWritesNatsLine) {
  Adapter a(customizer_plugin(), config());
  const std::string ref = R"({"run_id": "dpo_run_1", "backend": "nemo-customizer", "metadata": null})";
  ASSERT_TRUE(
      a.log_progress(ref, R"({"loss": 0.5, "step": 3, "lr": 1e-05, "note": "é"})", dir_.c_str()).ok());
  std::string line = read_file((dir_ / "nemo_customizer_dpo_run_1.jsonl").string());
  EXPECT_EQ(line.rfind("{\"timestamp\": \"", 0), 0u) << line;
  const std::string tail =
      "\", \"run_id\": \"dpo_run_1\", \"backend\": \"nemo-customizer\", \"config\": {\"namespace\": "
      "\"nat-test\", \"customization_config\": \"meta/llama-3.2-1b-instruct@v1.0.0+A100\"}, \"loss\": 0.5, "
      "\"step\": 3, \"lr\": 1e-05, \"note\": \"\\u00e9\"}\n";
  ASSERT_GE(line.size(), tail.size());
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail);
}

TEST_F(CustomizerTest, LogProgressWritesNumbersAsPythonDoes) {
  Adapter a(customizer_plugin(), config());
  const std::string ref = R"({"run_id": "r2", "backend": "nemo-customizer"})";
  const std::string metrics =
      R"({"a": 1.0, "b": 1e16, "c": 1e15, "d": 0.0001, "e": 123456.789, "f": -2.5e-7,)"
      R"( "g": 12345678901234567890, "h": [true, null, {}]})";
  ASSERT_TRUE(a.log_progress(ref, metrics, dir_.c_str()).ok());
  std::string line = read_file((dir_ / "nemo_customizer_r2.jsonl").string());
  // json.dumps of the same metrics.
  const std::string tail =
      "\"a\": 1.0, \"b\": 1e+16, \"c\": 1000000000000000.0, \"d\": 0.0001, \"e\": 123456.789, "
      "\"f\": -2.5e-07, \"g\": 12345678901234567890, \"h\": [true, null, {}]}\n";
  ASSERT_GE(line.size(), tail.size());
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail);
}

TEST_F(CustomizerTest, ServerRepliesQuotingTheTokenAreMasked) {
  // preupload asks for an upload mode that holds the token: the message
  // quotes the reply with the token masked.
  server_->faults({{"upload_mode", std::string("lfs-") + kToken}});
  Adapter a(customizer_plugin(), config());
  ASSERT_TRUE(a.initialize().ok());
  CallResult r = a.submit(data_file("dpo_collection.json"));
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_UNAVAILABLE);
  EXPECT_EQ(r.message.find(kToken), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("[redacted]"), std::string::npos) << r.message;
  CallResult listed = a.jobs();
  EXPECT_EQ(listed.out.value_or("").find(kToken), std::string::npos);
}

}  // namespace
}  // namespace nat::testing
