#include "loading/plugin_library.hpp"

#include <gtest/gtest.h>

#include "test_fixtures.hpp"

namespace nat::host {
namespace {

std::string load_error(const std::string& fixture) {
  try {
    PluginLibrary::load(testing::fixture_library(fixture));
  } catch (const PluginLoadError& e) {
    return e.what();
  }
  return "no error";
}

TEST(PluginLibrary, LoadsAPluginAndResolvesEveryFunction) {
  const auto plugin = PluginLibrary::load(testing::fixture_library("nat_trainer_adapter_minimal"));
  EXPECT_EQ(plugin->name(), "minimal_trainer_adapter");
  EXPECT_EQ(plugin->info_text("backend"), "minimal");
  EXPECT_EQ(plugin->abi_version(), NAT_TRAINER_ADAPTER_ABI_VERSION);
  EXPECT_TRUE(plugin->info()["config_schema"].is_object());
  const AbiFunctions& functions = plugin->functions();
  for (const void* function :
       {(const void*)functions.abi_version, (const void*)functions.plugin_info, (const void*)functions.error_code,
        (const void*)functions.error_message, (const void*)functions.error_free, (const void*)functions.buffer_data,
        (const void*)functions.buffer_size, (const void*)functions.buffer_free, (const void*)functions.create,
        (const void*)functions.destroy, (const void*)functions.initialize, (const void*)functions.is_healthy,
        (const void*)functions.submit, (const void*)functions.status, (const void*)functions.wait_until_complete,
        (const void*)functions.cancel, (const void*)functions.jobs, (const void*)functions.next_event,
        (const void*)functions.log_progress, (const void*)functions.convert}) {
    EXPECT_NE(function, nullptr);
  }
}

TEST(PluginLibrary, NewerMinorOfTheSameMajorIsAccepted) {
  const auto plugin = PluginLibrary::load(testing::fixture_library("fixture_abi1_9"));
  EXPECT_EQ(abi_version_text(plugin->abi_version()), "1.9");
}

TEST(PluginLibrary, OtherMajorIsRefusedBeforeAnythingElse) {
  const std::string message = load_error("fixture_abi2");
  EXPECT_EQ(message, "plugin ABI 2.0 is incompatible with nat-trainer's ABI 1.0 (the major versions differ)");
}

TEST(PluginLibrary, MissingAbiFunctionIsNamed) {
  EXPECT_EQ(load_error("fixture_without_convert"), "ABI 1.0 function nat_trainer_adapter_convert is missing");
}

TEST(PluginLibrary, BrokenInfoIsRefused) {
  EXPECT_NE(load_error("fixture_info_not_json").find("plugin info is not valid JSON"), std::string::npos);
  EXPECT_NE(load_error("fixture_info_without_name").find("plugin info has no \"name\""), std::string::npos);
}

TEST(PluginLibrary, LibraryWithoutBootstrapSymbolsIsNotAPlugin) {
  EXPECT_EQ(load_error("not_a_plugin"),
            "not a trainer adapter plugin: it does not export nat_trainer_adapter_abi_version");
}

TEST(PluginLibrary, UnresolvableLibraryKeepsTheDlerrorText) {
  const std::string message = load_error("broken_library");
  EXPECT_EQ(message.rfind("cannot load: ", 0), 0u) << message;
  EXPECT_NE(message.find("undefined symbol: symbol_provided_by_nobody"), std::string::npos) << message;
}

TEST(PluginLibrary, AbiVersionText) {
  EXPECT_EQ(abi_version_text(0x10000u), "1.0");
  EXPECT_EQ(abi_version_text(0x2000Au), "2.10");
}

}  // namespace
}  // namespace nat::host
