// libcurl loaded on first use (http/curl_library.h): the built plugin has no
// DT_NEEDED on libcurl, loading it and creating an adapter leaves libcurl
// unmapped, the first request maps it; and the forwarding functions pass
// every argument type through to the real libcurl. On Windows (the MinGW-w64
// build, run under Wine) the same with LoadLibrary, the loaded modules and a
// new process instead of a forked one.
#include "http/curl_library.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <nat/trainer_adapter.h>
#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
// After winsock2.h.
#include <windows.h>
#else
#include <arpa/inet.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string plugin_path() {
  const char *path = std::getenv("NAT_ART_PLUGIN");
  return path ? path : "";
}

#ifdef _WIN32
// dlopen and dlsym as load_create_then_request calls them.
constexpr int RTLD_NOW = 0, RTLD_LOCAL = 0;
void *dlopen(const char *path, int) { return reinterpret_cast<void *>(::LoadLibraryA(path)); }
void *dlsym(void *handle, const char *name) {
  return reinterpret_cast<void *>(::GetProcAddress(reinterpret_cast<HMODULE>(handle), name));
}

// The names http/curl_library.cpp loads.
bool libcurl_mapped() {
  for (const wchar_t *name : {L"libcurl-x64.dll", L"libcurl.dll", L"libcurl-4.dll"}) {
    if (::GetModuleHandleW(name) != nullptr) return true;
  }
  return false;
}

// Runs `body` in a new process (one without libcurl, whatever the other tests
// did): this program again, running only the current test, with
// NAT_TEST_CHILD set; the child's exit code is its verdict: 0 or the number
// of the failed step.
int in_child(int (*body)()) {
  if (std::getenv("NAT_TEST_CHILD") != nullptr) std::_Exit(body());
  char program[MAX_PATH];
  const DWORD n = ::GetModuleFileNameA(nullptr, program, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return 200;
  const ::testing::TestInfo *test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string command =
      std::string("\"") + program + "\" --gtest_filter=" + test->test_suite_name() + "." + test->name();
  STARTUPINFOA startup{};
  startup.cb = sizeof startup;
  PROCESS_INFORMATION process{};
  ::SetEnvironmentVariableA("NAT_TEST_CHILD", "1");
  const BOOL started = ::CreateProcessA(program, command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr,
                                        &startup, &process);
  ::SetEnvironmentVariableA("NAT_TEST_CHILD", nullptr);
  if (!started) return 201;
  ::WaitForSingleObject(process.hProcess, INFINITE);
  DWORD code = 202;
  ::GetExitCodeProcess(process.hProcess, &code);
  ::CloseHandle(process.hThread);
  ::CloseHandle(process.hProcess);
  return static_cast<int>(code);
}

using Socket = SOCKET;
void close_socket(Socket s) { ::closesocket(s); }
constexpr int kSendFlags = 0;
#else
// DT_NEEDED entries of a 64-bit ELF file, from its SHT_DYNAMIC section.
std::vector<std::string> needed_libraries(const std::string &file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  std::string bytes(static_cast<size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::vector<std::string> needed;
  if (bytes.size() < sizeof(Elf64_Ehdr) || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0 ||
      bytes[EI_CLASS] != ELFCLASS64) {
    ADD_FAILURE() << file << " is not a 64-bit ELF file";
    return needed;
  }
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof header);
  auto section = [&](size_t index) {
    Elf64_Shdr s;
    std::memcpy(&s, bytes.data() + header.e_shoff + index * header.e_shentsize, sizeof s);
    return s;
  };
  for (size_t i = 0; i < header.e_shnum; ++i) {
    const Elf64_Shdr dynamic = section(i);
    if (dynamic.sh_type != SHT_DYNAMIC) continue;
    const Elf64_Shdr strings = section(dynamic.sh_link);
    for (size_t off = 0; off + sizeof(Elf64_Dyn) <= dynamic.sh_size; off += sizeof(Elf64_Dyn)) {
      Elf64_Dyn entry;
      std::memcpy(&entry, bytes.data() + dynamic.sh_offset + off, sizeof entry);
      if (entry.d_tag == DT_NULL) break;
      if (entry.d_tag == DT_NEEDED) needed.emplace_back(bytes.data() + strings.sh_offset + entry.d_un.d_val);
    }
  }
  return needed;
}

bool libcurl_mapped() {
  bool found = false;
  ::dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *data) {
        if (info->dlpi_name && std::strstr(info->dlpi_name, "libcurl")) *static_cast<bool *>(data) = true;
        return 0;
      },
      &found);
  return found;
}

// Runs `body` in a forked child (a process without libcurl, whatever the
// other tests did); the child's exit status is its verdict: 0 or the number
// of the failed step.
int in_child(int (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

using Socket = int;
void close_socket(Socket s) { ::close(s); }
constexpr int kSendFlags = MSG_NOSIGNAL;
#endif

TEST(ArtPluginLibcurl, HasNoDtNeededOnLibcurl) {
#ifdef _WIN32
  GTEST_SKIP() << "ELF's DT_NEEDED; on Windows LoadedAtTheFirstRequestNotAtLoadOrCreate shows that "
                  "loading the DLL loads no libcurl";
#else
  const std::string plugin = plugin_path();
  if (plugin.empty()) GTEST_SKIP() << "NAT_ART_PLUGIN is not set";
  const std::vector<std::string> needed = needed_libraries(plugin);
  ASSERT_FALSE(needed.empty());
  std::string all;
  for (const auto &name : needed) all += name + " ";
  for (const auto &name : needed) EXPECT_EQ(name.find("libcurl"), std::string::npos) << all;
#endif
}

// dlopen + create leave libcurl unmapped; the first request (is_healthy, to a
// port nobody listens on) maps it.
int load_create_then_request() {
  if (libcurl_mapped()) return 1;
  void *handle = ::dlopen(plugin_path().c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return 2;
  auto create =
      reinterpret_cast<decltype(&nat_trainer_adapter_create)>(::dlsym(handle, "nat_trainer_adapter_create"));
  auto destroy = reinterpret_cast<decltype(&nat_trainer_adapter_destroy)>(
      ::dlsym(handle, "nat_trainer_adapter_destroy"));
  auto healthy = reinterpret_cast<decltype(&nat_trainer_adapter_is_healthy)>(
      ::dlsym(handle, "nat_trainer_adapter_is_healthy"));
  auto error_free = reinterpret_cast<decltype(&nat_trainer_adapter_error_free)>(
      ::dlsym(handle, "nat_trainer_adapter_error_free"));
  if (!create || !destroy || !healthy || !error_free) return 3;
  if (libcurl_mapped()) return 4;
  const std::string config =
      R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"127.0.0.1","port":1},)"
      R"("native":{"connect_timeout_s":2,"request_timeout_s":2}})";
  nat_trainer_adapter *adapter = nullptr;
  if (nat_trainer_adapter_error *e = create(config.data(), config.size(), &adapter)) {
    error_free(e);
    return 5;
  }
  if (libcurl_mapped()) return 6;
  int32_t is_healthy = 1;
  if (nat_trainer_adapter_error *e = healthy(adapter, &is_healthy)) {
    error_free(e);
    return 7;
  }
  if (is_healthy != 0) return 8;
  if (!libcurl_mapped()) return 9;
  destroy(adapter);
  return 0;
}

TEST(ArtPluginLibcurl, LoadedAtTheFirstRequestNotAtLoadOrCreate) {
  if (plugin_path().empty()) GTEST_SKIP() << "NAT_ART_PLUGIN is not set";
  EXPECT_EQ(in_child(load_create_then_request), 0) << "see the step numbers in load_create_then_request";
}

// curl_global_init only records its flags; the library is loaded by the
// first call that needs it.
int global_init_is_deferred() {
  if (libcurl_mapped() || nat::http::libcurl_loaded()) return 1;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 2;
  if (libcurl_mapped() || nat::http::libcurl_loaded()) return 3;
  CURL *handle = curl_easy_init();
  if (handle == nullptr) return 4;
  if (!libcurl_mapped() || !nat::http::libcurl_loaded()) return 5;
  curl_easy_cleanup(handle);
  std::string why;
  if (!nat::http::load_libcurl(&why) || !why.empty()) return 6;
  return 0;
}

TEST(CurlLibrary, GlobalInitIsDeferredToTheFirstHandle) { EXPECT_EQ(in_child(global_init_is_deferred), 0); }

// A one-request HTTP server on a free loopback port.
class OneShotServer {
 public:
  OneShotServer() {
#ifdef _WIN32
    WSADATA data;
    if (::WSAStartup(MAKEWORD(2, 2), &data) != 0) ADD_FAILURE() << "WSAStartup failed";
#endif
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on the loopback interface";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    // A test that failed before its request leaves serve() in accept: one
    // empty connection ends it, rather than hanging the test.
    if (thread_.joinable() && port_ != 0) {
      Socket poke = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<uint16_t>(port_));
      (void)::connect(poke, reinterpret_cast<sockaddr *>(&address), sizeof address);
      close_socket(poke);
    }
    if (thread_.joinable()) thread_.join();
    close_socket(listener_);
  }
  int port() const { return port_; }
  // The request as received (headers and body); valid after the transfer.
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void serve() {
    Socket connection = ::accept(listener_, nullptr, nullptr);
    if (connection == static_cast<Socket>(-1)) return;
    char buffer[4096];
    size_t expected = std::string::npos;
    while (expected == std::string::npos || request_.size() < expected) {
      const auto n = ::recv(connection, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request_.append(buffer, static_cast<size_t>(n));
      size_t end = request_.find("\r\n\r\n");
      if (expected == std::string::npos && end != std::string::npos) {
        size_t body = 0;
        size_t at = request_.find("Content-Length: ");
        if (at != std::string::npos && at < end) body = std::strtoul(request_.c_str() + at + 16, nullptr, 10);
        expected = end + 4 + body;
      }
    }
    const std::string answer = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    (void)::send(connection, answer.data(), static_cast<int>(answer.size()), kSendFlags);
    close_socket(connection);
  }

  Socket listener_ = static_cast<Socket>(-1);
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

size_t append_to_string(char *data, size_t size, size_t count, void *user) {
  static_cast<std::string *>(user)->append(data, size * count);
  return size * count;
}

// Each option type range reaches libcurl with its value: long (timeouts,
// POST), object pointers (URL, WRITEDATA, POSTFIELDS, slist), function
// pointers (WRITEFUNCTION), curl_off_t (POSTFIELDSIZE_LARGE: only 3 of the 6
// bytes are sent), and curl_easy_getinfo fills long, string, double and
// curl_off_t results.
TEST(CurlLibrary, ForwardsEveryOptionAndInfoType) {
  OneShotServer server;
  ASSERT_NE(server.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/echo";
  CURL *handle = curl_easy_init();
  ASSERT_NE(handle, nullptr);
  EXPECT_TRUE(nat::http::libcurl_loaded());
  std::string body;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_slist *headers = curl_slist_append(nullptr, "X-Nat-Test: forwarded");
  ASSERT_NE(headers, nullptr);
  const char post_data[] = "abcdef";
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_URL, url.c_str()), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 10000L), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_to_string), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_POST, 1L), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_POSTFIELDS, post_data), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(3)), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https"), CURLE_OK);
  // A blob option (the 40000 range) reaches libcurl too: it either takes it or
  // says its TLS backend lacks it, but never that the option is unknown.
  struct curl_blob blob = {const_cast<char *>("not a certificate"), 17, CURL_BLOB_COPY};
  const CURLcode blob_rc = curl_easy_setopt(handle, CURLOPT_SSLCERT_BLOB, &blob);
  EXPECT_TRUE(blob_rc == CURLE_OK || blob_rc == CURLE_NOT_BUILT_IN) << blob_rc;
  EXPECT_EQ(curl_easy_setopt(handle, static_cast<CURLoption>(60000), 0L), CURLE_UNKNOWN_OPTION);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_SSLCERT_BLOB, static_cast<curl_blob *>(nullptr)), CURLE_OK);

  ASSERT_EQ(curl_easy_perform(handle), CURLE_OK) << error_buffer;
  EXPECT_EQ(body, "hello");
  long status = 0;
  EXPECT_EQ(curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
  EXPECT_EQ(status, 201);
  char *effective_url = nullptr;
  EXPECT_EQ(curl_easy_getinfo(handle, CURLINFO_EFFECTIVE_URL, &effective_url), CURLE_OK);
  EXPECT_STREQ(effective_url, url.c_str());
  double total_time = -1;
  EXPECT_EQ(curl_easy_getinfo(handle, CURLINFO_TOTAL_TIME, &total_time), CURLE_OK);
  EXPECT_GE(total_time, 0.0);
  curl_off_t uploaded = -1;
  EXPECT_EQ(curl_easy_getinfo(handle, CURLINFO_SIZE_UPLOAD_T, &uploaded), CURLE_OK);
  EXPECT_EQ(uploaded, 3);
  curl_easy_cleanup(handle);
  curl_slist_free_all(headers);

  const std::string request = server.request();
  EXPECT_EQ(request.rfind("POST /echo HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("X-Nat-Test: forwarded\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Content-Length: 3\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.substr(request.size() - 7), "\r\n\r\nabc") << request;
  EXPECT_STREQ(curl_easy_strerror(CURLE_COULDNT_CONNECT), "Couldn't connect to server");
}

}  // namespace
