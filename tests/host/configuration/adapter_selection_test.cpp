#include "configuration/adapter_selection.h"

#include <gtest/gtest.h>

#include "configuration/config_document.h"
#include "configuration/config_error.h"
#include "test_fixtures.h"

namespace nat::host {
namespace {

using nlohmann::json;

std::string selection_error(const json &document, const std::optional<std::string> &entry = std::nullopt) {
  try {
    select_adapter(document, "config.yml", entry);
  } catch (const ConfigError &e) {
    return e.what();
  }
  return "no error";
}

const json kTwoAdapters = json::parse(R"({
  "trainer_adapters": {
    "art": {"_type": "openpipe_art_trainer_adapter", "backend": {"ip": "localhost", "port": 7623}},
    "export": {"_type": "jsonl_export_trainer_adapter", "output_dir": "out"}
  },
  "finetuning": {"trainer_adapter": "export", "num_epochs": 2}
})");

TEST(AdapterSelection, NatExampleConfigSelectsItsFinetuningAdapter) {
  const json config = read_config_document(testing::test_data("nat_example_config.yml"));
  const AdapterSelection selection = select_adapter(config, "config.yml", std::nullopt);
  EXPECT_EQ(selection.type, "openpipe_art_trainer_adapter");
  EXPECT_EQ(selection.entry, "openpipe_trainer_adapter");
  EXPECT_EQ(selection.origin, "config.yml: trainer_adapters.openpipe_trainer_adapter");
  EXPECT_EQ(selection.adapter_config["backend"]["port"], 7623);
  EXPECT_EQ(selection.finetuning["num_epochs"], 8);
  EXPECT_EQ(selection.finetuning["trainer_adapter"], "openpipe_trainer_adapter");
}

TEST(AdapterSelection, AdapterOptionWinsOverFinetuningTrainerAdapter) {
  const AdapterSelection selection = select_adapter(kTwoAdapters, "config.yml", std::string("art"));
  EXPECT_EQ(selection.entry, "art");
  EXPECT_EQ(selection.type, "openpipe_art_trainer_adapter");
  EXPECT_EQ(selection.finetuning["num_epochs"], 2);
}

TEST(AdapterSelection, FinetuningTrainerAdapterIsTheDefault) {
  const AdapterSelection selection = select_adapter(kTwoAdapters, "config.yml", std::nullopt);
  EXPECT_EQ(selection.entry, "export");
  EXPECT_EQ(selection.adapter_config,
            json::parse(R"({"_type": "jsonl_export_trainer_adapter", "output_dir": "out"})"));
}

TEST(AdapterSelection, TheOnlyEntryIsTheDefaultWithoutFinetuning) {
  const json config = json::parse(R"({"trainer_adapters": {"only": {"_type": "t"}}})");
  const AdapterSelection selection = select_adapter(config, "config.yml", std::nullopt);
  EXPECT_EQ(selection.entry, "only");
  EXPECT_EQ(selection.finetuning, json::object());
}

TEST(AdapterSelection, SeveralEntriesWithoutAChoiceIsAnErrorListingThem) {
  json config = kTwoAdapters;
  config.erase("finetuning");
  const std::string message = selection_error(config);
  EXPECT_NE(message.find("several entries (art, export)"), std::string::npos) << message;
  EXPECT_NE(message.find("--adapter"), std::string::npos) << message;
}

TEST(AdapterSelection, UnknownAdapterOptionListsTheEntries) {
  const std::string message = selection_error(kTwoAdapters, std::string("nope"));
  EXPECT_NE(message.find("--adapter nope"), std::string::npos) << message;
  EXPECT_NE(message.find("has: art, export"), std::string::npos) << message;
}

TEST(AdapterSelection, DanglingFinetuningTrainerAdapterIsAnError) {
  json config = kTwoAdapters;
  config["finetuning"]["trainer_adapter"] = "gone";
  const std::string message = selection_error(config);
  EXPECT_NE(message.find("finetuning.trainer_adapter names \"gone\""), std::string::npos) << message;
}

TEST(AdapterSelection, TypeAliasBecomesUnderscoreType) {
  const json config = json::parse(R"({"trainer_adapters": {"a": {"type": "t", "x": 1}}})");
  const AdapterSelection selection = select_adapter(config, "config.yml", std::nullopt);
  EXPECT_EQ(selection.type, "t");
  EXPECT_EQ(selection.adapter_config, json::parse(R"({"_type": "t", "x": 1})"));
}

TEST(AdapterSelection, ConflictingTypeAndAliasIsAnError) {
  const json config = json::parse(R"({"trainer_adapters": {"a": {"type": "t", "_type": "u"}}})");
  EXPECT_NE(selection_error(config).find("disagree"), std::string::npos);
}

TEST(AdapterSelection, MissingTypeNamesTheEntry) {
  const json config = json::parse(R"({"trainer_adapters": {"a": {"backend": {}}}})");
  const std::string message = selection_error(config);
  EXPECT_NE(message.find("config.yml: trainer_adapters.a: missing _type"), std::string::npos) << message;
}

TEST(AdapterSelection, NonStringTypeIsAnError) {
  const json config = json::parse(R"({"trainer_adapters": {"a": {"_type": 3}}})");
  EXPECT_NE(selection_error(config).find("trainer_adapters.a._type"), std::string::npos);
}

TEST(AdapterSelection, SingleAdapterConfigIsUsedDirectly) {
  const json config = json::parse(R"({"_type": "jsonl_export_trainer_adapter", "output_dir": "out"})");
  const AdapterSelection selection = select_adapter(config, "adapter.json", std::nullopt);
  EXPECT_EQ(selection.type, "jsonl_export_trainer_adapter");
  EXPECT_TRUE(selection.entry.empty());
  EXPECT_EQ(selection.origin, "adapter.json");
  EXPECT_EQ(selection.finetuning, json::object());
}

TEST(AdapterSelection, SingleAdapterConfigTakesNoAdapterOption) {
  const json config = json::parse(R"({"_type": "t"})");
  EXPECT_NE(selection_error(config, std::string("a")).find("single adapter config"), std::string::npos);
}

TEST(AdapterSelection, NeitherShapeIsAnError) {
  EXPECT_NE(selection_error(json::parse(R"({"llms": {}})")).find("neither a NAT config"), std::string::npos);
  EXPECT_NE(selection_error(json::array()).find("expected a mapping"), std::string::npos);
  EXPECT_NE(selection_error(json(nullptr)).find("expected a mapping"), std::string::npos);
}

TEST(AdapterSelection, MalformedSectionsAreErrors) {
  EXPECT_NE(selection_error(json::parse(R"({"trainer_adapters": []})")).find("non-empty mapping"),
            std::string::npos);
  EXPECT_NE(selection_error(json::parse(R"({"trainer_adapters": {}})")).find("non-empty mapping"),
            std::string::npos);
  EXPECT_NE(selection_error(json::parse(R"({"trainer_adapters": {"a": {"_type": "t"}}, "finetuning": 3})"))
                .find("finetuning: must be a mapping"),
            std::string::npos);
  EXPECT_NE(selection_error(json::parse(R"({"trainer_adapters": {"a": "t"}})")).find("must be a mapping"),
            std::string::npos);
}

TEST(AdapterSelection, NullFinetuningIsEmpty) {
  const json config = json::parse(R"({"trainer_adapters": {"a": {"_type": "t"}}, "finetuning": null})");
  EXPECT_EQ(select_adapter(config, "c.yml", std::nullopt).finetuning, json::object());
}

}  // namespace
}  // namespace nat::host
