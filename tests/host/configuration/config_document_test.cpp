#include "configuration/config_document.h"

#include <gtest/gtest.h>

#include "configuration/config_error.h"
#include "files/text_file.h"
#include "test_fixtures.h"

namespace nat::host {
namespace {

TEST(ConfigDocument, YamlFileIsReadAsYaml) {
  const nlohmann::json config = read_config_document(testing::test_data("nat_example_config.yml"));
  EXPECT_EQ(config["finetuning"]["num_epochs"], 8);
}

TEST(ConfigDocument, JsonExtensionMeansStrictJson) {
  EXPECT_EQ(parse_config_document(R"({"_type": "x", "port": 1})", "adapter.json")["port"], 1);
  try {
    parse_config_document("{_type: x}", "adapter.json");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError &e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("adapter.json: invalid JSON: ", 0), 0u) << message;
    EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
  }
}

std::string json_config_error(const std::string &text) {
  try {
    parse_config_document(text, "adapter.json");
  } catch (const ConfigError &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConfigError for " << text;
  return "";
}

TEST(ConfigDocument, JsonErrorsDoNotQuoteTheTextTheParserStoppedIn) {
  const std::string secret = "sk-live-0123456789abcdef";
  // An invalid escape, a control character, an unterminated string, a token
  // that looks like the end of nlohmann's message, a broken literal.
  const std::string head = R"({"_type": "x", "api_key": ")";
  for (const std::string &text :
       {head + secret + R"(\x"})", head + secret + "\x01\"}", head + secret + "}",
        head + secret + "'; expected '['\x02\"}", R"({"api_key": tru)" + secret + "}"}) {
    const std::string message = json_config_error(text);
    EXPECT_EQ(message.rfind("adapter.json: invalid JSON: ", 0), 0u) << message;
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
    EXPECT_EQ(message.find("sk-live"), std::string::npos) << message;
    EXPECT_EQ(message.find("last read"), std::string::npos) << message;
    EXPECT_NE(message.find("line 1, column "), std::string::npos) << message;
  }
}

TEST(ConfigDocument, JsonErrorsKeepWhatWasExpected) {
  // "unexpected" errors quote no text and stay whole.
  EXPECT_NE(json_config_error(R"({"a" 1})").find("unexpected number literal; expected ':'"),
            std::string::npos)
      << json_config_error(R"({"a" 1})");
  // After a lexer error the expected token survives the quote's removal.
  const std::string message = json_config_error("{\"a\" \"sk-live-0123456789abcdef\x01\": 1}");
  EXPECT_NE(message.find("control character"), std::string::npos) << message;
  EXPECT_NE(message.find("; expected ':'"), std::string::npos) << message;
  EXPECT_EQ(message.find("sk-live"), std::string::npos) << message;
}

TEST(ConfigDocument, JsonTextInAYamlFileIsReadToo) {
  const nlohmann::json config = parse_config_document(
      R"({"_type": "x", "training": {"learning_rate": 1e-5}, "name": "n"})", "config.yml");
  EXPECT_DOUBLE_EQ(config["training"]["learning_rate"].get<double>(), 1e-5);
  EXPECT_EQ(config["name"], "n");
}

TEST(ConfigDocument, MissingFileIsAFileErrorNamingIt) {
  try {
    read_config_document("/nonexistent/config.yml");
    FAIL() << "expected FileError";
  } catch (const FileError &e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/config.yml"), std::string::npos);
  }
}

TEST(ConfigDocument, JsonDuplicateKeysAreRefusedNamingTheKeyPath) {
  const std::string secret = "sk-live-0123456789abcdef";
  EXPECT_EQ(json_config_error(R"({"_type": "x", "_type": "y"})"),
            "adapter.json: _type: duplicate key (a key may appear once in a mapping)");
  EXPECT_EQ(json_config_error(R"({"backend": {"api_key": "a", "api_key": ")" + secret + R"("}})"),
            "adapter.json: backend.api_key: duplicate key (a key may appear once in a mapping)");
  EXPECT_EQ(json_config_error(R"({"a": [1, {"b": 1}, [{"c": 1, "c": 1}]]})"),
            "adapter.json: a[2][0].c: duplicate key (a key may appear once in a mapping)");
  // The same key in separate objects is fine.
  const nlohmann::json config =
      parse_config_document(R"({"a": {"k": 1}, "b": [{"k": 2}, {"k": 3}], "k": 4})", "adapter.json");
  EXPECT_EQ(config["b"][1]["k"], 3);
}

}  // namespace
}  // namespace nat::host
