#include "loading/plugin_library.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "test_fixtures.h"

namespace nat::host {
namespace {

std::string load_error(const std::string &fixture) {
  try {
    PluginLibrary::load(testing::fixture_library(fixture));
  } catch (const PluginLoadError &e) {
    return e.what();
  }
  return "no error";
}

TEST(PluginLibrary, LoadsAPluginAndResolvesEveryFunction) {
  const auto plugin = PluginLibrary::load(testing::fixture_library("nat_trainer_adapter_minimal"));
  EXPECT_EQ(plugin->name(), "minimal_trainer_adapter");
  EXPECT_EQ(plugin->info_text("backend"), "minimal");
  EXPECT_EQ(plugin->abi_version(), 0x10000u);  // it implements ABI 1.0
  EXPECT_TRUE(plugin->info()["config_schema"].is_object());
  const AbiFunctions &functions = plugin->functions();
  for (const void *function : {(const void *)functions.abi_version,
                               (const void *)functions.plugin_info,
                               (const void *)functions.error_code,
                               (const void *)functions.error_message,
                               (const void *)functions.error_free,
                               (const void *)functions.buffer_data,
                               (const void *)functions.buffer_size,
                               (const void *)functions.buffer_free,
                               (const void *)functions.create,
                               (const void *)functions.destroy,
                               (const void *)functions.initialize,
                               (const void *)functions.is_healthy,
                               (const void *)functions.submit,
                               (const void *)functions.status,
                               (const void *)functions.wait_until_complete,
                               (const void *)functions.cancel,
                               (const void *)functions.jobs,
                               (const void *)functions.next_event,
                               (const void *)functions.log_progress,
                               (const void *)functions.convert}) {
    EXPECT_NE(function, nullptr);
  }
}

TEST(PluginLibrary, TheOneOneFunctionsFollowThePluginsMinorVersion) {
  // The minimal example reports ABI 1.0: resubmit and spooled are not looked
  // up, and it is not refused for lacking them.
  const auto minimal = PluginLibrary::load(testing::fixture_library("nat_trainer_adapter_minimal"));
  EXPECT_EQ(abi_version_text(minimal->abi_version()), "1.0");
  EXPECT_EQ(minimal->functions().resubmit, nullptr);
  EXPECT_EQ(minimal->functions().spooled, nullptr);
  // A 1.1 plugin has both.
  const auto plugin = PluginLibrary::load(testing::fixture_library("never_ending_adapter"));
  ASSERT_NE(plugin->functions().resubmit, nullptr);
  ASSERT_NE(plugin->functions().spooled, nullptr);
  void *library = ::dlopen(plugin->path().c_str(), RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
  ASSERT_NE(library, nullptr);
  EXPECT_EQ(reinterpret_cast<void *>(plugin->functions().resubmit),
            ::dlsym(library, "nat_trainer_adapter_resubmit"));
  EXPECT_EQ(reinterpret_cast<void *>(plugin->functions().spooled),
            ::dlsym(library, "nat_trainer_adapter_spooled"));
  ::dlclose(library);
  // A plugin claiming 1.1 without one of them is refused, naming it.
  EXPECT_EQ(load_error("fixture_abi1_1_without_spooled"),
            "ABI 1.1 function nat_trainer_adapter_spooled is missing");
}

TEST(PluginLibrary, NewerMinorOfTheSameMajorIsAccepted) {
  const auto plugin = PluginLibrary::load(testing::fixture_library("fixture_abi1_9"));
  EXPECT_EQ(abi_version_text(plugin->abi_version()), "1.9");
  // Used as the host knows it: the 1.1 functions, nothing probed beyond.
  EXPECT_NE(plugin->functions().spooled, nullptr);
}

TEST(PluginLibrary, OtherMajorIsRefusedBeforeAnythingElse) {
  const std::string message = load_error("fixture_abi2");
  EXPECT_EQ(message, "plugin ABI 2.0 is incompatible with nat-trainer's ABI 1.1 (the major versions differ)");
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

TEST(PluginLibrary, InfoDocumentIsParsedOnDemandAndEqualsThePluginsText) {
  const auto plugin = PluginLibrary::load(testing::fixture_library("nat_trainer_adapter_minimal"));
  const nlohmann::json expected = nlohmann::json::parse(plugin->functions().plugin_info());
  EXPECT_EQ(plugin->info(), expected);
  EXPECT_EQ(&plugin->info(), &plugin->info());
  EXPECT_EQ(plugin->info_text("name"), expected["name"].get<std::string>());
  EXPECT_EQ(plugin->info_text("version"), expected["version"].get<std::string>());
  EXPECT_EQ(plugin->info_text("config_schema"), "");  // not a string
  EXPECT_EQ(plugin->info_text("no such key"), "");
}

// --- scan_plugin_info against nlohmann::json --------------------------------

// The verdict of nlohmann::json::parse (what loading used before), and the
// top-level strings of its document.
std::optional<PluginInfoSummary> reference_scan(const std::string &text) {
  const nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded()) return std::nullopt;
  PluginInfoSummary summary;
  summary.is_object = document.is_object();
  if (summary.is_object) {
    for (const auto &[key, value] : document.items()) {
      if (value.is_string()) summary.strings.emplace_back(key, value.get<std::string>());
    }
  }
  return summary;
}

std::vector<std::pair<std::string, std::string>> sorted(
    std::vector<std::pair<std::string, std::string>> strings) {
  std::sort(strings.begin(), strings.end());
  return strings;
}

std::string printable(const std::string &text) {
  return nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

void expect_same_as_nlohmann(const std::string &text) {
  const std::optional<PluginInfoSummary> expected = reference_scan(text);
  const std::optional<PluginInfoSummary> actual = scan_plugin_info(text);
  ASSERT_EQ(actual.has_value(), expected.has_value()) << "input: " << printable(text.substr(0, 300));
  if (!expected) return;
  EXPECT_EQ(actual->is_object, expected->is_object) << printable(text);
  EXPECT_EQ(sorted(actual->strings), sorted(expected->strings)) << printable(text);
}

TEST(ScanPluginInfo, ReadsTopLevelStringsUnescaped) {
  const auto summary = scan_plugin_info(
      R"({"name":"a\"b\\c\/d\u00e9\ud83d\ude00\n","version":"1.0","nested":{"name":"inner"},"list":["x"],)"
      R"("n":-1.5e3,"t":true,"f":false,"z":null,"backend":"x","backend":"y","version":7})");
  ASSERT_TRUE(summary.has_value());
  EXPECT_TRUE(summary->is_object);
  EXPECT_EQ(sorted(summary->strings),
            (std::vector<std::pair<std::string, std::string>>{
                {"backend", "y"}, {"name", "a\"b\\c/d\xC3\xA9\xF0\x9F\x98\x80\n"}}));
  const auto array = scan_plugin_info(R"(["name","x"])");
  ASSERT_TRUE(array.has_value());
  EXPECT_FALSE(array->is_object);
  EXPECT_TRUE(array->strings.empty());
}

TEST(ScanPluginInfo, AcceptsAndRefusesWhatNlohmannDoes) {
  const std::vector<std::string> cases = {
      "",
      " ",
      "{}",
      "[]",
      R"("x")",
      "0",
      "-0",
      "01",
      "1.",
      ".5",
      "+1",
      "1e5",
      "1E+5",
      "1e-5",
      "1e",
      "-",
      "--1",
      "1e400",
      "-1e400",
      "1e-400",
      "123456789012345678901234567890",
      std::string(400, '9'),
      "0.0000001e310",
      "18446744073709551615",
      "18446744073709551616",
      "-9223372036854775809",
      "true",
      "tru",
      "truex",
      "nul",
      "null ",
      "NaN",
      "Infinity",
      R"({"a":1,})",
      "[1,]",
      "[,1]",
      "{,}",
      R"({"a" 1})",
      R"({"a":})",
      "{a:1}",
      "{'a':1}",
      "[1 2]",
      "[[[[[]]]]]",
      "[[[[[]]]]",
      R"({"a":{"b":[{}]}})",
      "{} {}",
      "{}x",
      " \t\r\n{}\n",
      "\f{}",
      "\xEF\xBB\xBF{}",
      "\xEF\xBB{}",
      "\xEF{}",
      std::string("{}\0x", 4),
      R"({"\u0000":"\u0000"})",
      R"("\ud800")",
      R"("\udc00")",
      R"("\ud800\u0041")",
      R"("\ud800\udbff")",
      R"("\ud800x")",
      R"("\uD83D\uDE00")",
      R"("\u12")",
      R"("\u12G4")",
      R"("\x")",
      R"("\'")",
      "\"a\tb\"",
      "\"a\x01\"",
      "\"\x7f\"",
      "\"\xC2\x80\"",
      "\"\xC1\xBF\"",
      "\"\xE0\x9F\x80\"",
      "\"\xE0\xA0\x80\"",
      "\"\xED\xA0\x80\"",
      "\"\xED\x9F\xBF\"",
      "\"\xF0\x8F\x80\x80\"",
      "\"\xF0\x90\x80\x80\"",
      "\"\xF4\x8F\xBF\xBF\"",
      "\"\xF4\x90\x80\x80\"",
      "\"\xF5\x80\x80\x80\"",
      "\"\xFF\"",
      "\"\x80\"",
      "\"\xE2\x82\"",
      "\"unterminated",
      R"({"a":"b")",
      R"(["a")",
      R"("\")",
      R"("\)",
      std::string(10000, '[') + std::string(10000, ']'),
      std::string(10000, '[') + std::string(9999, ']'),
      R"({"name":1,"name":"x"})",
      R"({"name":"x","name":[]})",
      R"({"name":"x","name":{}})",
  };
  for (const auto &text : cases) expect_same_as_nlohmann(text);
}

// Random edits of a real info document (plus every kind of token) get the
// same verdict and the same top-level strings from both.
TEST(ScanPluginInfo, MutatedInfoDocumentsGetNlohmannsVerdict) {
  const std::string info =
      PluginLibrary::load(testing::fixture_library("nat_trainer_adapter_minimal"))->functions().plugin_info();
  const std::string seed =
      info.substr(0, info.rfind('}')) + R"(,"escapes":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","utf8":")" +
      "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80" +
      R"(","numbers":[0,-0.5,1e10,-2E-3,12345678901234567890],"literals":[true,false,null],"nested":{"a":[{"b":{}}]}})";
  ASSERT_TRUE(nlohmann::json::accept(seed)) << seed;
  expect_same_as_nlohmann(seed);
  const std::string alphabet =
      "{}[]\",:\\/ubfnrt0123456789.eE+-aAdDfF \t\n\x01\x7f\x80\xbf\xc2\xe0\xed\xef\xf0\xf4\xff";
  std::mt19937 random(20240611u);
  for (int round = 0; round < 20000; ++round) {
    std::string text = seed;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = random() % text.size();
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1 + random() % 4);
          break;
      }
    }
    expect_same_as_nlohmann(text);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(PluginLibrary, AbiVersionText) {
  EXPECT_EQ(abi_version_text(0x10000u), "1.0");
  EXPECT_EQ(abi_version_text(0x2000Au), "2.10");
}

}  // namespace
}  // namespace nat::host
