// The plugin's spool listing (nat_trainer_adapter_spooled's JSON) as
// `nat-trainer resubmit` reads and shows it.
#include "command_line/spool_listing.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "command_line/spool_table.h"

namespace nat::host {
namespace {

const nlohmann::json kReply = nlohmann::json::parse(R"({
  "spool_dir": "/s", "spool_dir_source": "config", "spooling": false, "exists": true,
  "collections": [
    {"path": "/s/mine.json", "state": "ready", "bytes": 2, "modified_unix_ns": 1000000000500000000},
    {"path": "/s/r.1700000000000.42.0.json.partial", "state": "partial", "bytes": 3000,
     "modified_unix_ns": 1500000000000000000, "run_id": "r", "submitted_unix_ms": 1700000000000,
     "writer_pid": 42, "writer_running": false},
    {"path": "/s/run_a.1700000000001.7.1.json", "state": "ready", "bytes": 5000000,
     "modified_unix_ns": 2000000000000000000, "run_id": "run_a", "submitted_unix_ms": 1700000000001,
     "writer_pid": 7, "writer_running": true}]})");

TEST(SpoolListing, ReadsThePluginsReplyAndSaysWhereTheDirectoryComesFrom) {
  const SpoolListing listing = read_spool_listing(kReply, "c.yml: trainer_adapters.a", "art");
  EXPECT_EQ(listing.directory, "/s");
  EXPECT_EQ(listing.origin, "c.yml: trainer_adapters.a: native.spool_dir");
  EXPECT_FALSE(listing.spooling);
  ASSERT_EQ(listing.files.size(), 3u);
  EXPECT_TRUE(listing.files[0].ready);
  EXPECT_EQ(listing.files[0].writer_pid, 0);
  EXPECT_EQ(listing.files[0].modified.tv_nsec, 500000000);
  EXPECT_FALSE(listing.files[1].ready);
  EXPECT_EQ(listing.files[2].run, "run_a");
  EXPECT_TRUE(listing.files[2].writer_running);

  nlohmann::json other = kReply;
  other["spool_dir_source"] = "argument";
  EXPECT_EQ(read_spool_listing(other, "c", "art").origin, "--spool-dir");
  other["spool_dir_source"] = "default";
  EXPECT_EQ(read_spool_listing(other, "c", "art").origin, "the default native.spool_dir of art");
  other.erase("exists");
  EXPECT_THROW(
      try { read_spool_listing(other, "c", "art"); } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("plugin art listed its spool in a form"), std::string::npos);
        throw;
      },
      std::runtime_error);
}

TEST(SpoolListing, ShowsATableAndJson) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  const SpoolListing listing = read_spool_listing(kReply, "c", "art");
  std::ostringstream table;
  print_spool_table(table, listing, "nat-trainer resubmit --config c.yml");
  const std::string text = table.str();
  EXPECT_NE(text.find("Spool directory: /s (c: native.spool_dir)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Note: native.spool is false"), std::string::npos) << text;
  EXPECT_NE(text.find("2001-09-09 01:46:40  2 B      ?      ?              /s/mine.json\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("4.8 MiB  run_a  pid 7 running  /s/run_a.1700000000001.7.1.json\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("2 collections not yet trained"), std::string::npos) << text;
  EXPECT_NE(text.find("  nat-trainer resubmit --config c.yml FILE...\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  /s/r.1700000000000.42.0.json.partial (2.9 KiB, 2017-07-14 02:40:00)\n"),
            std::string::npos)
      << text;

  std::ostringstream json_text;
  print_spool_json(json_text, listing);
  const nlohmann::json json = nlohmann::json::parse(json_text.str());
  EXPECT_EQ(json["origin"], "c: native.spool_dir");
  ASSERT_EQ(json["files"].size(), 2u);
  ASSERT_EQ(json["incomplete"].size(), 1u);
  EXPECT_FALSE(json["files"][0].contains("run"));
  EXPECT_EQ(json["files"][1]["run"], "run_a");
  EXPECT_EQ(json["files"][1]["writer_running"], true);
  EXPECT_EQ(json["incomplete"][0]["writer_pid"], 42);
  EXPECT_EQ(json["files"][0]["modified"], "2001-09-09T01:46:40+0000");
  EXPECT_DOUBLE_EQ(json["files"][0]["modified_unix"].get<double>(), 1000000000.5);

  SpoolListing missing;
  missing.directory = "/none";
  missing.origin = "--spool-dir";
  std::ostringstream none;
  print_spool_table(none, missing, "x");
  EXPECT_EQ(none.str(),
            "Spool directory: /none (--spool-dir)\nIt does not exist: nothing has been spooled there.\n");
}

TEST(SpoolListing, FindsAFileThroughDotDotAndSymlinks) {
  char pattern[] = "/tmp/nat-spool-listing-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::filesystem::path root = std::filesystem::canonical(pattern);
  std::filesystem::create_directories(root / "spool" / "sub");
  std::ofstream(root / "spool" / "a.json") << "{}";
  std::filesystem::create_directory_symlink(root / "spool", root / "link");
  SpoolListing listing;
  listing.files.emplace_back();
  listing.files[0].path = root / "spool" / "a.json";
  EXPECT_EQ(find_spooled(listing, root / "spool" / "sub" / ".." / "a.json"), &listing.files[0]);
  EXPECT_EQ(find_spooled(listing, root / "link" / "a.json"), &listing.files[0]);
  EXPECT_EQ(find_spooled(listing, root / "spool" / "b.json"), nullptr);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace nat::host
