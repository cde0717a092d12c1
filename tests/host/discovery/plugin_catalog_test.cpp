#include "discovery/plugin_catalog.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "test_fixtures.h"

namespace nat::host {
namespace {

using testing::copy_fixture;
using testing::TemporaryDirectory;

SearchPath search_path_of(std::initializer_list<std::filesystem::path> directories) {
  SearchPath search_path;
  for (const auto &directory : directories) {
    search_path.directories.push_back({directory, SearchOrigin::command_line});
  }
  return search_path;
}

std::vector<std::string> names_of(const PluginCatalog &catalog) {
  std::vector<std::string> names;
  for (const auto &plugin : catalog.plugins()) {
    names.push_back(plugin.library->name());
  }
  return names;
}

std::string reason_for(const PluginCatalog &catalog, const std::filesystem::path &path) {
  for (const auto &refused : catalog.refused()) {
    if (refused.path == path) {
      return refused.reason;
    }
  }
  return "(not refused)";
}

TEST(PluginCatalog, FindsPluginsInSearchOrderAndByFileName) {
  TemporaryDirectory temporary;
  const auto first = temporary.make_directory("first");
  const auto second = temporary.make_directory("second");
  copy_fixture("fixture_beta", second);
  copy_fixture("fixture_alpha", first);
  copy_fixture("nat_trainer_adapter_minimal", second, "libaaa.so");

  const PluginCatalog catalog = discover_plugins(search_path_of({first, second}));
  EXPECT_EQ(names_of(catalog),
            (std::vector<std::string>{"fixture_alpha", "minimal_trainer_adapter", "fixture_beta"}));
  EXPECT_TRUE(catalog.refused().empty());
  const FoundPlugin *alpha = catalog.find("fixture_alpha");
  ASSERT_NE(alpha, nullptr);
  EXPECT_EQ(alpha->path, first / "libfixture_alpha.so");
  EXPECT_EQ(alpha->directory.path, first);
  EXPECT_EQ(alpha->library->info_text("version"), "1.0.0");
}

TEST(PluginCatalog, FirstPluginWithANameWinsAndTheOtherIsShadowed) {
  TemporaryDirectory temporary;
  const auto first = temporary.make_directory("first");
  const auto second = temporary.make_directory("second");
  const auto winner = copy_fixture("fixture_alpha_again", first);
  const auto loser = copy_fixture("fixture_alpha", second);

  const PluginCatalog catalog = discover_plugins(search_path_of({first, second}));
  ASSERT_EQ(catalog.plugins().size(), 1u);
  EXPECT_EQ(catalog.find("fixture_alpha")->library->info_text("version"), "2.0.0");
  ASSERT_EQ(catalog.shadowed().size(), 1u);
  EXPECT_EQ(catalog.shadowed()[0].plugin.path, loser);
  EXPECT_EQ(catalog.shadowed()[0].shadowed_by, winner);
}

TEST(PluginCatalog, SameFileReachedTwiceIsLoadedOnce) {
  TemporaryDirectory temporary;
  const auto directory = temporary.make_directory("plugins");
  copy_fixture("fixture_alpha", directory);
  std::filesystem::create_symlink(directory / "libfixture_alpha.so", directory / "libalias.so");
  std::filesystem::create_directory_symlink(directory, temporary.path() / "again");

  const PluginCatalog catalog = discover_plugins(search_path_of({directory, temporary.path() / "again"}));
  EXPECT_EQ(names_of(catalog), std::vector<std::string>{"fixture_alpha"});
  EXPECT_TRUE(catalog.shadowed().empty());
  EXPECT_TRUE(catalog.refused().empty());
}

// Discovery resolves the directory once and only symlinked files on their
// own: what is loaded is still the fully resolved path.
TEST(PluginCatalog, LoadsTheResolvedPathOfPlainAndSymlinkedFiles) {
  TemporaryDirectory temporary;
  const auto real = temporary.make_directory("real");
  const auto elsewhere = temporary.make_directory("elsewhere");
  copy_fixture("fixture_alpha", real);
  const auto target = copy_fixture("fixture_beta", elsewhere);
  std::filesystem::create_symlink(target, real / "liblinked.so");
  std::filesystem::create_symlink(real / "libnothing-there.so", real / "libdangling.so");
  std::filesystem::create_directory_symlink(real, temporary.path() / "via-link");

  const auto through_link = temporary.path() / "via-link" / ".." / "via-link";
  const PluginCatalog catalog = discover_plugins(search_path_of({through_link}));
  EXPECT_EQ(names_of(catalog), (std::vector<std::string>{"fixture_alpha", "fixture_beta"}));
  const FoundPlugin *alpha = catalog.find("fixture_alpha");
  ASSERT_NE(alpha, nullptr);
  EXPECT_EQ(alpha->library->path(), std::filesystem::canonical(real / "libfixture_alpha.so"));
  EXPECT_EQ(alpha->path, through_link / "libfixture_alpha.so");
  const FoundPlugin *beta = catalog.find("fixture_beta");
  ASSERT_NE(beta, nullptr);
  EXPECT_EQ(beta->library->path(), std::filesystem::canonical(target));
  EXPECT_EQ(beta->path, through_link / "liblinked.so");
  EXPECT_NE(reason_for(catalog, through_link / "libdangling.so").find("cannot resolve path"),
            std::string::npos)
      << reason_for(catalog, through_link / "libdangling.so");
}

TEST(PluginCatalog, FilesWritableByGroupOrOthersAreRefused) {
  TemporaryDirectory temporary;
  const auto directory = temporary.make_directory("plugins");
  const auto world = copy_fixture("fixture_alpha", directory, "libworld.so", 0757);
  const auto group = copy_fixture("fixture_beta", directory, "libgroup.so", 0775);

  const PluginCatalog catalog = discover_plugins(search_path_of({directory}));
  EXPECT_TRUE(catalog.plugins().empty());
  EXPECT_NE(reason_for(catalog, world).find("writable by group or others (mode 0757)"), std::string::npos);
  EXPECT_NE(reason_for(catalog, group).find("writable by group or others (mode 0775)"), std::string::npos);
}

TEST(PluginCatalog, DirectoriesWritableByGroupOrOthersAreRefusedWhole) {
  TemporaryDirectory temporary;
  const auto open_directory = temporary.make_directory("open", 0777);
  const auto good_directory = temporary.make_directory("good");
  copy_fixture("fixture_alpha", open_directory);
  copy_fixture("fixture_beta", good_directory);

  const PluginCatalog catalog = discover_plugins(search_path_of({open_directory, good_directory}));
  EXPECT_EQ(names_of(catalog), std::vector<std::string>{"fixture_beta"});
  EXPECT_NE(reason_for(catalog, open_directory).find("writable by group or others (mode 0777)"),
            std::string::npos);
}

TEST(PluginCatalog, NonPluginFilesAreRefusedWithAReasonAndDiscoveryGoesOn) {
  TemporaryDirectory temporary;
  const auto directory = temporary.make_directory("plugins");
  const auto text = directory / "x.so";
  std::ofstream(text) << "not a shared library\n";
  ::chmod(text.c_str(), 0644);
  const auto library = copy_fixture("not_a_plugin", directory);
  const auto broken = copy_fixture("broken_library", directory);
  copy_fixture("fixture_alpha", directory, "libz_last.so");
  std::ofstream(directory / "README.txt") << "ignored: not a .so\n";

  const PluginCatalog catalog = discover_plugins(search_path_of({directory}));
  EXPECT_EQ(names_of(catalog), std::vector<std::string>{"fixture_alpha"});
  EXPECT_EQ(catalog.refused().size(), 3u);
  EXPECT_NE(reason_for(catalog, text).find("cannot load"), std::string::npos) << reason_for(catalog, text);
  EXPECT_NE(reason_for(catalog, library).find("not a trainer adapter plugin"), std::string::npos);
  EXPECT_NE(reason_for(catalog, broken).find("symbol_provided_by_nobody"), std::string::npos)
      << reason_for(catalog, broken);
  for (const auto &refused : catalog.refused()) {
    EXPECT_EQ(refused.reason.find('\n'), std::string::npos) << refused.reason;
  }
}

TEST(PluginCatalog, AbiMajorMismatchIsRefusedNamingBothVersions) {
  TemporaryDirectory temporary;
  const auto directory = temporary.make_directory("plugins");
  const auto abi2 = copy_fixture("fixture_abi2", directory);
  copy_fixture("fixture_abi1_9", directory);

  const PluginCatalog catalog = discover_plugins(search_path_of({directory}));
  EXPECT_EQ(names_of(catalog), std::vector<std::string>{"fixture_abi1_9"});
  const std::string reason = reason_for(catalog, abi2);
  EXPECT_NE(reason.find("plugin ABI 2.0"), std::string::npos) << reason;
  EXPECT_NE(reason.find("nat-trainer's ABI 1.1"), std::string::npos) << reason;
}

TEST(PluginCatalog, MissingDirectoriesThatWereAskedForAreReported) {
  TemporaryDirectory temporary;
  SearchPath search_path;
  search_path.directories.push_back({temporary.path() / "asked", SearchOrigin::environment});
  search_path.directories.push_back({temporary.path() / "installed", SearchOrigin::installed});
  search_path.directories.push_back({temporary.path() / "build", SearchOrigin::build_tree});
  const PluginCatalog catalog = discover_plugins(search_path);
  ASSERT_EQ(catalog.refused().size(), 1u);
  EXPECT_EQ(catalog.refused()[0].path, temporary.path() / "asked");
}

TEST(PluginCatalog, RequireExplainsWhatWasFoundAndWhere) {
  TemporaryDirectory temporary;
  const auto directory = temporary.make_directory("plugins");
  copy_fixture("fixture_alpha", directory);
  copy_fixture("fixture_abi2", directory);
  const PluginCatalog catalog = discover_plugins(search_path_of({directory}));

  EXPECT_EQ(&catalog.require("fixture_alpha", "test"), catalog.find("fixture_alpha"));
  try {
    catalog.require("openpipe_art_trainer_adapter", "the _type of config.yml: trainer_adapters.art");
    FAIL() << "expected PluginNotFoundError";
  } catch (const PluginNotFoundError &e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("no trainer adapter plugin named 'openpipe_art_trainer_adapter'"),
              std::string::npos);
    EXPECT_NE(message.find("trainer_adapters.art"), std::string::npos);
    EXPECT_NE(message.find("found: fixture_alpha"), std::string::npos);
    EXPECT_NE(message.find("libfixture_abi2.so"), std::string::npos);
    EXPECT_NE(message.find(directory.string() + " (--plugin-dir)"), std::string::npos) << message;
  }
}

TEST(PluginCatalog, EnvironmentDirectoriesAreSearchedAfterCommandLineOnes) {
  TemporaryDirectory temporary;
  const auto cli = temporary.make_directory("cli");
  const auto env = temporary.make_directory("env");
  copy_fixture("fixture_alpha", env);
  copy_fixture("fixture_alpha_again", cli);
  ::setenv(kPluginPathVariable, env.c_str(), 1);
  SearchPathInputs inputs = SearchPathInputs::from_process({cli});
  ::unsetenv(kPluginPathVariable);
  inputs.installed_dir.clear();
  inputs.build_tree_dir.reset();

  const PluginCatalog catalog = discover_plugins(build_search_path(inputs));
  EXPECT_EQ(catalog.find("fixture_alpha")->library->info_text("version"), "2.0.0");
  ASSERT_EQ(catalog.shadowed().size(), 1u);
  EXPECT_EQ(catalog.shadowed()[0].plugin.directory.origin, SearchOrigin::environment);
}

}  // namespace
}  // namespace nat::host
