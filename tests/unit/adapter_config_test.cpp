#include "config/adapter_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapter/error.h"

using nlohmann::json;

namespace {

std::string rejection(const std::string &text) {
  try {
    nat::parse_adapter_config(text, "openpipe_art_trainer_adapter");
  } catch (const nat::Error &e) {
    EXPECT_EQ(e.code(), nat::ErrorCode::InvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << text;
  return "";
}

}  // namespace

TEST(AdapterConfig, AppliesNatDefaults) {
  auto c = nat::parse_adapter_config(R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"10.0.0.5","port":7623}})",
                                     "openpipe_art_trainer_adapter");
  EXPECT_EQ(c.backend.ip, "10.0.0.5");
  EXPECT_EQ(c.backend.port, 7623);
  EXPECT_EQ(c.backend.name, "trainer_run");
  EXPECT_EQ(c.backend.project, "trainer_project");
  EXPECT_EQ(c.backend.base_model, "Qwen/Qwen2.5-7B-Instruct");
  EXPECT_EQ(c.backend.api_key, "default");
  EXPECT_FALSE(c.backend.delete_old_checkpoints);
  EXPECT_TRUE(c.training.is_null());
  EXPECT_DOUBLE_EQ(c.learning_rate(), 5e-5);
  EXPECT_DOUBLE_EQ(c.beta(), 0.0);
  EXPECT_EQ(c.native.validation, nat::ValidationMode::Compat);
  EXPECT_EQ(c.native.dialect, nat::Dialect::Auto);
}

TEST(AdapterConfig, SendsTheConfiguredLearningRateAndBeta) {
  auto c = nat::parse_adapter_config(
      R"({"type":"openpipe_art_trainer_adapter","backend":{"ip":"h","port":1,"init_args":{"max_seq_length":8192}},
          "training":{"learning_rate":1e-5,"beta":0.1,"num_epochs":2},"native":{"validation":"strict","dialect":"0.5"}})",
      "openpipe_art_trainer_adapter");
  EXPECT_DOUBLE_EQ(c.learning_rate(), 1e-5);
  EXPECT_DOUBLE_EQ(c.beta(), 0.1);
  EXPECT_EQ(c.training["num_epochs"], 2);
  EXPECT_EQ(c.backend.init_args["max_seq_length"], 8192);
  EXPECT_EQ(c.native.validation, nat::ValidationMode::Strict);
  EXPECT_EQ(c.native.dialect, nat::Dialect::V05);
}

TEST(AdapterConfig, NamesTheOffendingKey) {
  EXPECT_EQ(rejection("{}"), "config: backend: missing required key");
  EXPECT_EQ(rejection(R"({"backend":{"port":1}})"), "config: backend.ip: missing required key");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h"}})"), "config: backend.port: missing required key");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":"7623"}})"), "config: backend.port: expected an integer, got string");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":70000}})"), "config: backend.port: must be between 1 and 65535, got 70000");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1,"delete_old_checkpoints":"yes"}})"),
            "config: backend.delete_old_checkpoints: expected a boolean, got string");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"training":{"learning_rate":"fast"}})"),
            "config: training.learning_rate: expected a finite number, got string");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"native":{"validaton":"strict"}})"),
            "config: native.validaton: unknown option");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"native":{"dialect":"0.6"}})"),
            "config: native.dialect: expected \"auto\", \"0.4\" or \"0.5\", got \"0.6\"");
  EXPECT_EQ(rejection(R"({"_type":"nemo_customizer_trainer_adapter","backend":{"ip":"h","port":1}})"),
            "config: _type: this plugin implements \"openpipe_art_trainer_adapter\", not \"nemo_customizer_trainer_adapter\"");
  EXPECT_NE(rejection("{\"backend\":").find("config: invalid JSON at byte"), std::string::npos);
  EXPECT_EQ(rejection("[]"), "config: expected a JSON object, got array");
}

TEST(AdapterConfig, SchemaIsValidJson) {
  json schema = json::parse(nat::adapter_config_schema());
  EXPECT_EQ(schema["required"], json::array({"backend"}));
  EXPECT_TRUE(schema["properties"]["native"]["properties"].contains("validation"));
}
