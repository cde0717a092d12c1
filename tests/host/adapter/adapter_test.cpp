#include "adapter/adapter.h"

#include <gtest/gtest.h>

#include <fstream>

#include "adapter/adapter_error.h"
#include "test_fixtures.h"

namespace nat::host {
namespace {

using nlohmann::json;

std::shared_ptr<const PluginLibrary> minimal_plugin() {
  static const auto plugin = PluginLibrary::load(testing::fixture_library("nat_trainer_adapter_minimal"));
  return plugin;
}

const json kConfig = {{"_type", "minimal_trainer_adapter"}};

TEST(Adapter, DrivesAJobThroughTheAbi) {
  Adapter adapter(minimal_plugin(), kConfig);
  EXPECT_TRUE(adapter.is_healthy());
  adapter.initialize(json::object());
  const json ref = adapter.submit(testing::test_data_text("trajectories.json"));
  EXPECT_EQ(ref["run_id"], "art_run_1a2b3c4d");
  EXPECT_EQ(ref["backend"], "minimal");

  const json status = adapter.status(ref);
  EXPECT_EQ(status["status"], "completed");
  EXPECT_EQ(status["metadata"]["trajectories"], 2);
  EXPECT_EQ(adapter.wait_until_complete(ref, 0, 1), status);

  const auto started = adapter.next_event(ref, 0);
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ((*started)["type"], "started");
  const auto step = adapter.next_event(ref, 0);
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ((*step)["type"], "step");
  const auto completed = adapter.next_event(ref, 0);
  ASSERT_TRUE(completed.has_value());
  EXPECT_EQ((*completed)["final"], true);
  EXPECT_FALSE(adapter.next_event(ref, 0).has_value());

  adapter.cancel(ref);  // finished: a no-op
  EXPECT_EQ(adapter.jobs()["jobs"].size(), 1u);
}

TEST(Adapter, ConvertNeedsNoInitialize) {
  Adapter adapter(minimal_plugin(), kConfig);
  const json body = json::parse(adapter.convert(testing::test_data_text("trajectories.json")));
  EXPECT_EQ(body["groups"], 1);
}

TEST(Adapter, ResubmitIsRefusedWhenThePluginDoesNotExportIt) {
  // The minimal example predates nat_trainer_adapter_resubmit; it still
  // loads, and resubmit says what is missing (the ART plugin's resubmit runs
  // in art_reliability_test.py).
  Adapter adapter(minimal_plugin(), kConfig);
  EXPECT_FALSE(adapter.can_resubmit());
  try {
    adapter.resubmit("/nonexistent/spool.json");
    FAIL() << "expected AdapterError";
  } catch (const AdapterError &e) {
    EXPECT_EQ(e.code(), 4);  // FAILED_PRECONDITION
    EXPECT_NE(e.message().find("has no nat_trainer_adapter_resubmit"), std::string::npos) << e.message();
  }
  // Nor a spool listing.
  EXPECT_FALSE(adapter.can_list_spool());
  try {
    adapter.spooled(std::nullopt);
    FAIL() << "expected AdapterError";
  } catch (const AdapterError &e) {
    EXPECT_EQ(e.code(), 4);  // FAILED_PRECONDITION
    EXPECT_NE(e.message().find("has no nat_trainer_adapter_spooled"), std::string::npos) << e.message();
  }
}

TEST(Adapter, ResubmitCallsTheLoadedFunction) {
  // never_ending_adapter exports nat_trainer_adapter_resubmit: the loader's
  // slot is what Adapter calls.
  const auto plugin = PluginLibrary::load(testing::fixture_library("never_ending_adapter"));
  ASSERT_NE(plugin->functions().resubmit, nullptr);
  Adapter adapter(plugin, json{{"_type", "never_ending_adapter"}});
  EXPECT_TRUE(adapter.can_resubmit());
  testing::TemporaryDirectory directory;
  const std::filesystem::path spooled = directory.path() / "spooled.json";
  std::ofstream(spooled) << testing::test_data_text("trajectories.json");
  const json ref = adapter.resubmit(spooled);
  EXPECT_EQ(ref["run_id"], "art_run_1a2b3c4d");
  EXPECT_EQ(ref["backend"], "never");
  adapter.cancel(ref);
  try {
    adapter.resubmit(directory.path() / "missing.json");
    FAIL() << "expected AdapterError";
  } catch (const AdapterError &e) {
    EXPECT_EQ(e.code(), NAT_TRAINER_ADAPTER_NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("never_ending_adapter: resubmit: NOT_FOUND"), std::string::npos)
        << e.what();
  }
}

TEST(Adapter, ErrorsCarryCodeAndMessage) {
  Adapter adapter(minimal_plugin(), kConfig);
  try {
    adapter.submit(testing::test_data_text("trajectories.json"));
    FAIL() << "expected AdapterError";
  } catch (const AdapterError &e) {
    EXPECT_EQ(e.code(), NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
    EXPECT_EQ(e.message(), "submit before a successful initialize");
    EXPECT_EQ(std::string(e.what()),
              "minimal_trainer_adapter: submit: FAILED_PRECONDITION: submit before a successful initialize");
  }
  adapter.initialize(json::object());
  try {
    adapter.submit(R"({"run_id": "r", "trajectories": [[{"episode": []}]]})");
    FAIL() << "expected AdapterError";
  } catch (const AdapterError &e) {
    EXPECT_EQ(e.code(), NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
    EXPECT_EQ(e.message(), "trajectories[0][0]: reward must be a number");
  }
  try {
    adapter.status(json{{"run_id", "unknown"}});
    FAIL() << "expected AdapterError";
  } catch (const AdapterError &e) {
    EXPECT_EQ(e.code(), NAT_TRAINER_ADAPTER_NOT_FOUND);
  }
}

TEST(Adapter, CreateFailureIsAnAdapterError) {
  const auto plugin = PluginLibrary::load(testing::fixture_library("fixture_beta"));
  try {
    Adapter adapter(plugin, json::object());
    FAIL() << "expected AdapterError";
  } catch (const AdapterError &e) {
    EXPECT_EQ(e.code(), NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
    EXPECT_EQ(e.message(), "fixture fixture_beta refuses every config");
  }
  try {
    Adapter adapter(minimal_plugin(), json{{"_type", "other"}});
    FAIL() << "expected AdapterError";
  } catch (const AdapterError &e) {
    EXPECT_EQ(e.code(), NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  }
}

TEST(Adapter, LogProgressAppendsJsonLines) {
  testing::TemporaryDirectory temporary;
  Adapter adapter(minimal_plugin(), kConfig);
  adapter.initialize(json::object());
  const json ref = adapter.submit(testing::test_data_text("trajectories.json"));
  adapter.log_progress(ref, json{{"epoch", 1}}, temporary.path());
  adapter.log_progress(ref, json{{"epoch", 2}}, temporary.path());
  std::ifstream in(temporary.path() / "trainer_adapter_art_run_1a2b3c4d.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const json entry = json::parse(line);
    EXPECT_EQ(entry["epoch"], ++lines);
    EXPECT_EQ(entry["run_id"], "art_run_1a2b3c4d");
  }
  EXPECT_EQ(lines, 2);
}

TEST(AdapterError, CodeNames) {
  EXPECT_EQ(adapter_code_name(NAT_TRAINER_ADAPTER_UNAVAILABLE), "UNAVAILABLE");
  EXPECT_EQ(adapter_code_name(99), "code 99");
}

}  // namespace
}  // namespace nat::host
