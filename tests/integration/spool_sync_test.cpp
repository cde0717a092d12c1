// The spool file's sync runs beside the upload, never ahead of it and never
// after the job's end: through the C ABI of the real ART plugin against the
// dialect-0.4 reference server. This executable exports its own fsync and
// send (export_dynamic), which the plugin and libcurl bind to: fsync of a
// file of the test's spool directory can be held or made to fail, and the
// first bytes of every POST /_train_model are checked against the spool
// directory at the moment they are sent. About 5 s.
#include <dirent.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
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
using Clock = std::chrono::steady_clock;

namespace hook {

std::mutex mu;
std::condition_variable cv;
std::string spool_dir;  // canonical; "" = every fsync passes straight through
bool hold = false;      // fsync of a spool file blocks while set (10 s at most)
bool hold_timed_out = false;
int fail_errno = 0;  // fsync of a spool file fails with this (after the hold)
int file_syncs_entered = 0;
int file_syncs_returned = 0;
int dir_syncs = 0;
// The spool directory (name -> size) when each POST /_train_model started.
std::vector<std::map<std::string, long long>> at_train_requests;

std::string fd_path(int fd) {
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::map<std::string, long long> list_spool(const std::string &dir) {
  std::map<std::string, long long> files;
  DIR *d = ::opendir(dir.c_str());
  if (!d) return files;
  while (dirent *e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    files[name] = ::stat((dir + "/" + name).c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
  }
  ::closedir(d);
  return files;
}

void reset(const std::string &dir) {
  std::lock_guard<std::mutex> lock(mu);
  spool_dir = dir;
  hold = false;
  hold_timed_out = false;
  fail_errno = 0;
  file_syncs_entered = file_syncs_returned = dir_syncs = 0;
  at_train_requests.clear();
}

void release() {
  std::lock_guard<std::mutex> lock(mu);
  hold = false;
  cv.notify_all();
}

}  // namespace hook

extern "C" int fsync(int fd) {
  static auto real = reinterpret_cast<int (*)(int)>(::dlsym(RTLD_NEXT, "fsync"));
  std::string path = hook::fd_path(fd);
  bool spool_file = false;
  {
    std::unique_lock<std::mutex> lock(hook::mu);
    if (!hook::spool_dir.empty() && path == hook::spool_dir) ++hook::dir_syncs;
    spool_file = !hook::spool_dir.empty() && path.rfind(hook::spool_dir + "/", 0) == 0;
    if (spool_file) {
      ++hook::file_syncs_entered;
      hook::cv.notify_all();
      // Bounded: code that syncs where it should not (inside submit) must
      // fail the test, not hang it.
      if (!hook::cv.wait_for(lock, std::chrono::seconds(10), [] { return !hook::hold; }))
        hook::hold_timed_out = true;
      if (hook::fail_errno != 0) {
        ++hook::file_syncs_returned;
        hook::cv.notify_all();
        errno = hook::fail_errno;
        return -1;
      }
    }
  }
  int rc = real(fd);
  if (spool_file) {
    std::lock_guard<std::mutex> lock(hook::mu);
    ++hook::file_syncs_returned;
    hook::cv.notify_all();
  }
  return rc;
}

extern "C" ssize_t send(int fd, const void *buf, size_t len, int flags) {
  using Send = ssize_t (*)(int, const void *, size_t, int);
  static auto real = reinterpret_cast<Send>(::dlsym(RTLD_NEXT, "send"));
  static const char kTrain[] = "POST /_train_model ";
  if (len >= sizeof kTrain - 1 && std::memcmp(buf, kTrain, sizeof kTrain - 1) == 0) {
    std::lock_guard<std::mutex> lock(hook::mu);
    if (!hook::spool_dir.empty()) hook::at_train_requests.push_back(hook::list_spool(hook::spool_dir));
  }
  return real(fd, buf, len, flags);
}

namespace {

const PluginApi &art_api() { return PluginApi::art_plugin(); }

std::string collection(const std::string &run_id) {
  json groups = json::array();
  json token = {{"token", "token_id:7"}, {"logprob", -0.5}, {"top_logprobs", json::array()}};
  for (int g = 0; g < 3; ++g) {
    json group = json::array();
    for (int i = 0; i < 2; ++i)
      group.push_back({{"episode",
                        {{{"role", "user"}, {"content", "Your move?"}},
                         {{"role", "assistant"}, {"content", "B2"}, {"logprobs", {{"content", {token}}}}}}},
                       {"reward", i}});
    groups.push_back(group);
  }
  return json{{"run_id", run_id}, {"trajectories", groups}}.dump();
}

class SpoolSync : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ReferenceServer>("0.4");
    std::string why;
    if (!server_->available(&why)) GTEST_SKIP() << why;
    server_->start();
    spool_ = fs::canonical(server_->data_dir()) / "spool";
    fs::create_directories(spool_);
    hook::reset(spool_.string());
  }
  void TearDown() override {
    hook::release();
    hook::reset("");
  }

  std::unique_ptr<Adapter> ready_adapter() {
    json config = {{"_type", "openpipe_art_trainer_adapter"},
                   {"backend", {{"ip", "127.0.0.1"}, {"port", server_->control_port()}}},
                   {"native", {{"spool_dir", spool_.string()}, {"retry_backoff_s", 0.05}}}};
    auto a = std::make_unique<Adapter>(art_api(), config);
    CallResult r = a->initialize();
    EXPECT_TRUE(r.ok()) << r.message;
    return a;
  }

  // Waits (at most 30 s) until `pred` holds under hook::mu.
  template <class P>
  static bool wait_hook(P pred) {
    std::unique_lock<std::mutex> lock(hook::mu);
    return hook::cv.wait_for(lock, std::chrono::seconds(30), pred);
  }

  // The /_train_model request, once the server has answered it to its end (at most 30 s).
  json train_request_answered() {
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      auto reqs = server_->requests_to("/_train_model");
      if (!reqs.empty() && reqs.front().value("completed", false)) return reqs.front();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return json();
  }

  std::unique_ptr<ReferenceServer> server_;
  fs::path spool_;
};

TEST_F(SpoolSync, UploadRunsBesideTheSyncAndTheJobEndsOnlyAfterIt) {
  auto a = ready_adapter();
  const std::string bytes = collection("held-sync");
  {
    std::lock_guard<std::mutex> lock(hook::mu);
    hook::hold = true;
  }
  // Released before the adapter goes (its destruction waits for the sync).
  struct Release {
    ~Release() { hook::release(); }
  } release_on_exit;
  auto submitted = Clock::now();
  CallResult ref = a->submit(bytes);
  ASSERT_TRUE(ref.ok()) << ref.message;
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - submitted).count(), 5.0)
      << "submit waited for the sync";
  ASSERT_TRUE(wait_hook([] { return hook::file_syncs_entered >= 1; })) << "the spool file was never synced";

  // While its sync is held, the file is whole under its final name.
  auto files = hook::list_spool(spool_.string());
  ASSERT_EQ(files.size(), 1u);
  const std::string name = files.begin()->first;
  EXPECT_EQ(name.find(".partial"), std::string::npos) << name;
  EXPECT_EQ(files.begin()->second, static_cast<long long>(bytes.size()));
  EXPECT_EQ(read_file(spool_ / name), bytes);

  // The upload does not wait for the sync: the server answers it in full...
  json train = train_request_answered();
  ASSERT_TRUE(train.is_object()) << "no /_train_model answered while the spool file's sync was held";
  EXPECT_GT(train.value("response_lines", 0), 0) << train.dump();
  // ... and the job, streamed to its end, still reports no terminal status.
  for (int i = 0; i < 20; ++i) {
    json st = a->status(ref.out.value()).json();
    ASSERT_EQ(st["status"], "running")
        << "a terminal status before the spool file's sync returned: " << st.dump();
    ASSERT_FALSE(st["metadata"].contains("spool_sync")) << st.dump();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(fs::exists(spool_ / name)) << "the spool file was removed before its sync returned";
  {
    std::lock_guard<std::mutex> lock(hook::mu);
    EXPECT_EQ(hook::file_syncs_returned, 0);
    EXPECT_FALSE(hook::hold_timed_out);
    // The first bytes of the request went out with the whole file in place.
    ASSERT_EQ(hook::at_train_requests.size(), 1u) << "the send hook never saw POST /_train_model";
    auto at_send = hook::at_train_requests.front();
    EXPECT_EQ(at_send.size(), 1u);
    EXPECT_EQ(at_send.count(name), 1u)
        << "the spool file was not under its final name when the request started";
    EXPECT_EQ(at_send[name], static_cast<long long>(bytes.size()));
  }

  hook::release();
  json done = a->wait(ref.out.value(), 0.05, 30).json();
  double held = std::chrono::duration<double>(Clock::now() - submitted).count();
  EXPECT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["metadata"]["spool_sync"], "ok") << done.dump();
  EXPECT_GE(done["metadata"].value("spool_sync_s", 0.0), 0.9) << done.dump();
  EXPECT_LE(done["metadata"].value("spool_sync_s", 0.0), held) << done.dump();
  EXPECT_EQ(done["metadata"]["spool_file_removed"], true);
  EXPECT_FALSE(fs::exists(spool_ / name));
  std::lock_guard<std::mutex> lock(hook::mu);
  EXPECT_EQ(hook::file_syncs_returned, 1);
  EXPECT_GE(hook::dir_syncs, 1) << "the spool directory (the rename) was never synced";
}

TEST_F(SpoolSync, AFailedSyncIsReportedAndTheFileKept) {
  server_->set_faults({{"fail", {{"/_train_model", {{"status", 500}, {"count", 1}}}}}});
  auto a = ready_adapter();
  const std::string bytes = collection("failed-sync");
  {
    std::lock_guard<std::mutex> lock(hook::mu);
    hook::fail_errno = EIO;
  }
  CallResult ref = a->submit(bytes);
  ASSERT_TRUE(ref.ok()) << ref.message;
  std::vector<json> events;
  for (int i = 0; i < 1000; ++i) {
    CallResult r = a->next_event(ref.out.value(), 30);
    ASSERT_TRUE(r.ok()) << r.message;
    if (!r.out) break;
    events.push_back(r.json());
    if (events.back().value("final", false)) break;
  }
  ASSERT_FALSE(events.empty());
  json done = a->status(ref.out.value()).json();
  EXPECT_EQ(done["status"], "failed") << done.dump();
  const std::string file = done["metadata"].value("spool_file", "");
  const std::string sync = done["metadata"].value("spool_sync", "");
  EXPECT_NE(sync.find("cannot sync " + file), std::string::npos) << done.dump();
  EXPECT_NE(sync.find(std::strerror(EIO)), std::string::npos) << done.dump();
  // A warning event, before the final one.
  bool warned = false;
  for (size_t i = 0; i + 1 < events.size(); ++i)
    if (events[i].value("type", "") == "warning" && events[i].value("code", "") == "spool_sync_failed") {
      warned = true;
      EXPECT_NE(events[i].value("message", "").find(file), std::string::npos) << events[i].dump();
    }
  EXPECT_TRUE(warned) << json(events).dump();
  EXPECT_EQ(events.back().value("final", false), true);
  // The failed job keeps its collection, whole, for a resubmit.
  EXPECT_EQ(read_file(file), bytes);
}

}  // namespace
