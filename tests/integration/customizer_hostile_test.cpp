// The NeMo Customizer plugin against tests/hostile_server/hostile_server.py
// scripted per route: every byte from the services is untrusted. Oversized,
// deep, invalid and endless replies, odd ids, slow answers and a reply that
// quotes the token end in clear errors or failed statuses: never a crash, a
// hang or the token. About 5 s.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "child_server.h"
#include "plugin_api.h"
#include "reference_server.h"

namespace nat::testing {
namespace {

using Json = nlohmann::json;
constexpr const char *kToken = "hf-hostile-token-98765";

std::string env(const char *name, const std::string &fallback = "") {
  const char *v = std::getenv(name);
  return v ? v : fallback;
}

const PluginApi &plugin() {
  return PluginApi::load(env("NAT_CUSTOMIZER_PLUGIN", "libnat_trainer_adapter_nemo_customizer.so"));
}

const char *kCollection = R"({"run_id": "h1", "trajectories": [[{"reward": 1, "episode": [)"
                          R"({"prompt": "p", "chosen_response": "c", "rejected_response": "r"}]}]]})";

class CustomizerHostileTest : public ::testing::Test {
 protected:
  CustomizerHostileTest()
      : server_({env("HOSTILE_PYTHON", "python3"), env("HOSTILE_SERVER_SCRIPT", "hostile_server.py")}) {}

  // The routes a submit goes through, well-behaved, with `overrides` on top.
  void script(const Json &overrides) {
    Json s = {{"/v1/namespaces", {{"status", 201}, {"body", "{}"}}},
              {"/v1/datastore/namespaces", {{"status", 201}, {"body", "{}"}}},
              {"/v1/hf/api/repos/create", {{"body", R"({"url": "x"})"}}},
              {"/v1/datasets", {{"body", "{}"}}},
              {"/v1/hf/api/datasets/ns/nat-dpo/preupload/main",
               {{"body", R"({"files": [{"path": "training/training_file.jsonl", "uploadMode": "regular",)"
                         R"( "shouldIgnore": false}, {"path": "validation/validation_file.jsonl",)"
                         R"( "uploadMode": "regular", "shouldIgnore": false}]})"}}},
              {"/v1/hf/api/datasets/ns/nat-dpo/commit/main", {{"body", R"({"commitOid": "abc"})"}}},
              {"/v1/customization/jobs", {{"body", R"({"id": "job-1", "output_model": "ns/m"})"}}},
              {"/v1/customization/jobs/job-1/status",
               {{"body", R"({"status": "completed", "percentage_done": 100, "epochs_completed": 1})"}}}};
    s.merge_patch(overrides);
    auto r = http_request("POST", server_.base() + "/_hostile/script", s.dump());
    ASSERT_EQ(r.status, 200);
  }

  Json config(const Json &extra = Json::object()) const {
    Json c = {{"entity_host", server_.base()},
              {"datastore_host", server_.base()},
              {"hf_token", kToken},
              {"namespace", "ns"},
              {"customization_config", "m@v1"},
              {"poll_interval_seconds", 0.02},
              {"max_consecutive_status_failures", 1},
              {"native", {{"spool", false}, {"request_timeout_s", 2}, {"max_response_bytes", 65536}}}};
    c.merge_patch(extra);
    return c;
  }

  // Submits; returns the submit's error message, or the final status.
  Json run(const Json &overrides, const Json &extra = Json::object()) {
    script(overrides);
    Adapter a(plugin(), config(extra));
    CallResult init = a.initialize();
    EXPECT_TRUE(init.ok()) << init.message;
    CallResult submitted = a.submit(kCollection);
    Json out;
    if (!submitted.ok()) {
      out = {{"code", submitted.code}, {"message", submitted.message}};
    } else {
      CallResult status = a.wait(*submitted.out, 0.02, 30);
      EXPECT_TRUE(status.ok()) << status.message;
      out = status.json();
    }
    EXPECT_EQ(out.dump().find(kToken), std::string::npos) << out.dump();
    return out;
  }

  ChildServer server_;
};

TEST_F(CustomizerHostileTest, TheWellBehavedScriptCompletes) {
  Json st = run(Json::object());
  EXPECT_EQ(st["status"], "completed") << st.dump();
}

TEST_F(CustomizerHostileTest, AnOversizedReplyIsRefused) {
  Json st = run({{"/v1/customization/jobs", {{"repeat", {{"text", "x"}, {"times", 200000}}}}}});
  EXPECT_EQ(st["code"], NAT_TRAINER_ADAPTER_UNAVAILABLE);
  EXPECT_NE(st["message"].get<std::string>().find("larger than 65536 bytes"), std::string::npos) << st;
}

TEST_F(CustomizerHostileTest, DeepOrInvalidJsonIsAClearError) {
  Json st = run({{"/v1/customization/jobs", {{"deep", {{"depth", 20000}, {"open", "["}, {"close", "]"}}}}}});
  EXPECT_EQ(st["code"], NAT_TRAINER_ADAPTER_UNAVAILABLE);
  EXPECT_NE(st["message"].get<std::string>().find("not usable JSON"), std::string::npos) << st;
  st = run({{"/v1/customization/jobs", {{"body_hex", "7b226964223a2022ff00227d"}}}});
  EXPECT_EQ(st["code"], NAT_TRAINER_ADAPTER_UNAVAILABLE);
  EXPECT_NE(st["message"].get<std::string>().find("\\xff"), std::string::npos) << st;
}

TEST_F(CustomizerHostileTest, JobIdsAreCheckedAndEncoded) {
  Json st = run({{"/v1/customization/jobs", {{"body", R"({"id": "a\r\nX-Evil: 1", "output_model": "m"})"}}}});
  EXPECT_EQ(st["code"], NAT_TRAINER_ADAPTER_UNAVAILABLE);
  EXPECT_NE(st["message"].get<std::string>().find("\"id\" in the reply contains a control character"),
            std::string::npos)
      << st;
  st = run({{"/v1/customization/jobs", {{"body", R"({"id": "../../admin?x=1", "output_model": "m"})"}}}});
  // The id stays one path segment: the status request goes to the encoded path.
  Json requests = Json::parse(http_request("GET", server_.base() + "/_hostile/requests").body);
  bool encoded = false;
  for (const auto &r : requests)
    encoded = encoded || r["path"] == "/v1/customization/jobs/..%2F..%2Fadmin%3Fx%3D1/status";
  EXPECT_TRUE(encoded) << requests.dump();
  EXPECT_EQ(st["status"], "failed") << st;  // the encoded path is not scripted: 404
}

TEST_F(CustomizerHostileTest, EndlessOrSlowStatusRepliesFailTheJobInTime) {
  Json st = run(
      {{"/v1/customization/jobs/job-1/status",
        {{"body", "{"}, {"framing", "close"}, {"endless", {{"chunk", "\"a\": 1, "}, {"max_seconds", 20}}}}}});
  EXPECT_EQ(st["status"], "failed");
  EXPECT_NE(st["message"].get<std::string>().find("larger than 65536 bytes"), std::string::npos) << st;
  st = run({{"/v1/customization/jobs/job-1/status", {{"delay", 5}, {"body", "{}"}}}},
           {{"native", {{"request_timeout_s", 0.3}}}});
  EXPECT_EQ(st["status"], "failed");
  EXPECT_NE(st["message"].get<std::string>().find("Error getting status: "), std::string::npos) << st;
  EXPECT_NE(st["message"].get<std::string>().find("imed out"), std::string::npos) << st;
}

TEST_F(CustomizerHostileTest, ARepliesQuotingTheTokenAreMasked) {
  Json st =
      run({{"/v1/hf/api/datasets/ns/nat-dpo/commit/main",
            {{"status", 500}, {"body", std::string("{\"detail\": \"bad token Bearer ") + kToken + "\"}"}}}});
  EXPECT_EQ(st["code"], NAT_TRAINER_ADAPTER_UNAVAILABLE);
  EXPECT_NE(st["message"].get<std::string>().find("[redacted]"), std::string::npos) << st;
  // A status that quotes it: masked in the events and statuses.
  script({{"/v1/customization/jobs/job-1/status",
           Json::array(
               {{{"body", std::string(R"({"status": "running )") + kToken + R"(", "epochs_completed": 1})"}},
                {{"body", R"({"status": "completed", "epochs_completed": 2})"}}})}});
  Adapter a(plugin(), config({{"max_consecutive_status_failures", 3}}));
  ASSERT_TRUE(a.initialize().ok());
  CallResult submitted = a.submit(kCollection);
  ASSERT_TRUE(submitted.ok()) << submitted.message;
  ASSERT_TRUE(a.wait(*submitted.out, 0.02, 30).ok());
  std::string all;
  for (;;) {
    CallResult e = a.next_event(*submitted.out, 5);
    if (!e.ok() || !e.out) break;
    all += *e.out;
    if (e.json().value("final", false)) break;
  }
  EXPECT_EQ(all.find(kToken), std::string::npos) << all;
  EXPECT_NE(all.find("running [redacted]"), std::string::npos) << all;
}

TEST_F(CustomizerHostileTest, DestroyAbortsASubmitWaitingOnASlowService) {
  script({{"/v1/hf/api/datasets/ns/nat-dpo/commit/main", {{"delay", 20}, {"body", "{}"}}}});
  const PluginApi &api = plugin();
  const std::string c = config({{"native", {{"request_timeout_s", 60}, {"upload_timeout_s", 60}}}}).dump();
  nat_trainer_adapter *h = nullptr;
  ASSERT_EQ(api.create(c.data(), c.size(), &h), nullptr);
  ASSERT_EQ(api.initialize(h, "{}", 2), nullptr);
  auto started = std::chrono::steady_clock::now();
  std::thread destroyer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    api.destroy(h);
  });
  nat_trainer_adapter_buffer *ref = nullptr;
  nat_trainer_adapter_error *e = api.submit(h, kCollection, std::strlen(kCollection), &ref);
  destroyer.join();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(api.error_code(e), NAT_TRAINER_ADAPTER_CANCELLED) << api.error_message(e);
  api.error_free(e);
  EXPECT_EQ(ref, nullptr);
  EXPECT_LT(took, 10.0);  // not the 20 s the service takes
}

}  // namespace
}  // namespace nat::testing
