#include "config/adapter_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"

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
  auto c = nat::parse_adapter_config(
      R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"10.0.0.5","port":7623}})",
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
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":"seventy"}})"),
            "config: backend.port: expected an integer, got a string that is not one");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":[7623]}})"),
            "config: backend.port: expected an integer, got array");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":70000}})"),
            "config: backend.port: must be an integer between 1 and 65535, got 70000");
  EXPECT_EQ(
      rejection(R"({"backend":{"ip":"h","port":"70000"}})"),
      "config: backend.port: must be an integer between 1 and 65535, got a numeric string out of range");
  EXPECT_NE(rejection(R"({"backend":{"ip":"h","port":1,"delete_old_checkpoints":"maybe"}})")
                .find("config: backend.delete_old_checkpoints: expected a boolean"),
            std::string::npos);
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"training":{"learning_rate":"fast"}})"),
            "config: training.learning_rate: expected a finite number, got a string that is not a number");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"training":{"beta":"inf"}})"),
            "config: training.beta: expected a finite number, got a string that is not finite");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"native":{"validaton":"strict"}})"),
            "config: native.validaton: unknown option");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"native":{"dialect":"0.6"}})"),
            "config: native.dialect: expected \"auto\", \"0.4\" or \"0.5\", got \"0.6\"");
  EXPECT_EQ(rejection(R"({"_type":"nemo_customizer_trainer_adapter","backend":{"ip":"h","port":1}})"),
            "config: _type: this plugin implements \"openpipe_art_trainer_adapter\", not "
            "\"nemo_customizer_trainer_adapter\"");
  EXPECT_NE(rejection("{\"backend\":").find("config: invalid JSON at byte"), std::string::npos);
  EXPECT_EQ(rejection("[]"), "config: expected a JSON object, got array");
}

TEST(AdapterConfig, SchemaIsValidJson) {
  json schema = json::parse(nat::adapter_config_schema());
  EXPECT_EQ(schema["required"], json::array({"backend"}));
  EXPECT_TRUE(schema["properties"]["native"]["properties"].contains("validation"));
}

// Numeric options are range-checked on the JSON value, before any
// conversion to an integer type (retries 1e300 used to be a float-cast
// overflow, undefined behaviour), and the message names the option and range.
namespace {

std::string native_rejection(const std::string &native) {
  return rejection(R"({"backend":{"ip":"h","port":1},"native":)" + native + "}");
}

nat::NativeOptions native_options(const std::string &native) {
  return nat::parse_adapter_config(R"({"backend":{"ip":"h","port":1},"native":)" + native + "}",
                                   "openpipe_art_trainer_adapter")
      .native;
}

}  // namespace

TEST(AdapterConfig, RangeChecksIntegerOptionsBeforeConverting) {
  // tests/fuzz/reproducers/config/ub-*-float-cast.json
  EXPECT_EQ(native_rejection(R"({"retries":1e300})"),
            "config: native.retries: must be an integer between 0 and 20, got 1e+300");
  EXPECT_EQ(native_rejection(R"({"max_json_depth":1e300})"),
            "config: native.max_json_depth: must be an integer between 2 and 1000, got 1e+300");
  EXPECT_EQ(native_rejection(R"({"max_response_bytes":1e300})"),
            "config: native.max_response_bytes: must be an integer between 1024 and 1073741824, got 1e+300");
  EXPECT_EQ(native_rejection(R"({"retries":-1e300})"),
            "config: native.retries: must be an integer between 0 and 20, got -1e+300");
  EXPECT_EQ(native_rejection(R"({"retries":21})"),
            "config: native.retries: must be an integer between 0 and 20, got 21");
  EXPECT_EQ(native_rejection(R"({"retries":-1})"),
            "config: native.retries: must be an integer between 0 and 20, got -1");
  EXPECT_EQ(native_rejection(R"({"retries":2.5})"),
            "config: native.retries: must be an integer between 0 and 20, got 2.5");
  EXPECT_EQ(native_rejection(R"({"retries":"three"})"),
            "config: native.retries: expected an integer, got a string that is not one");
  EXPECT_EQ(native_rejection(R"({"retries":"2.5"})"),
            "config: native.retries: expected an integer, got a string that is not one");
  EXPECT_EQ(native_rejection(R"({"retries":true})"),
            "config: native.retries: expected an integer, got boolean");
  EXPECT_EQ(native_rejection(R"({"max_json_depth":1})"),
            "config: native.max_json_depth: must be an integer between 2 and 1000, got 1");
  EXPECT_EQ(native_rejection(R"({"max_json_depth":4294967298})"),
            "config: native.max_json_depth: must be an integer between 2 and 1000, got 4294967298");
  EXPECT_EQ(native_rejection(R"({"max_response_bytes":18446744073709551615})"),
            "config: native.max_response_bytes: must be an integer between 1024 and 1073741824, got "
            "18446744073709551615");
  EXPECT_EQ(native_rejection(R"({"max_response_bytes":-9223372036854775808})"),
            "config: native.max_response_bytes: must be an integer between 1024 and 1073741824, got "
            "-9223372036854775808");
  EXPECT_EQ(native_rejection(R"({"max_response_bytes":1023})"),
            "config: native.max_response_bytes: must be an integer between 1024 and 1073741824, got 1023");
}

TEST(AdapterConfig, RangeChecksNumberOptions) {
  EXPECT_EQ(native_rejection(R"({"keepalive_idle_s":1e300})"),
            "config: native.keepalive_idle_s: must be a number between 1 and 32767, got 1e+300");
  EXPECT_EQ(native_rejection(R"({"keepalive_idle_s":0.5})"),
            "config: native.keepalive_idle_s: must be a number between 1 and 32767, got 0.5");
  EXPECT_EQ(native_rejection(R"({"retry_backoff_s":1e300})"),
            "config: native.retry_backoff_s: must be a number between 0 and 3600, got 1e+300");
  EXPECT_EQ(native_rejection(R"({"retry_backoff_s":-0.5})"),
            "config: native.retry_backoff_s: must be a number between 0 and 3600, got -0.5");
  for (const char *key : {"connect_timeout_s", "request_timeout_s", "get_step_timeout_s", "prepare_timeout_s",
                          "health_timeout_s"}) {
    EXPECT_EQ(
        native_rejection(std::string("{\"") + key + "\":1e300}"),
        std::string("config: native.") + key + ": must be a number between 0.001 and 1000000, got 1e+300");
    EXPECT_EQ(native_rejection(std::string("{\"") + key + "\":0}"),
              std::string("config: native.") + key + ": must be a number between 0.001 and 1000000, got 0");
    EXPECT_EQ(native_rejection(std::string("{\"") + key + "\":true}"),
              std::string("config: native.") + key + ": expected a number, got boolean");
  }
}

TEST(AdapterConfig, AcceptsTheBoundsAndIntegralNumbers) {
  nat::NativeOptions lo = native_options(
      R"({"retries":0,"max_json_depth":2,"max_response_bytes":1024,"keepalive_idle_s":1,"retry_backoff_s":0,)"
      R"("connect_timeout_s":0.001,"request_timeout_s":0.001,"get_step_timeout_s":0.001,"prepare_timeout_s":0.001,)"
      R"("health_timeout_s":0.001})");
  EXPECT_EQ(lo.retries, 0);
  EXPECT_EQ(lo.max_json_depth, 2);
  EXPECT_EQ(lo.max_response_bytes, 1024u);
  EXPECT_DOUBLE_EQ(lo.keepalive_idle_s, 1);
  EXPECT_DOUBLE_EQ(lo.connect_timeout_s, 0.001);
  nat::NativeOptions hi = native_options(
      R"({"retries":20.0,"max_json_depth":1000,"max_response_bytes":1073741824,"keepalive_idle_s":32767,)"
      R"("retry_backoff_s":3600,"prepare_timeout_s":1e6})");
  EXPECT_EQ(hi.retries, 20);
  EXPECT_EQ(hi.max_json_depth, 1000);
  EXPECT_EQ(hi.max_response_bytes, size_t{1} << 30);
  EXPECT_DOUBLE_EQ(hi.keepalive_idle_s, 32767);
  EXPECT_DOUBLE_EQ(hi.retry_backoff_s, 3600);
  EXPECT_DOUBLE_EQ(hi.prepare_timeout_s, 1e6);
  nat::NativeOptions d = native_options("{}");
  EXPECT_EQ(d.retries, 3);
  EXPECT_EQ(d.max_json_depth, 128);
  EXPECT_EQ(d.max_response_bytes, size_t{16} << 20);
  EXPECT_DOUBLE_EQ(d.keepalive_idle_s, 30);
}

TEST(AdapterConfig, SchemaStatesTheSameRanges) {
  json n = json::parse(nat::adapter_config_schema())["properties"]["native"]["properties"];
  using O = nat::NativeOptions;
  EXPECT_EQ(n["retries"]["maximum"], O::kMaxRetries);
  EXPECT_EQ(n["max_json_depth"]["minimum"], O::kMinJsonDepth);
  EXPECT_EQ(n["max_json_depth"]["maximum"], O::kMaxJsonDepth);
  EXPECT_EQ(n["max_response_bytes"]["minimum"], O::kMinResponseBytes);
  EXPECT_EQ(n["max_response_bytes"]["maximum"], O::kMaxResponseBytes);
  EXPECT_EQ(n["keepalive_idle_s"]["maximum"].get<double>(), O::kMaxKeepaliveIdleS);
  EXPECT_EQ(n["retry_backoff_s"]["maximum"].get<double>(), O::kMaxRetryBackoffS);
  for (const char *key : {"connect_timeout_s", "request_timeout_s", "get_step_timeout_s", "prepare_timeout_s",
                          "health_timeout_s"}) {
    EXPECT_EQ(n[key]["minimum"].get<double>(), O::kMinTimeoutS) << key;
    EXPECT_EQ(n[key]["maximum"].get<double>(), O::kMaxTimeoutS) << key;
  }
}

TEST(AdapterConfig, BackendIpIsAHostNameOrAnAddress) {
  auto with_ip = [](const std::string &ip_json) {
    return R"({"backend":{"port":7623,"ip":)" + ip_json + "}}";
  };
  for (const char *ok : {"127.0.0.1", "10.0.0.5", "localhost", "art-server", "art-server.example.com",
                         "example.com.", "x1.y2", "art_server", "svc_1.internal", "[::1]", "::1",
                         "[2001:db8::7]", "2001:db8::7", "[::ffff:127.0.0.1]"}) {
    auto c = nat::parse_adapter_config(with_ip(json(ok).dump()), "");
    EXPECT_EQ(c.backend.ip, ok);
  }
  for (const std::string &bad : std::vector<std::string>{"127.0.0.1/evil?x=",
                                                         "127.0.0.1#",
                                                         "127.0.0.1#frag",
                                                         "127.0.0.1:8000",
                                                         "127.0.0.1?",
                                                         "user@127.0.0.1",
                                                         "http://127.0.0.1",
                                                         "127.0.0.1/",
                                                         "a b",
                                                         " localhost",
                                                         "localhost ",
                                                         "-art",
                                                         "art-",
                                                         "a..b",
                                                         ".",
                                                         "..",
                                                         "[::1",
                                                         "::1]",
                                                         "[localhost]",
                                                         "[::1]:80",
                                                         "[fe80::1%eth0]",
                                                         "fe80::1%25eth0",
                                                         "300.1.1.1",
                                                         "127.1",
                                                         "1.2.3.4.5",
                                                         "h\u00e9llo",
                                                         std::string(64, 'a') + ".com",
                                                         std::string(254, 'a'),
                                                         "\\\\evil",
                                                         "%41"}) {
    std::string message = rejection(with_ip(json(bad).dump()));
    EXPECT_EQ(message.rfind("config: backend.ip: ", 0), 0u) << bad << " -> " << message;
    if (bad.size() > 5) {
      EXPECT_EQ(message.find(bad), std::string::npos) << "the value is quoted: " << message;
    }
  }
  // Control characters and an embedded NUL (JSON's \u0000 escape).
  for (const char *bad : {R"("127.0.0.1\u0000.evil")", R"("127.0.0.1\r\nHost: evil")", R"("local\thost")",
                          R"("localhost\u007f")"}) {
    std::string message = rejection(with_ip(bad));
    EXPECT_EQ(message.rfind("config: backend.ip: contains a control character", 0), 0u) << message;
    EXPECT_EQ(message.find("evil"), std::string::npos) << message;
  }
  EXPECT_EQ(rejection(with_ip(R"("")")), "config: backend.ip: must not be empty");
  EXPECT_EQ(rejection(with_ip("7")), "config: backend.ip: expected a string, got number");
}

TEST(AdapterConfig, RefusesControlCharactersInHeaderAndUrlValues) {
  // Each C0 control and DEL, at the start, inside and at the end of the key.
  for (int c = 0; c < 0x20 || c == 0x7f; c = (c == 0x1f ? 0x7f : c + 1)) {
    char escape[8];
    std::snprintf(escape, sizeof escape, "\\u%04x", c);
    for (const std::string &key :
         {std::string(escape) + "secret-key-1234", "secret-" + std::string(escape) + "key-1234",
          "secret-key-1234" + std::string(escape)}) {
      std::string message = rejection(R"({"backend":{"ip":"h","port":1,"api_key":")" + key + R"("}})");
      EXPECT_EQ(message.rfind("config: backend.api_key: contains a control character (byte 0x", 0), 0u)
          << message;
      EXPECT_NE(message.find("HTTP header"), std::string::npos) << message;
      EXPECT_EQ(message.find("secret"), std::string::npos) << "the key is quoted: " << message;
      EXPECT_EQ(message.find("1234"), std::string::npos) << "the key is quoted: " << message;
    }
    if (c == 0x7f) break;
  }
  EXPECT_EQ(nat::parse_adapter_config(
                R"({"backend":{"ip":"h","port":1,"api_key":"sk-with spaces and \u00e9"}})", "")
                .backend.api_key,
            "sk-with spaces and \u00e9");
  struct Case {
    const char *config;
    const char *key;
  } cases[] = {
      {R"({"backend":{"ip":"h","port":1},"native":{"inference_base_url":"http://h:8000/v1\r\nX-Evil: 1"}})",
       "native.inference_base_url"},
      {R"({"backend":{"ip":"h","port":1},"native":{"inference_base_url":"http://h:8000/v1\u0000.evil"}})",
       "native.inference_base_url"},
      {R"({"backend":{"ip":"h","port":1,"server_config":{"server_args":{"api_key":"k\nX-Evil: 1"}}}})",
       "backend.server_config.server_args.api_key"},
      {R"({"backend":{"ip":"h","port":1},"native":{"ca_path":"/etc/ca.pem\u0000.evil"}})", "native.ca_path"},
  };
  for (const Case &c : cases) {
    std::string message = rejection(c.config);
    EXPECT_EQ(message.rfind(std::string("config: ") + c.key + ": contains a control character", 0), 0u)
        << message;
    EXPECT_EQ(message.find("Evil"), std::string::npos) << message;
    EXPECT_EQ(message.find("evil"), std::string::npos) << message;
  }
  EXPECT_EQ(
      rejection(R"({"backend":{"ip":"h","port":1},"native":{"inference_base_url":"http://h:8000/v 1"}})"),
      "config: native.inference_base_url: contains a space; a URL has none (write it as %20)");
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"native":{"spool_dir":"/tmp/sp\u0000ool"}})"),
            "config: native.spool_dir: contains a NUL byte at offset 7 (a path cannot hold one)");
}

TEST(AdapterConfig, RefusesDuplicateKeysNamingTheirPath) {
  const std::string tail =
      " (a key may appear once in a mapping; JSON parsers disagree on which value would win)";
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"backend":{"ip":"h","port":2}})"),
            "config: backend: duplicate key" + tail);
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1,"ip":"evil"}})"),
            "config: backend.ip: duplicate key" + tail);
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"native":{"retries":1,"retries":2}})"),
            "config: native.retries: duplicate key" + tail);
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1},"training":{"x":[1,{"a":1,"b":{"c":1,"c":1}}]}})"),
            "config: training.x[1].b.c: duplicate key" + tail);
  // Escapes decode before comparing: "\u0069p" is "ip".
  EXPECT_EQ(rejection(R"({"backend":{"ip":"h","port":1,"\u0069p":"h"}})"),
            "config: backend.ip: duplicate key" + tail);
  // The same key in separate objects is fine.
  auto c = nat::parse_adapter_config(
      R"({"backend":{"ip":"h","port":1,"init_args":{"ip":1}},"training":{"port":2}})", "");
  EXPECT_EQ(c.backend.port, 1);
}
