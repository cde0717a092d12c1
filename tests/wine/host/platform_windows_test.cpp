// The host's Windows paths, unit by unit, under Wine: the ';' list of
// %NAT_TRAINER_ADAPTER_PATH% (drive letters are not separators), the search
// order with the folder beside the .exe, the inputs of this process, names in
// any case, and the probe that tells a plugin DLL from another DLL without
// running its code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "configured_paths.h"
#include "discovery/search_path.h"
#include "platform/platform.h"
#include "test_fixtures.h"

namespace nat::host {
namespace {

using testing::search_path_lines;

TEST(WindowsSearchPath, EnvironmentIsASemicolonListAndDrivesAreNotSeparators) {
  SearchPathInputs inputs;
  inputs.environment_value = ";C:\\one;;D:\\two\\plugins;";
  EXPECT_EQ(search_path_lines(build_search_path(inputs)),
            (std::vector<std::string>{"C:\\one [NAT_TRAINER_ADAPTER_PATH]",
                                      "D:\\two\\plugins [NAT_TRAINER_ADAPTER_PATH]"}));
}

TEST(WindowsSearchPath, OrderIsCommandLineEnvironmentBesideInstalled) {
  SearchPathInputs inputs;
  inputs.plugin_dirs = {"C:\\cli"};
  inputs.environment_value = "C:\\env";
  inputs.beside_executable_dir = std::filesystem::path("C:\\nat\\bin\\plugins");
  inputs.installed_dir = "C:\\nat\\bin\\..\\lib\\nat-trainer-adapter\\plugins";
  EXPECT_EQ(search_path_lines(build_search_path(inputs)),
            (std::vector<std::string>{"C:\\cli [--plugin-dir]", "C:\\env [NAT_TRAINER_ADAPTER_PATH]",
                                      "C:\\nat\\bin\\plugins [beside nat-trainer.exe]",
                                      "C:\\nat\\lib\\nat-trainer-adapter\\plugins [installed]"}));
}

TEST(WindowsSearchPath, FromProcessUsesTheExecutablesFolder) {
  ASSERT_EQ(_putenv_s(kPluginPathVariable, "C:\\a;C:\\b"), 0);
  const SearchPathInputs inputs = SearchPathInputs::from_process({});
  ASSERT_EQ(_putenv_s(kPluginPathVariable, ""), 0);
  ASSERT_TRUE(inputs.environment_value.has_value());
  EXPECT_EQ(*inputs.environment_value, "C:\\a;C:\\b");
  EXPECT_FALSE(inputs.secure_execution);
  EXPECT_FALSE(inputs.build_tree_dir.has_value());  // no build tree on Windows
  const std::optional<std::filesystem::path> exe = platform::executable_path();
  ASSERT_TRUE(exe.has_value());
  EXPECT_TRUE(platform::same_name(exe->extension().string(), ".exe")) << exe->string();
  ASSERT_TRUE(inputs.beside_executable_dir.has_value());
  EXPECT_EQ(*inputs.beside_executable_dir, exe->parent_path() / "plugins");
  EXPECT_EQ(inputs.installed_dir,
            exe->parent_path() / std::filesystem::u8path(NAT_HOST_INSTALLED_PLUGIN_DIR_FROM_BIN));
  EXPECT_EQ(inputs.installed_dir.lexically_normal().filename(), "plugins");
}

TEST(WindowsPlatform, NamesMatchInAnyAsciiCase) {
  EXPECT_TRUE(platform::same_name("openpipe_art_trainer_adapter", "OpenPipe_ART_Trainer_Adapter"));
  EXPECT_TRUE(platform::same_name(".dll", ".DLL"));
  EXPECT_FALSE(platform::same_name("openpipe_art", "openpipe_art_trainer_adapter"));
  EXPECT_FALSE(platform::same_name("a_b", "a-b"));
  EXPECT_EQ(platform::kPathListSeparator, ';');
  EXPECT_STREQ(platform::kSharedLibrarySuffix, ".dll");
}

TEST(WindowsPlatform, PluginDllsAreToldFromOtherDllsWithoutRunningThem) {
  const char *plugin = std::getenv("NAT_ART_PLUGIN_DLL");
  const char *libcurl = std::getenv("NAT_LIBCURL_DLL");
  ASSERT_NE(plugin, nullptr);
  ASSERT_NE(libcurl, nullptr);
  EXPECT_TRUE(platform::may_be_plugin(plugin, "nat_trainer_adapter_abi_version"));
  EXPECT_FALSE(platform::may_be_plugin(libcurl, "nat_trainer_adapter_abi_version"));
  // A file that is no DLL at all may still be one as far as the probe
  // knows: its load says why not.
  testing::TemporaryDirectory temporary;
  const auto text = temporary.path() / "notes.dll";
  std::ofstream(text) << "not a DLL";
  EXPECT_TRUE(platform::may_be_plugin(text, "nat_trainer_adapter_abi_version"));
}

TEST(WindowsPlatform, FileStatusKindsAndNoOtherWritersOfANewFile) {
  testing::TemporaryDirectory temporary;
  const auto file = temporary.path() / "plugin.dll";
  std::ofstream(file) << "x";
  const platform::FileStatus status = platform::file_status(file);
  EXPECT_EQ(status.kind, platform::FileStatus::Kind::regular);
  EXPECT_FALSE(status.writable_by_others.has_value()) << *status.writable_by_others;
  EXPECT_EQ(platform::file_status(temporary.path()).kind, platform::FileStatus::Kind::directory);
  const platform::FileStatus missing = platform::file_status(temporary.path() / "missing");
  EXPECT_EQ(missing.kind, platform::FileStatus::Kind::missing);
  EXPECT_FALSE(missing.error.empty());
}

TEST(WindowsPlatform, LocalTimeOfAKnownInstant) {
  const std::tm parts = platform::local_time(0);
  EXPECT_TRUE(parts.tm_year == 69 || parts.tm_year == 70) << parts.tm_year;  // 1970, or 1969 west of UTC
}

}  // namespace
}  // namespace nat::host
