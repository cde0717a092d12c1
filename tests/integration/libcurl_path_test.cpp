// native.libcurl_path through the C ABI: the named file is the libcurl the
// plugin loads (a copy of the system's under another name works; a missing
// file or a library that is not libcurl gives an error naming the file, where
// the search would have found libcurl.so.4), a bare name is refused, and one
// libcurl per process: a second adapter naming another file fails at create.
// libcurl is loaded once per plugin instance, so each case loads its own copy
// of the plugin file (dlopen of a different file is a fresh instance). The
// ART cases run against the dialect-0.4 reference server, the NeMo
// Customizer's against the NeMo reference server. About 3 s.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "child_server.h"
#include "plugin_api.h"
#include "reference_server.h"

namespace nat::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string env(const char *name, const std::string &fallback = "") {
  const char *v = std::getenv(name);
  return v ? v : fallback;
}

// The file the dynamic loader finds for libcurl.so.4.
fs::path system_libcurl() {
  void *handle = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return {};
  Dl_info info{};
  void *symbol = ::dlsym(handle, "curl_version");
  if (symbol == nullptr || ::dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return {};
  return fs::canonical(info.dli_fname);
}

class LibcurlPath : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nat-libcurl-path-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "curl");
    const fs::path libcurl = system_libcurl();
    ASSERT_FALSE(libcurl.empty()) << "no libcurl.so.4 on this system";
    // Under a name the search never looks for.
    copy_ = dir_ / "curl" / "libcurl-copy.so";
    fs::copy_file(libcurl, copy_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A fresh instance of a plugin: its own copy of the file.
  const PluginApi &fresh(const char *variable) {
    const fs::path copy = dir_ / ("plugin-" + std::to_string(++plugins_) + ".so");
    fs::copy_file(env(variable), copy);
    apis_.push_back(std::make_unique<PluginApi>(PluginApi::open(copy.string())));
    return *apis_.back();
  }

  Json art_config(int port, const Json &native = Json::object()) const {
    Json n = {{"spool_dir", (dir_ / "spool").string()}};
    n.merge_patch(native);
    return {{"_type", "openpipe_art_trainer_adapter"},
            {"backend", {{"ip", "127.0.0.1"}, {"port", port}, {"name", "m"}, {"project", "p"}}},
            {"native", n}};
  }

  static CallResult create(const PluginApi &api, const Json &config) {
    const std::string text = config.dump();
    nat_trainer_adapter *handle = nullptr;
    CallResult r;
    if (nat_trainer_adapter_error *e = api.create(text.data(), text.size(), &handle)) {
      r.code = api.error_code(e);
      r.message = api.error_message(e);
      api.error_free(e);
    }
    api.destroy(handle);
    return r;
  }

  fs::path dir_;
  fs::path copy_;
  int plugins_ = 0;
  std::vector<std::unique_ptr<PluginApi>> apis_;
};

class ArtLibcurlPath : public LibcurlPath {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<ReferenceServer>("0.4");
    std::string why;
    if (server_->available(&why)) {
      server_->start();
    } else {
      skip_ = why;
      server_.reset();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    if (!server_) GTEST_SKIP() << skip_;
    LibcurlPath::SetUp();
  }
  const PluginApi &art() { return fresh("NAT_TRAINER_ADAPTER_PLUGIN"); }
  int port() const { return server_->control_port(); }

  static std::unique_ptr<ReferenceServer> server_;
  static std::string skip_;
};
std::unique_ptr<ReferenceServer> ArtLibcurlPath::server_;
std::string ArtLibcurlPath::skip_;

TEST_F(ArtLibcurlPath, TheNamedFileIsTheLibcurlUsed) {
  const PluginApi &api = art();
  Adapter a(api, art_config(port(), {{"libcurl_path", copy_.string()}}));
  CallResult r = a.initialize();
  ASSERT_TRUE(r.ok()) << r.message;
  int32_t healthy = 0;
  ASSERT_TRUE(a.is_healthy(&healthy).ok());
  EXPECT_EQ(healthy, 1);
  // The file stays mapped from where it was named.
  std::ifstream maps("/proc/self/maps");
  std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(copy_.string()), std::string::npos);
}

TEST_F(ArtLibcurlPath, AMissingFileIsNamedNotSearchedAround) {
  const fs::path missing = dir_ / "nowhere" / "libcurl.so.4";
  Adapter a(art(), art_config(port(), {{"libcurl_path", missing.string()}}));
  CallResult r = a.initialize();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_UNAVAILABLE) << r.message;
  EXPECT_NE(r.message.find(missing.string() + " could not be loaded"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("No such file"), std::string::npos) << r.message;
}

TEST_F(ArtLibcurlPath, AFileThatIsNotLibcurl) {
  const fs::path empty = dir_ / "curl" / "empty.so";
  std::ofstream(empty).close();
  Adapter a(art(), art_config(port(), {{"libcurl_path", empty.string()}}));
  CallResult r = a.initialize();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message.find(empty.string() + " could not be loaded"), std::string::npos) << r.message;

  // A shared library, but not libcurl.
  Adapter b(art(), art_config(port(), {{"libcurl_path", env("NAT_EXPORT_PLUGIN")}}));
  r = b.initialize();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message.find(env("NAT_EXPORT_PLUGIN") + " could not be loaded: it has no curl_global_init"),
            std::string::npos)
      << r.message;
}

TEST_F(ArtLibcurlPath, ABareNameOrControlCharacterIsRefusedAtCreate) {
  const PluginApi &api = art();
  for (const std::string bad : {"libcurl.so.4", "", "/lib/libcurl\n.so"}) {
    CallResult r = create(api, art_config(port(), {{"libcurl_path", bad}}));
    EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_INVALID_ARGUMENT) << bad;
    EXPECT_NE(r.message.find("native.libcurl_path"), std::string::npos) << r.message;
  }
}

TEST_F(ArtLibcurlPath, OneLibcurlPerProcess) {
  const PluginApi &api = art();
  const fs::path other = dir_ / "curl" / "libcurl-other.so";
  fs::copy_file(copy_, other);
  Adapter first(api, art_config(port(), {{"libcurl_path", copy_.string()}}));
  // The same file again, and an adapter naming none: both fine.
  EXPECT_TRUE(create(api, art_config(port(), {{"libcurl_path", copy_.string()}})).ok());
  Adapter searching(api, art_config(port()));
  // Another file, before anything was loaded: refused, naming both.
  CallResult r = create(api, art_config(port(), {{"libcurl_path", other.string()}}));
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
  EXPECT_NE(r.message.find(other.string()), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("another adapter in this process chose " + copy_.string()), std::string::npos)
      << r.message;
  // The adapter that named none uses the chosen file.
  ASSERT_TRUE(searching.initialize().ok());
  r = create(api, art_config(port(), {{"libcurl_path", other.string()}}));
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
  EXPECT_NE(r.message.find("already loaded in this process from " + copy_.string()), std::string::npos)
      << r.message;
}

TEST_F(ArtLibcurlPath, AfterTheSearchLoadedLibcurl) {
  const PluginApi &api = art();
  Adapter searching(api, art_config(port()));
  ASSERT_TRUE(searching.initialize().ok());
  CallResult r = create(api, art_config(port(), {{"libcurl_path", copy_.string()}}));
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
  EXPECT_NE(r.message.find("from the search for libcurl.so.4"), std::string::npos) << r.message;
}

// The NeMo Customizer plugin reads the same option.
class CustomizerLibcurlPath : public LibcurlPath {
 protected:
  void SetUp() override {
    const std::string python = env("NEMO_SERVER_PYTHON");
    if (!fs::exists(python)) GTEST_SKIP() << "no NeMo server interpreter at " << python;
    LibcurlPath::SetUp();
    server_ = std::make_unique<ChildServer>(std::vector<std::string>{python, env("NEMO_SERVER_SCRIPT")});
  }
  Json config(const Json &native) const {
    const std::string base = "http://127.0.0.1:" + std::to_string(server_->port());
    return {{"_type", "nemo_customizer_trainer_adapter"},
            {"entity_host", base},
            {"datastore_host", base},
            {"hf_token", "t"},
            {"namespace", "nat-test"},
            {"customization_config", "meta/llama-3.2-1b-instruct@v1.0.0+A100"},
            {"native", native}};
  }
  std::unique_ptr<ChildServer> server_;
};

TEST_F(CustomizerLibcurlPath, HealthThroughTheNamedFileAndOnePerProcess) {
  const PluginApi &api = fresh("NAT_CUSTOMIZER_PLUGIN");
  Adapter a(api, config({{"libcurl_path", copy_.string()}}));
  int32_t healthy = 0;
  ASSERT_TRUE(a.is_healthy(&healthy).ok());
  EXPECT_EQ(healthy, 1);
  CallResult r = create(api, config({{"libcurl_path", (dir_ / "curl" / "other.so").string()}}));
  EXPECT_EQ(r.code, NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
  EXPECT_NE(r.message.find(copy_.string()), std::string::npos) << r.message;

  // A missing file: the services cannot be reached through it.
  Adapter b(fresh("NAT_CUSTOMIZER_PLUGIN"), config({{"libcurl_path", (dir_ / "missing.so").string()}}));
  ASSERT_TRUE(b.is_healthy(&healthy).ok());
  EXPECT_EQ(healthy, 0);
}

}  // namespace
}  // namespace nat::testing
