#include "configuration/config_document.hpp"

#include <gtest/gtest.h>

#include "configuration/config_error.hpp"
#include "files/text_file.hpp"
#include "test_fixtures.hpp"

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
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("adapter.json: invalid JSON: ", 0), 0u) << message;
    EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
  }
}

TEST(ConfigDocument, JsonTextInAYamlFileIsReadToo) {
  const nlohmann::json config =
      parse_config_document(R"({"_type": "x", "training": {"learning_rate": 1e-5}, "name": "n"})", "config.yml");
  EXPECT_DOUBLE_EQ(config["training"]["learning_rate"].get<double>(), 1e-5);
  EXPECT_EQ(config["name"], "n");
}

TEST(ConfigDocument, MissingFileIsAFileErrorNamingIt) {
  try {
    read_config_document("/nonexistent/config.yml");
    FAIL() << "expected FileError";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/config.yml"), std::string::npos);
  }
}

}  // namespace
}  // namespace nat::host
