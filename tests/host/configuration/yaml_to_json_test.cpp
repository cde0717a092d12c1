#include "configuration/yaml_to_json.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "configuration/config_error.h"
#include "test_fixtures.h"

namespace nat::host {
namespace {

using nlohmann::json;

json yaml(const std::string &text) { return parse_yaml_document(text, "test.yml"); }

TEST(YamlToJson, NatExampleConfigBecomesTypedJson) {
  const json config = parse_yaml_document(testing::test_data_text("nat_example_config.yml"), "config.yml");

  const json &adapter = config["trainer_adapters"]["openpipe_trainer_adapter"];
  EXPECT_EQ(adapter["_type"], "openpipe_art_trainer_adapter");
  EXPECT_EQ(adapter["backend"], json::parse(R"({
      "ip": "0.0.0.0", "port": 7623, "name": "tic_tac_toe_training_run",
      "project": "tic_tac_toe_project", "base_model": "Qwen/Qwen2.5-3B-Instruct", "api_key": "default",
      "init_args": {"max_seq_length": 8192},
      "engine_args": {"gpu_memory_utilization": 0.9, "tensor_parallel_size": 1, "max_logprobs": 5}})"));
  EXPECT_TRUE(adapter["backend"]["port"].is_number_integer());
  EXPECT_TRUE(adapter["training"]["learning_rate"].is_number_float());
  EXPECT_DOUBLE_EQ(adapter["training"]["learning_rate"].get<double>(), 1e-5);
  EXPECT_DOUBLE_EQ(adapter["training"]["beta"].get<double>(), 0.1);

  EXPECT_EQ(config["finetuning"], json::parse(R"({
      "enabled": true, "trainer": "openpipe_trainer", "trajectory_builder": "openpipe_traj_builder",
      "trainer_adapter": "openpipe_trainer_adapter", "reward_function": {"name": "rl_accuracy"},
      "num_epochs": 8, "output_dir": "./.tmp/nat/finetuning/tic_tac_toe"})"));

  const json &llm = config["llms"]["openpipe_llm"];
  EXPECT_EQ(llm["logprobs"], true);
  EXPECT_EQ(llm["top_logprobs"], 1);
  EXPECT_DOUBLE_EQ(llm["temperature"].get<double>(), 0.4);
  EXPECT_EQ(llm["base_url"], "http://localhost:8000/v1");
  EXPECT_EQ(config["workflow"]["max_parser_retries"], 2);
  EXPECT_EQ(config["eval"]["general"]["output_dir"], ".tmp/nat/examples/rl_openpipe/eval/finetune");
}

TEST(YamlToJson, PlainScalarsFollowTheCoreSchema) {
  const json value = yaml(R"(
null_word: null
null_title: Null
null_caps: NULL
tilde: ~
empty:
true_word: true
false_title: False
true_caps: TRUE
int: 42
negative: -17
plus: +5
octal: 0o17
hex: 0x1F
float: 0.4
exponent: 1e-5
leading_dot: .5
trailing_dot: 1.
signed_exponent: -2.5E+3
big: 18446744073709551615
)");
  for (const char *key : {"null_word", "null_title", "null_caps", "tilde", "empty"}) {
    EXPECT_TRUE(value[key].is_null()) << key;
  }
  EXPECT_EQ(value["true_word"], true);
  EXPECT_EQ(value["false_title"], false);
  EXPECT_EQ(value["true_caps"], true);
  EXPECT_EQ(value["int"], 42);
  EXPECT_TRUE(value["int"].is_number_integer());
  EXPECT_EQ(value["negative"], -17);
  EXPECT_EQ(value["plus"], 5);
  EXPECT_EQ(value["octal"], 15);
  EXPECT_EQ(value["hex"], 31);
  EXPECT_DOUBLE_EQ(value["float"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(value["exponent"].get<double>(), 1e-5);
  EXPECT_DOUBLE_EQ(value["leading_dot"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(value["trailing_dot"].get<double>(), 1.0);
  EXPECT_TRUE(value["trailing_dot"].is_number_float());
  EXPECT_DOUBLE_EQ(value["signed_exponent"].get<double>(), -2500.0);
  EXPECT_EQ(value["big"].get<std::uint64_t>(), 18446744073709551615ull);
}

TEST(YamlToJson, YamlOneOneWordsAndLookalikesStayStrings) {
  const json value = yaml(R"(
dot: .
sign: "-"
no_exponent_digits: 1e
double_sign: +-1
octal_digits: 0o8

yes: yes
no: no
on: on
underscored: 1_000
sexagesimal: 1:20
version: 1.2.3
hex_caps: 0X1F
ip: 0.0.0.0
truthy: True!
)");
  EXPECT_EQ(value["dot"], ".");
  EXPECT_EQ(value["no_exponent_digits"], "1e");
  EXPECT_EQ(value["double_sign"], "+-1");
  EXPECT_EQ(value["octal_digits"], "0o8");
  EXPECT_EQ(value["yes"], "yes");
  EXPECT_EQ(value["no"], "no");
  EXPECT_EQ(value["on"], "on");
  EXPECT_EQ(value["underscored"], "1_000");
  EXPECT_EQ(value["sexagesimal"], "1:20");
  EXPECT_EQ(value["version"], "1.2.3");
  EXPECT_EQ(value["hex_caps"], "0X1F");
  EXPECT_EQ(value["ip"], "0.0.0.0");
  EXPECT_EQ(value["truthy"], "True!");
}

TEST(YamlToJson, QuotedBlockAndStrTaggedScalarsStayStrings) {
  const json value = yaml(R"(
single: '7623'
double: "true"
null_text: "null"
empty_text: ''
literal: |
  line one
folded: >
  folded text
tagged: !!str 12
custom: !secret 12
)");
  EXPECT_EQ(value["single"], "7623");
  EXPECT_EQ(value["double"], "true");
  EXPECT_EQ(value["null_text"], "null");
  EXPECT_EQ(value["empty_text"], "");
  EXPECT_EQ(value["literal"], "line one\n");
  EXPECT_EQ(value["folded"], "folded text\n");
  EXPECT_EQ(value["tagged"], "12");
  EXPECT_EQ(value["custom"], "12");
}

TEST(YamlToJson, CoreTagsForceTheirType) {
  const json value = yaml("a: !!float 3\nb: !!int '12'\nc: !!bool true\n");
  EXPECT_TRUE(value["a"].is_number_float());
  EXPECT_DOUBLE_EQ(value["a"].get<double>(), 3.0);
  EXPECT_EQ(value["b"], 12);
  EXPECT_EQ(value["c"], true);
  EXPECT_THROW(yaml("a: !!int abc\n"), ConfigError);
}

TEST(YamlToJson, SequencesAnchorsAndMergeKeys) {
  const json value = yaml(R"(
defaults: &defaults {port: 7623, ip: localhost}
backend:
  <<: *defaults
  ip: 10.0.0.1
list: [1, two, 3.5, [true]]
alias: *defaults
)");
  EXPECT_EQ(value["backend"], json::parse(R"({"port": 7623, "ip": "10.0.0.1"})"));
  EXPECT_EQ(value["list"], json::parse(R"([1, "two", 3.5, [true]])"));
  EXPECT_EQ(value["alias"], json::parse(R"({"port": 7623, "ip": "localhost"})"));
}

TEST(YamlToJson, EmptyDocumentIsNull) { EXPECT_TRUE(yaml("").is_null()); }

TEST(YamlToJson, InfinityNamesFileKeyAndLine) {
  try {
    yaml("training:\n  learning_rate: .inf\n");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError &e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("test.yml:2:"), std::string::npos) << message;
    EXPECT_NE(message.find("training.learning_rate"), std::string::npos) << message;
    EXPECT_NE(message.find("cannot be represented in JSON"), std::string::npos) << message;
  }
}

TEST(YamlToJson, ScalarErrorsNameTheKeyNotTheValue) {
  const std::string secret = "sk-live-0123456789abcdef";
  struct Case {
    std::string text;
    std::string expected;
  };
  for (const Case &c :
       {Case{"backend:\n  api_key: !!int " + secret + "\n",
             "test.yml:2:12: backend.api_key: the value is not a valid !!int"},
        Case{"backend:\n  port: !!float " + secret + "\n",
             "test.yml:2:9: backend.port: the value is not a valid !!float"},
        Case{"list: [1, !!bool " + secret + "]\n", "list[1]: the value is not a valid !!bool"},
        Case{"!!null " + secret + "\n", "test.yml:1:1: the top-level value: the value is not a valid !!null"},
        Case{"training:\n  beta: -.inf\n", "training.beta: infinity or NaN cannot be represented in JSON"},
        Case{".nan\n", "the top-level value: infinity or NaN cannot be represented in JSON"}}) {
    try {
      yaml(c.text);
      ADD_FAILURE() << "expected ConfigError for " << c.text;
    } catch (const ConfigError &e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(c.expected), std::string::npos) << message;
      EXPECT_EQ(message.find(secret), std::string::npos) << message;
      EXPECT_EQ(message.find('\''), std::string::npos) << message;
    }
  }
}

TEST(YamlToJson, EveryInfinityAndNanSpellingIsRefused) {
  for (const char *scalar : {".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN"}) {
    EXPECT_FALSE(resolve_plain_scalar(scalar).has_value()) << scalar;
  }
  EXPECT_EQ(resolve_plain_scalar("-.nan"), nlohmann::json("-.nan"));
  EXPECT_DOUBLE_EQ(resolve_plain_scalar("+.5")->get<double>(), 0.5);
  EXPECT_EQ(resolve_plain_scalar("-"), nlohmann::json("-"));
  EXPECT_EQ(resolve_plain_scalar("+"), nlohmann::json("+"));
}

TEST(YamlToJson, SyntaxErrorNamesFileAndLine) {
  try {
    yaml("a: 1\nb: [unclosed\n");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError &e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("test.yml:", 0), 0u) << message;
    EXPECT_NE(message.find("invalid YAML"), std::string::npos) << message;
  }
}

TEST(YamlToJson, NonScalarKeysAreRefused) { EXPECT_THROW(yaml("? [a, b]\n: 1\n"), ConfigError); }

std::string yaml_error(const std::string &text) {
  try {
    yaml(text);
  } catch (const ConfigError &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConfigError for " << text;
  return "";
}

TEST(YamlToJson, SelfReferencingAliasesAreRefused) {
  struct Case {
    const char *text;
    const char *expected;
  };
  for (const Case &c : {
           Case{"cyc: &c [1, *c]\n",
                "test.yml:1:6: cyc[1]: an alias refers to a node that contains it (a cycle)"},
           Case{"cyc: &c {a: 1, b: *c}\n", "cyc.b: an alias refers to a node that contains it (a cycle)"},
           Case{"outer: &o\n  inner:\n    list: [1, [2, *o]]\n",
                "outer.inner.list[1][1]: an alias refers to a node that contains it (a cycle)"},
           Case{"&top [*top]\n", "[0]: an alias refers to a node that contains it (a cycle)"},
           // A merge key that merges the mapping into itself.
           Case{"m: &m\n  a: 1\n  <<: *m\n", "m.<<: an alias refers to a node that contains it (a cycle)"},
       }) {
    const std::string message = yaml_error(c.text);
    EXPECT_EQ(message.rfind("test.yml:", 0), 0u) << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.text << " -> " << message;
  }
  // An alias to a node elsewhere (not an ancestor) is no cycle, however often used.
  const json value = yaml("a: &a [1, 2]\nb: [*a, *a, {c: *a}]\n");
  EXPECT_EQ(value["b"], json::parse("[[1, 2], [1, 2], {\"c\": [1, 2]}]"));
}

// Nine levels of nine-fold aliases: 9^9 (387 million) values once expanded,
// from 700 bytes of YAML.
std::string alias_bomb(int levels, int fan_out, const std::string &leaf) {
  std::string text = "a0: &a0 [" + leaf + "]\n";
  for (int level = 1; level <= levels; ++level) {
    text += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < fan_out; ++i) text += (i ? ", *a" : "*a") + std::to_string(level - 1);
    text += "]\n";
  }
  return text;
}

TEST(YamlToJson, AliasBombsStopAtTheValueLimit) {
  const auto start = std::chrono::steady_clock::now();
  const std::string message = yaml_error(alias_bomb(9, 9, "lol"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(message.find("the document expands to more than 100000 values"), std::string::npos) << message;
  EXPECT_LT(seconds, 5.0);
  // Few values, long scalars: the byte limit.
  const std::string big(1 << 20, 'x');
  const std::string bytes = yaml_error(alias_bomb(3, 9, big));
  EXPECT_NE(bytes.find("the document expands to more than 16777216 bytes"), std::string::npos)
      << bytes.substr(0, 300);
  // The same shape, small enough, converts.
  const json small = yaml(alias_bomb(3, 4, "x"));
  EXPECT_EQ(small["a3"].size(), 4u);
  EXPECT_EQ(small["a3"][3][3][3], json::array({"x"}));
}

TEST(YamlToJson, NestingIsLimited) {
  const auto nested = [](std::size_t levels) {
    return std::string(levels, '[') + "1" + std::string(levels, ']') + "\n";
  };
  EXPECT_NO_THROW(yaml(nested(kMaxYamlDepth - 1)));
  const std::string message = yaml_error(nested(kMaxYamlDepth));
  EXPECT_NE(message.find("nested deeper than 64 levels"), std::string::npos) << message;
  // Deeper than the YAML parser itself takes: its own error, no crash.
  EXPECT_NE(yaml_error(nested(100000)).find("test.yml"), std::string::npos);
}

TEST(YamlToJson, DuplicateKeysAreRefusedNamingTheKeyPath) {
  const std::string secret = "sk-live-0123456789abcdef";
  struct Case {
    std::string text;
    std::string expected;
  };
  for (const Case &c :
       {Case{"backend:\n  ip: a\n  ip: " + secret + "\n", "test.yml:3:3: backend.ip: duplicate key"},
        Case{"a: 1\na: 2\n", "test.yml:2:1: a: duplicate key"},
        Case{"t:\n  x: [{k: 1, k: 2}]\n", "t.x[0].k: duplicate key"},
        Case{"{\"a\": 1, \"a\": 2}\n", "a: duplicate key"},
        // A quoted key and a plain one are the same key.
        Case{"a: 1\n'a': 2\n", "a: duplicate key"}}) {
    const std::string message = yaml_error(c.text);
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
  }
  // Merged keys may be overridden: that is what a merge is for.
  EXPECT_EQ(yaml("d: &d {a: 1, b: 2}\ne:\n  <<: *d\n  a: 3\n")["e"], json::parse(R"({"a": 3, "b": 2})"));
}

}  // namespace
}  // namespace nat::host
