#include "bench_util.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char **environ;

namespace nat::bench {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double minimum(const std::vector<double> &v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
double maximum(const std::vector<double> &v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

std::string read_file(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BenchError("cannot open " + path + ": " + std::strerror(errno));
  std::string out;
  off_t size = ::lseek(fd, 0, SEEK_END);
  ::lseek(fd, 0, SEEK_SET);
  if (size > 0) out.resize(static_cast<size_t>(size));
  size_t got = 0;
  for (;;) {
    if (got == out.size()) out.resize(out.size() + 65536);
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

void write_file(const std::string &path, std::string_view data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!f) throw BenchError("cannot write " + path);
}

size_t proc_status_bytes(const char *field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  size_t flen = std::strlen(field);
  while (std::getline(f, line)) {
    if (line.compare(0, flen, field) == 0 && line.size() > flen && line[flen] == ':') {
      return static_cast<size_t>(std::strtoull(line.c_str() + flen + 1, nullptr, 10)) * 1024;
    }
  }
  return 0;
}

namespace {
double clock_seconds(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

double thread_cpu_seconds() { return clock_seconds(CLOCK_THREAD_CPUTIME_ID); }
double process_cpu_seconds() { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

ChildResult run_child(const std::vector<std::string> &argv, bool merge_stderr,
                      const std::vector<std::string> &extra_env) {
  ChildResult r;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return r;
  std::vector<std::string> args = argv;
  std::vector<char *> cargv;
  for (auto &a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char **e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto &e : extra_env) env_store.push_back(e);
  std::vector<char *> cenv;
  for (auto &e : env_store) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  if (merge_stderr) posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  pid_t pid = -1;
  auto t0 = Clock::now();
  int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    r.output = std::string("cannot start ") + argv[0] + ": " + std::strerror(rc);
    return r;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.output.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.seconds = seconds_since(t0);
  r.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::optional<double> field_of(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string_view::npos) {
    bool start = pos == 0 || text[pos - 1] == ' ' || text[pos - 1] == '\n';
    size_t eq = pos + key.size();
    if (start && eq < text.size() && text[eq] == '=') {
      std::string num(text.substr(eq + 1, text.find_first_of(" \n", eq + 1) - eq - 1));
      char *end = nullptr;
      double v = std::strtod(num.c_str(), &end);
      if (end != num.c_str()) return v;
    }
    pos = eq;
  }
  return std::nullopt;
}

PluginApi PluginApi::load(const std::string &path) {
  PluginApi a;
  a.handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!a.handle) throw BenchError(std::string("dlopen ") + path + ": " + ::dlerror());
  a.abi_version =
      reinterpret_cast<decltype(a.abi_version)>(::dlsym(a.handle, "nat_trainer_adapter_abi_version"));
  if (!a.abi_version) throw BenchError(path + ": not a trainer adapter plugin");
  const uint32_t version = a.abi_version();
  if ((version >> 16) != NAT_TRAINER_ADAPTER_ABI_MAJOR) throw BenchError(path + ": other ABI major");
  if (const char *missing = host::resolve_abi_functions(a.handle, version, a))
    throw BenchError(std::string("plugin does not export ") + missing);
  return a;
}

void PluginApi::check(nat_trainer_adapter_error *err, const char *what) const {
  if (!err) return;
  std::string msg =
      std::string(what) + ": error " + std::to_string(error_code(err)) + ": " + error_message(err);
  error_free(err);
  throw BenchError(msg);
}

std::string PluginApi::take(nat_trainer_adapter_buffer *buf) const {
  std::string s(buffer_data(buf), buffer_size(buf));
  buffer_free(buf);
  return s;
}

std::string format_bytes(double bytes) {
  char buf[32];
  if (bytes >= 1e9)
    std::snprintf(buf, sizeof buf, "%.2f GB", bytes / 1e9);
  else if (bytes >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  else if (bytes >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  return buf;
}

}  // namespace nat::bench
