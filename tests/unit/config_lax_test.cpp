// Numbers and booleans in configs as NAT's pydantic models read them (lax
// mode): PyYAML gives NAT `1e-5` as the string "1e-5", and NAT's models
// accept it as a float. The expected verdicts are in config_lax_table.json,
// which config_lax_table_check.py checks against pydantic itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "base/error.h"
#include "config/adapter_config.h"
#include "export/jsonl_export_adapter.h"
#include "nat/lax_number.h"

using nlohmann::json;

namespace {

json load_table() {
  const char *path = std::getenv("NAT_CONFIG_LAX_TABLE");
  if (path == nullptr) {
    ADD_FAILURE() << "NAT_CONFIG_LAX_TABLE is not set";
    return json::parse(R"({"agrees":{"float":[],"int":[],"bool":[]},"stricter":{"float":[],"int":[]}})");
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

const json &table() {
  static const json t = load_table();
  return t;
}

// The table's "out" as a double: a number, or "inf" / "-inf" / "nan".
double expected_double(const json &out) {
  if (out == "inf") return HUGE_VAL;
  if (out == "-inf") return -HUGE_VAL;
  if (out == "nan") return std::nan("");
  return out.get<double>();
}

bool same_double(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

std::string art_config(const std::string &backend_extra, const std::string &rest = "") {
  return R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"127.0.0.1")" + backend_extra + "}" +
         rest + "}";
}

}  // namespace

TEST(LaxNumbers, TableHasEveryKind) {
  for (const char *kind : {"float", "int", "bool"}) EXPECT_GT(table()["agrees"][kind].size(), 20u) << kind;
}

TEST(LaxNumbers, FloatFieldsAgreeWithPydantic) {
  for (const auto &row : table()["agrees"]["float"]) {
    auto got = nat::lax_float(row["in"]);
    if (row["out"] == "refused") {
      EXPECT_FALSE(got.has_value()) << row["in"].dump();
    } else {
      ASSERT_TRUE(got.has_value()) << row["in"].dump();
      EXPECT_TRUE(same_double(*got, expected_double(row["out"]))) << row["in"].dump() << " -> " << *got;
    }
  }
}

TEST(LaxNumbers, IntFieldsAgreeWithPydantic) {
  for (const auto &row : table()["agrees"]["int"]) {
    auto got = nat::lax_integer(row["in"]);
    if (row["out"] == "refused") {
      EXPECT_FALSE(got.has_value()) << row["in"].dump();
    } else {
      ASSERT_TRUE(got.has_value()) << row["in"].dump();
      EXPECT_EQ(*got, row["out"].get<double>()) << row["in"].dump();
    }
  }
}

TEST(LaxNumbers, BoolFieldsAgreeWithPydantic) {
  for (const auto &row : table()["agrees"]["bool"]) {
    auto got = nat::lax_bool(row["in"]);
    if (row["out"] == "refused") {
      EXPECT_FALSE(got.has_value()) << row["in"].dump();
    } else {
      ASSERT_TRUE(got.has_value()) << row["in"].dump();
      EXPECT_EQ(*got, row["out"].get<bool>()) << row["in"].dump();
    }
  }
}

TEST(LaxNumbers, StricterCornersAreRefused) {
  for (const auto &row : table()["stricter"]["float"])
    EXPECT_FALSE(nat::lax_float(row["in"])) << row["in"].dump();
  for (const auto &row : table()["stricter"]["int"])
    EXPECT_FALSE(nat::lax_integer(row["in"])) << row["in"].dump();
}

// The same verdicts through the ART plugin's config parser: a float field
// (training.learning_rate, which must also be finite), an int field
// (backend.port, 1 to 65535) and a bool field (backend.delete_old_checkpoints).
TEST(LaxNumbers, TheArtConfigReadsFieldsAsPydanticDoes) {
  for (const auto &row : table()["agrees"]["float"]) {
    std::string text =
        art_config(R"(,"port":1)", R"(,"training":{"learning_rate":)" + row["in"].dump() + "}");
    bool finite = row["out"] != "refused" && std::isfinite(expected_double(row["out"]));
    if (finite) {
      auto c = nat::parse_adapter_config(text, "openpipe_art_trainer_adapter");
      EXPECT_EQ(c.learning_rate(), expected_double(row["out"])) << text;
      // Stored as the number: the server gets what NAT would send.
      EXPECT_TRUE(c.training["learning_rate"].is_number()) << text;
    } else {
      try {
        nat::parse_adapter_config(text, "openpipe_art_trainer_adapter");
        ADD_FAILURE() << "accepted: " << text;
      } catch (const nat::Error &e) {
        EXPECT_EQ(e.code(), nat::ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("config: training.learning_rate: expected a finite number"),
                  std::string::npos)
            << e.what();
      }
    }
  }
  for (const auto &row : table()["agrees"]["int"]) {
    std::string text = art_config(R"(,"port":)" + row["in"].dump());
    bool valid = row["out"] != "refused" && row["out"].get<double>() >= 1;
    if (valid) {
      EXPECT_EQ(nat::parse_adapter_config(text, "").backend.port, row["out"].get<int>()) << text;
    } else {
      try {
        nat::parse_adapter_config(text, "");
        ADD_FAILURE() << "accepted: " << text;
      } catch (const nat::Error &e) {
        EXPECT_NE(std::string(e.what()).find("config: backend.port: "), std::string::npos) << e.what();
      }
    }
  }
  for (const auto &row : table()["agrees"]["bool"]) {
    std::string text = art_config(R"(,"port":1,"delete_old_checkpoints":)" + row["in"].dump());
    if (row["out"] != "refused") {
      EXPECT_EQ(nat::parse_adapter_config(text, "").backend.delete_old_checkpoints, row["out"].get<bool>())
          << text;
    } else {
      try {
        nat::parse_adapter_config(text, "");
        ADD_FAILURE() << "accepted: " << text;
      } catch (const nat::Error &e) {
        EXPECT_NE(std::string(e.what()).find("config: backend.delete_old_checkpoints: expected a boolean"),
                  std::string::npos)
            << e.what();
      }
    }
  }
}

TEST(LaxNumbers, NativeOptionsFollowTheSameRules) {
  auto c = nat::parse_adapter_config(
      art_config(R"(,"port":"7623")",
                 R"(,"native":{"retries":"5","retry_backoff_s":"1e-1","health_timeout_s":" 2 ",)"
                 R"("max_json_depth":"64.0","spool":"no","insecure_skip_tls_verify":"false"})"),
      "");
  EXPECT_EQ(c.backend.port, 7623);
  EXPECT_EQ(c.native.retries, 5);
  EXPECT_DOUBLE_EQ(c.native.retry_backoff_s, 0.1);
  EXPECT_DOUBLE_EQ(c.native.health_timeout_s, 2.0);
  EXPECT_EQ(c.native.max_json_depth, 64);
  EXPECT_FALSE(c.native.spool);
  // Out of range as a string: refused, the range named, the string not quoted.
  try {
    nat::parse_adapter_config(art_config(R"(,"port":1)", R"(,"native":{"retries":"99"})"), "");
    ADD_FAILURE() << "accepted";
  } catch (const nat::Error &e) {
    EXPECT_STREQ(
        e.what(),
        "config: native.retries: must be an integer between 0 and 20, got a numeric string out of range");
  }
  // The JSONL export plugin reads its integer option the same way.
  EXPECT_EQ(nat::parse_export_config(R"({"native":{"max_json_depth":"64"}})").max_json_depth, 64);
  EXPECT_EQ(nat::parse_export_config(R"({"native":{"max_json_depth":64.0}})").max_json_depth, 64);
  EXPECT_THROW(nat::parse_export_config(R"({"native":{"max_json_depth":"64.5"}})"), nat::Error);
  EXPECT_THROW(nat::parse_export_config(R"({"native":{"max_json_depth":"1e3"}})"), nat::Error);
}
