// Which files the spool may delete: Spool::owned_file accepts only regular
// files directly in the spool directory, with symlinks and ".." resolved.
// What Spool::list and list_json report of a spool directory.
#include "jobs/spool.h"

#include <gtest/gtest.h>
#ifdef _WIN32
#include <process.h>
#include <sys/utime.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"

namespace fs = std::filesystem;

namespace {

class SpoolOwnership : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef _WIN32
    static int count = 0;
    fs::path pattern = fs::temp_directory_path() /
                       ("nat-spool-test-" + std::to_string(::getpid()) + "-" + std::to_string(count++));
    ASSERT_TRUE(fs::create_directory(pattern));
#else
    char pattern[] = "/tmp/nat-spool-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
#endif
    root_ = fs::canonical(pattern);
    spool_ = root_ / "spool";
    fs::create_directories(spool_);
    fs::create_directories(root_ / "spool2");
    fs::create_directories(spool_ / "sub");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path touch(const fs::path &p) {
    std::ofstream(p) << "{}";
    return p;
  }
  fs::path root_, spool_;
};

}  // namespace

TEST_F(SpoolOwnership, AcceptsFilesOfTheDirectoryHoweverTheyAreNamed) {
  nat::Spool spool(spool_.string());
  std::string written = spool.write("run", "{}");
  EXPECT_EQ(spool.owned_file(written), written);
  touch(spool_ / "mine.json");
  EXPECT_EQ(spool.owned_file((spool_ / "mine.json").string()), (spool_ / "mine.json").string());
  // Through "..", and relative to a spool directory given with "..".
  EXPECT_EQ(spool.owned_file((spool_ / "sub" / ".." / "mine.json").string()),
            (spool_ / "mine.json").string());
  nat::Spool dotted((root_ / "spool2" / ".." / "spool").string());
  EXPECT_EQ(dotted.owned_file((spool_ / "mine.json").string()), (spool_ / "mine.json").string());
  // A relative path, from the working directory.
  fs::path cwd = fs::current_path();
  fs::current_path(root_);
  EXPECT_EQ(nat::Spool("spool").owned_file("spool/mine.json"), (spool_ / "mine.json").string());
  EXPECT_EQ(nat::Spool("./spool/").owned_file("./spool/../spool/mine.json"), (spool_ / "mine.json").string());
  fs::current_path(cwd);
}

TEST_F(SpoolOwnership, RefusesEverythingElse) {
  nat::Spool spool(spool_.string());
  // Outside, in a sibling whose name starts like the spool's, in a subdirectory.
  EXPECT_EQ(spool.owned_file(touch(root_ / "collection.json").string()), "");
  EXPECT_EQ(spool.owned_file(touch(root_ / "spool2" / "x.json").string()), "");
  EXPECT_EQ(spool.owned_file(touch(spool_ / "sub" / "x.json").string()), "");
  // Out through "..".
  EXPECT_EQ(spool.owned_file((spool_ / ".." / "collection.json").string()), "");
  // Directories, missing files, empty paths, "." and "..", a NUL byte.
  touch(spool_ / "real.json");
  EXPECT_EQ(spool.owned_file((spool_ / "sub").string()), "");
  EXPECT_EQ(spool.owned_file((spool_ / "missing.json").string()), "");
  EXPECT_EQ(spool.owned_file(""), "");
  EXPECT_EQ(spool.owned_file((spool_ / ".").string()), "");
  EXPECT_EQ(spool.owned_file((spool_ / "sub" / "..").string()), "");
  EXPECT_EQ(spool.owned_file((spool_ / "real.json").string() + std::string(1, '\0') + "x"), "");
  // A spool directory that does not exist owns nothing.
  EXPECT_EQ(nat::Spool((root_ / "none").string()).owned_file((spool_ / "real.json").string()), "");
}

TEST_F(SpoolOwnership, RefusesSymlinksToFiles) {
#ifdef _WIN32
  GTEST_SKIP() << "std::filesystem::create_symlink of MinGW-w64's libstdc++ is not supported on Windows";
#endif
  nat::Spool spool(spool_.string());
  touch(root_ / "collection.json");
  // A symlink in the spool to a file outside, and one to a file inside.
  fs::create_symlink(root_ / "collection.json", spool_ / "link.json");
  EXPECT_EQ(spool.owned_file((spool_ / "link.json").string()), "");
  touch(spool_ / "real.json");
  fs::create_symlink(spool_ / "real.json", spool_ / "link2.json");
  EXPECT_EQ(spool.owned_file((spool_ / "link2.json").string()), "");
  // A symlinked directory into the spool leads back in: the real parent counts.
  fs::create_symlink(spool_, root_ / "spool-link");
  EXPECT_EQ(spool.owned_file((root_ / "spool-link" / "real.json").string()), (spool_ / "real.json").string());
  // A spool directory that is a symlink to elsewhere: files of the target's directory are its own.
  fs::create_symlink(root_ / "spool2", root_ / "spool3");
  touch(root_ / "spool2" / "x.json");
  EXPECT_EQ(nat::Spool((root_ / "spool3").string()).owned_file((root_ / "spool2" / "x.json").string()),
            (root_ / "spool2" / "x.json").string());
}

namespace {

#ifdef _WIN32
// Spool::list reads whole seconds of a modification time on Windows.
constexpr long long kExtraNs = 0;
// Sets a file's modification time to `seconds` after the epoch.
void set_modified(const fs::path &p, long seconds) {
  struct __utimbuf64 times = {seconds, seconds};
  ASSERT_EQ(::_wutime64(p.c_str(), &times), 0);
}
#else
constexpr long long kExtraNs = 1;
// Sets a file's modification time to `seconds` after the epoch (plus 1 ns).
void set_modified(const fs::path &p, long seconds) {
  const struct timespec times[2] = {{seconds, 1}, {seconds, 1}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}
#endif

}  // namespace

TEST_F(SpoolOwnership, ListsCollectionsOldestFirstWithWhatTheirNamesSay) {
  nat::Spool spool(spool_.string());
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const fs::path newer = spool.write("run a/b", "{\"x\": 1}");
  const fs::path older = spool.write("r", "{}");
  set_modified(newer, 2000000000);
  set_modified(older, 1000000000);
  const fs::path partial = touch(spool_ / "r.1700000000000.42.0.json.partial");
  set_modified(partial, 1500000000);
  const fs::path foreign = touch(spool_ / "mine.json");
  set_modified(foreign, 1000000000);  // as old as `older`: then by path
  // Not collections: another suffix, a directory, a symlink, a file of a subdirectory.
  touch(spool_ / "notes.txt");
  fs::create_directories(spool_ / "dir.json");
#ifndef _WIN32
  fs::create_symlink(older, spool_ / "link.json");
#endif
  touch(spool_ / "sub" / "x.json");

  const std::vector<nat::SpooledCollection> list = spool.list();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].path, foreign.string());
  EXPECT_EQ(list[1].path, older.string());
  EXPECT_EQ(list[2].path, partial.string());
  EXPECT_EQ(list[3].path, newer.string());
  EXPECT_EQ(list[0].writer_pid, 0);  // not a name the spool gives
  EXPECT_EQ(list[0].run_id, "");
  EXPECT_EQ(list[1].run_id, "r");
  EXPECT_EQ(list[1].modified_unix_ns, 1000000000ll * 1000000000 + kExtraNs);
  EXPECT_FALSE(list[1].partial);
  EXPECT_TRUE(list[2].partial);
  EXPECT_EQ(list[2].run_id, "r");
  EXPECT_EQ(list[2].writer_pid, 42);
  EXPECT_EQ(list[2].submitted_unix_ms, 1700000000000);
  EXPECT_EQ(list[3].run_id, "run_a_b");
  EXPECT_EQ(list[3].writer_pid, ::getpid());
  EXPECT_GE(list[3].submitted_unix_ms, before);
  EXPECT_EQ(list[3].bytes, 8u);

  const nlohmann::json json = nlohmann::json::parse(spool.list_json(false, "config"));
  EXPECT_EQ(json["spool_dir"], spool_.string());
  EXPECT_EQ(json["spool_dir_source"], "config");
  EXPECT_EQ(json["spooling"], false);
  EXPECT_EQ(json["exists"], true);
  ASSERT_EQ(json["collections"].size(), 4u);
  EXPECT_EQ(json["collections"][0],
            (nlohmann::json{{"path", foreign.string()},
                            {"state", "ready"},
                            {"bytes", 2},
                            {"modified_unix_ns", 1000000000ll * 1000000000 + kExtraNs}}));
  EXPECT_EQ(json["collections"][2]["state"], "partial");
  EXPECT_EQ(json["collections"][3]["run_id"], "run_a_b");
  EXPECT_EQ(json["collections"][3]["writer_running"], true);
}

TEST_F(SpoolOwnership, ListsNothingOfAMissingDirectoryAndRefusesBadNames) {
  const nlohmann::json json =
      nlohmann::json::parse(nat::Spool((root_ / "none").string()).list_json(true, "argument"));
  EXPECT_EQ(json["exists"], false);
  EXPECT_EQ(json["spooling"], true);
  EXPECT_EQ(json["collections"], nlohmann::json::array());
  for (const std::string &bad : {std::string(), std::string("a\0b", 3)}) {
    try {
      nat::Spool(bad).list_json(true, "argument");
      ADD_FAILURE() << "accepted a spool_dir of " << bad.size() << " bytes";
    } catch (const nat::Error &e) {
      EXPECT_EQ(e.code(), nat::ErrorCode::InvalidArgument);
    }
  }
  // A file where the directory should be cannot be listed.
  try {
    nat::Spool(touch(root_ / "file").string()).list();
    ADD_FAILURE() << "listed a file";
  } catch (const nat::Error &e) {
    EXPECT_EQ(e.code(), nat::ErrorCode::Unavailable);
  }
}

// Config strings are UTF-8: a spool directory named in any language.
TEST_F(SpoolOwnership, WritesListsAndOwnsInADirectoryOfAnyName) {
  const fs::path dir = root_ / fs::u8path("sp\xc3\xb6ol \xe2\x9c\x93");
  nat::Spool spool(dir.u8string());
  const std::string written = spool.write("run", "{}");
  EXPECT_TRUE(fs::is_regular_file(fs::u8path(written))) << written;
  EXPECT_EQ(fs::u8path(written).parent_path(), dir);
  EXPECT_EQ(spool.owned_file(written), written);
  EXPECT_EQ(nat::Spool::read(written, 100), "{}");
  const std::vector<nat::SpooledCollection> list = spool.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].path, written);
  EXPECT_EQ(list[0].run_id, "run");
  nat::Spool::remove(written);
  EXPECT_FALSE(fs::exists(fs::u8path(written)));
}
