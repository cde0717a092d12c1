#include "discovery/search_path.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "configured_paths.h"
#include "test_fixtures.h"

namespace nat::host {
namespace {

using testing::search_path_lines;

SearchPathInputs all_inputs() {
  SearchPathInputs inputs;
  inputs.plugin_dirs = {"/opt/first", "/opt/second"};
  inputs.environment_value = "/env/one:/env/two";
  inputs.installed_dir = "/usr/lib/nat-trainer-adapter/plugins";
  inputs.build_tree_dir = std::filesystem::path("/src/build/plugin");
  return inputs;
}

TEST(SearchPath, OrderIsCommandLineEnvironmentInstalledBuildTree) {
  EXPECT_EQ(search_path_lines(build_search_path(all_inputs())),
            (std::vector<std::string>{
                "/opt/first [--plugin-dir]", "/opt/second [--plugin-dir]",
                "/env/one [NAT_TRAINER_ADAPTER_PATH]", "/env/two [NAT_TRAINER_ADAPTER_PATH]",
                "/usr/lib/nat-trainer-adapter/plugins [installed]", "/src/build/plugin [build tree]"}));
}

TEST(SearchPath, EmptyEnvironmentEntriesAreSkipped) {
  SearchPathInputs inputs;
  inputs.environment_value = "::/env/one::/env/two:";
  EXPECT_EQ(search_path_lines(build_search_path(inputs)),
            (std::vector<std::string>{"/env/one [NAT_TRAINER_ADAPTER_PATH]",
                                      "/env/two [NAT_TRAINER_ADAPTER_PATH]"}));
  inputs.environment_value = "";
  EXPECT_TRUE(build_search_path(inputs).directories.empty());
}

TEST(SearchPath, EnvironmentIsIgnoredUnderSecureExecution) {
  SearchPathInputs inputs = all_inputs();
  inputs.secure_execution = true;
  const SearchPath search_path = build_search_path(inputs);
  for (const auto &directory : search_path.directories) {
    EXPECT_NE(directory.origin, SearchOrigin::environment) << directory.path;
  }
  EXPECT_EQ(search_path.directories.size(), 4u);
  ASSERT_EQ(search_path.notes.size(), 1u);
  EXPECT_NE(search_path.notes[0].find("NAT_TRAINER_ADAPTER_PATH ignored"), std::string::npos);
}

TEST(SearchPath, RelativeDirectoriesBecomeAbsolute) {
  SearchPathInputs inputs;
  inputs.plugin_dirs = {"plugins/../plugins"};
  inputs.environment_value = "relative";
  const SearchPath search_path = build_search_path(inputs);
  ASSERT_EQ(search_path.directories.size(), 2u);
  EXPECT_EQ(search_path.directories[0].path, std::filesystem::current_path() / "plugins");
  EXPECT_EQ(search_path.directories[1].path, std::filesystem::current_path() / "relative");
}

TEST(SearchPath, FromProcessReadsTheEnvironmentVariable) {
  ::setenv(kPluginPathVariable, "/from/env", 1);
  const SearchPathInputs inputs = SearchPathInputs::from_process({"/cli"});
  ::unsetenv(kPluginPathVariable);
  ASSERT_TRUE(inputs.environment_value.has_value());
  EXPECT_EQ(*inputs.environment_value, "/from/env");
  EXPECT_FALSE(inputs.secure_execution);  // the test binary is not setuid
  EXPECT_EQ(inputs.plugin_dirs, std::vector<std::filesystem::path>{"/cli"});
  EXPECT_EQ(inputs.installed_dir, std::filesystem::path(NAT_HOST_INSTALLED_PLUGIN_DIR));

  EXPECT_FALSE(SearchPathInputs::from_process({}).environment_value.has_value());
}

TEST(SearchPath, BuildTreeDirectoryOnlyForABinaryInsideTheBuildRoot) {
  // The test binary itself lives in the build tree.
  const SearchPathInputs inputs = SearchPathInputs::from_process({});
  ASSERT_TRUE(inputs.build_tree_dir.has_value());
  EXPECT_EQ(*inputs.build_tree_dir, std::filesystem::path(NAT_HOST_BUILD_PLUGIN_DIR));
}

TEST(SearchPath, InstalledDirectoryIsAbsoluteUnderThePrefix) {
  const std::filesystem::path installed(NAT_HOST_INSTALLED_PLUGIN_DIR);
  EXPECT_TRUE(installed.is_absolute());
  EXPECT_EQ(installed.filename(), "plugins");
  EXPECT_EQ(installed.parent_path().filename(), "nat-trainer-adapter");
}

TEST(SearchPath, IsInsideComparesWholeComponentsThroughSymlinks) {
  testing::TemporaryDirectory temporary;
  const auto build = temporary.make_directory("build");
  const auto sibling = temporary.make_directory("build-other");
  std::filesystem::create_directory_symlink(build, temporary.path() / "link");
  EXPECT_TRUE(is_inside(build / "host" / "nat-trainer", build));
  EXPECT_TRUE(is_inside(temporary.path() / "link" / "nat-trainer", build));
  EXPECT_FALSE(is_inside(sibling / "nat-trainer", build));
  EXPECT_FALSE(is_inside(build, build));
  EXPECT_FALSE(is_inside("/usr/bin/nat-trainer", build));
}

}  // namespace
}  // namespace nat::host
