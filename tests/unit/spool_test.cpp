// Which files the spool may delete: Spool::owned_file accepts only regular
// files directly in the spool directory, with symlinks and ".." resolved.
#include "jobs/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

class SpoolOwnership : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nat-spool-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
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
  EXPECT_EQ(spool.owned_file((spool_ / "sub" / ".." / "mine.json").string()), (spool_ / "mine.json").string());
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
  EXPECT_EQ(nat::Spool((root_ / "spool3").string()).owned_file((root_ / "spool2" / "x.json").string()),
            (root_ / "spool2" / "x.json").string());
  // Directories, missing files, empty paths, "." and "..", a NUL byte.
  EXPECT_EQ(spool.owned_file((spool_ / "sub").string()), "");
  EXPECT_EQ(spool.owned_file((spool_ / "missing.json").string()), "");
  EXPECT_EQ(spool.owned_file(""), "");
  EXPECT_EQ(spool.owned_file((spool_ / ".").string()), "");
  EXPECT_EQ(spool.owned_file((spool_ / "sub" / "..").string()), "");
  EXPECT_EQ(spool.owned_file((spool_ / "real.json").string() + std::string(1, '\0') + "x"), "");
  // A spool directory that does not exist owns nothing.
  EXPECT_EQ(nat::Spool((root_ / "none").string()).owned_file((spool_ / "real.json").string()), "");
}
