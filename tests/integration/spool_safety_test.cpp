// Which files a resubmit may delete, through the C ABI of the real plugins:
// only files of the configured spool directory. A collection kept anywhere
// else (named directly, through "..", or through a symlink in the spool) is
// submitted as a copy and never deleted. And the JSONL export never
// replaces an existing dataset. Against the dialect-0.4 reference server
// (the spool rules do not depend on the dialect); about 10 s.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "plugin_api.h"
#include "reference_server.h"

using nat::testing::Adapter;
using nat::testing::CallResult;
using nat::testing::PluginApi;
using nat::testing::read_file;
using nat::testing::ReferenceServer;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const PluginApi &art_api() { return PluginApi::art_plugin(); }

const PluginApi &export_api() {
  static const PluginApi api = [] {
    const char *path = std::getenv("NAT_EXPORT_PLUGIN");
    return PluginApi::open(path ? path : "libnat_trainer_adapter_jsonl_export.so");
  }();
  return api;
}

std::string collection(const std::string &run_id) {
  json group = json::array();
  for (int i = 0; i < 2; ++i)
    group.push_back(
        {{"episode",
          {{{"role", "user"}, {"content", "Your move?"}},
           {{"role", "assistant"},
            {"content", "B2"},
            {"logprobs",
             {{"content",
               {{{"token", "token_id:7"}, {"logprob", -0.5}, {"top_logprobs", json::array()}}}}}}}}},
         {"reward", i}});
  return json{{"run_id", run_id}, {"trajectories", {group}}}.dump();
}

void write_file(const fs::path &p, const std::string &bytes) { std::ofstream(p, std::ios::binary) << bytes; }

class SpoolSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ReferenceServer>("0.4");
    std::string why;
    if (!server_->available(&why)) GTEST_SKIP() << why;
    server_->start();
    dir_ = fs::path(server_->data_dir());
    spool_ = dir_ / "spool";
    fs::create_directories(dir_ / "mine");
  }

  std::unique_ptr<Adapter> ready_adapter(json native = json::object()) {
    if (!native.contains("spool_dir")) native["spool_dir"] = spool_.string();
    native["retry_backoff_s"] = 0.05;
    json config = {{"_type", "openpipe_art_trainer_adapter"},
                   {"backend", {{"ip", "127.0.0.1"}, {"port", server_->control_port()}}},
                   {"native", native}};
    auto a = std::make_unique<Adapter>(art_api(), config);
    CallResult r = a->initialize();
    EXPECT_TRUE(r.ok()) << r.message;
    return a;
  }

  // Resubmits `path`, waits, and returns the final status (completed).
  json resubmit_to_completion(Adapter &a, const std::string &path) {
    CallResult ref = a.resubmit(path);
    EXPECT_TRUE(ref.ok()) << ref.message;
    if (!ref.ok()) return json::object();
    json status = a.wait(ref.out.value()).json();
    EXPECT_EQ(status["status"], "completed") << status.dump();
    return status;
  }

  std::unique_ptr<ReferenceServer> server_;
  fs::path dir_, spool_;
};

TEST_F(SpoolSafety, AFileOutsideTheSpoolIsTrainedFromACopyAndKept) {
  auto a = ready_adapter();
  const fs::path mine = dir_ / "mine" / "collection.json";
  const std::string bytes = collection("outside");
  write_file(mine, bytes);
  json done = resubmit_to_completion(*a, mine.string());
  EXPECT_EQ(read_file(mine), bytes);  // still there, unchanged
  // The job's spool file was a copy in the spool, removed once trained.
  const std::string copy = done["metadata"].value("spool_file", "");
  EXPECT_EQ(fs::path(copy).parent_path(), spool_) << done.dump();
  EXPECT_NE(copy, mine.string());
  EXPECT_EQ(done["metadata"]["spool_file_removed"], true);
  EXPECT_FALSE(fs::exists(copy));
  EXPECT_EQ(server_->requests_to("/_train_model").size(), 1u);
}

TEST_F(SpoolSafety, DotDotAndSymlinksDoNotLeadOutOfTheSpool) {
  auto a = ready_adapter();
  fs::create_directories(spool_);
  const fs::path mine = dir_ / "mine" / "collection.json";
  const std::string bytes = collection("sneaky");
  write_file(mine, bytes);
  // "<spool>/../mine/collection.json"
  resubmit_to_completion(*a, (spool_ / ".." / "mine" / "collection.json").string());
  EXPECT_EQ(read_file(mine), bytes);
  // A symlink in the spool directory to the user's file.
  fs::create_symlink(mine, spool_ / "link.json");
  resubmit_to_completion(*a, (spool_ / "link.json").string());
  EXPECT_EQ(read_file(mine), bytes);
  EXPECT_TRUE(fs::is_symlink(spool_ / "link.json"));
  // A directory symlink in the spool that leads out of it.
  fs::create_directory_symlink(dir_ / "mine", spool_ / "elsewhere");
  resubmit_to_completion(*a, (spool_ / "elsewhere" / "collection.json").string());
  EXPECT_EQ(read_file(mine), bytes);
  // A spool directory configured as a path through a symlink owns the
  // files of its target, and only those.
  fs::create_directory_symlink(spool_, dir_ / "spool-link");
  auto b = ready_adapter({{"spool_dir", (dir_ / "spool-link").string()}});
  resubmit_to_completion(*b, mine.string());
  EXPECT_EQ(read_file(mine), bytes);
}

TEST_F(SpoolSafety, WithSpoolingOffNothingIsCopiedOrDeleted) {
  auto a = ready_adapter({{"spool", false}});
  const fs::path mine = dir_ / "mine" / "collection.json";
  write_file(mine, collection("unspooled"));
  json done = resubmit_to_completion(*a, mine.string());
  EXPECT_TRUE(fs::exists(mine));
  EXPECT_FALSE(done["metadata"].contains("spool_file")) << done.dump();
  EXPECT_FALSE(fs::exists(spool_));
}

TEST_F(SpoolSafety, FilesOfTheSpoolAreStillRemovedOnceTrained) {
  auto a = ready_adapter();
  fs::create_directories(spool_);
  // Named any way that resolves into the spool: directly, through "..",
  // relative to the working directory is covered by the unit tests.
  for (const char *name : {"a.json", "b.json"})
    write_file(spool_ / name, collection(std::string("spooled-") + name));
  json first = resubmit_to_completion(*a, (spool_ / "a.json").string());
  EXPECT_EQ(first["metadata"]["spool_file"], (spool_ / "a.json").string());
  EXPECT_FALSE(fs::exists(spool_ / "a.json"));
  fs::create_directories(dir_ / "sub");
  resubmit_to_completion(*a, (dir_ / "sub" / ".." / "spool" / "b.json").string());
  EXPECT_FALSE(fs::exists(spool_ / "b.json"));
}

// --- the JSONL export ---------------------------------------------------------

std::unique_ptr<Adapter> export_adapter(const fs::path &out) {
  auto a = std::make_unique<Adapter>(
      export_api(), json{{"_type", "jsonl_export_trainer_adapter"}, {"output_dir", out.string()}});
  CallResult r = a->initialize();
  EXPECT_TRUE(r.ok()) << r.message;
  return a;
}

json export_to_completion(Adapter &a, const std::string &collection_json) {
  CallResult ref = a.submit(collection_json);
  EXPECT_TRUE(ref.ok()) << ref.message;
  if (!ref.ok()) return json::object();
  json status = a.wait(ref.out.value()).json();
  EXPECT_EQ(status["status"], "completed") << status.dump();
  return status;
}

class ExportNaming : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nat-export-naming-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::set<std::string> datasets() const {
    std::set<std::string> names;
    for (const auto &e : fs::directory_iterator(dir_ / "out"))
      if (e.path().extension() == ".jsonl") names.insert(e.path().filename().string());
    return names;
  }
  fs::path dir_;
};

TEST_F(ExportNaming, AdaptersExportingOneRunIdLeaveOneDatasetEach) {
  // Job ids restart at 1 in every adapter; NAT uses one run_id for every epoch.
  auto first = export_adapter(dir_ / "out");
  auto second = export_adapter(dir_ / "out");
  std::thread t([&] { export_to_completion(*second, collection("epochs")); });
  json a = export_to_completion(*first, collection("epochs"));
  t.join();
  json b = export_to_completion(*first, collection("epochs"));
  auto names = datasets();
  EXPECT_EQ(names.size(), 3u);
  for (const auto &name : names) {
    EXPECT_EQ(name.rfind("epochs.", 0), 0u) << name;
    EXPECT_EQ(read_file(dir_ / "out" / name).empty(), false);
  }
  EXPECT_NE(a["metadata"]["dataset"], b["metadata"]["dataset"]);
}

TEST_F(ExportNaming, AnExistingFileIsNeverReplaced) {
  // Every name the next export of job 1 could take in the coming 3 s, taken
  // already (the final name and its temporary .partial): the export must
  // move on to another name and leave each of them as it was.
  fs::create_directories(dir_ / "out");
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::string pid = std::to_string(::getpid());
  for (long long ms = now - 10; ms < now + 3000; ++ms) {
    const std::string base = "taken." + std::to_string(ms) + "." + pid + ".1.jsonl";
    write_file(dir_ / "out" / base, "precious\n");
    if (ms % 2 == 0) write_file(dir_ / "out" / (base + ".partial"), "precious\n");
  }
  const size_t before = datasets().size();
  auto a = export_adapter(dir_ / "out");
  json done = export_to_completion(*a, collection("taken"));
  const std::string dataset = done["metadata"].value("dataset", "");
  ASSERT_FALSE(dataset.empty()) << done.dump();
  EXPECT_NE(read_file(dataset), "precious\n");
  EXPECT_EQ(datasets().size(), before + 1);
  size_t intact = 0;
  for (const auto &e : fs::directory_iterator(dir_ / "out"))
    if (e.path() != fs::path(dataset)) intact += read_file(e.path()) == "precious\n";
  EXPECT_EQ(intact, before + (3010 / 2));
}

TEST_F(ExportNaming, ALongRunIdStillGivesAValidFileName) {
  auto a = export_adapter(dir_ / "out");
  json done = export_to_completion(*a, collection(std::string(1000, 'r') + "/../x"));
  const std::string name = fs::path(done["metadata"].value("dataset", "")).filename().string();
  EXPECT_EQ(name.rfind(std::string(120, 'r') + ".", 0), 0u) << name;
  EXPECT_LE(name.size(), 255u);
}

TEST_F(ExportNaming, ExportResubmitReadsTheFileAndNeverDeletesIt) {
  const fs::path mine = dir_ / "collection.json";
  write_file(mine, collection("kept"));
  auto a = export_adapter(dir_ / "out");
  CallResult ref = a->resubmit(mine.string());
  ASSERT_TRUE(ref.ok()) << ref.message;
  EXPECT_EQ(a->wait(ref.out.value()).json()["status"], "completed");
  EXPECT_TRUE(fs::exists(mine));
  EXPECT_EQ(datasets().size(), 1u);
}

}  // namespace
