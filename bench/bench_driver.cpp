// nat-bench-driver: the child process of nat-bench for what must be measured
// in a fresh process (peak memory, first load of a plugin, discovery, which
// loads libraries that can never be unloaded). Prints key=value lines.
//
//   nat-bench-driver convert-rss PLUGIN COLLECTION   peak RSS of read + convert
//   nat-bench-driver load-one PLUGIN CONFIG_JSON [PRELOAD...]
//                                                    dlopen + abi_version + plugin_info + create
//                                                    (PRELOAD: libraries loaded first, untimed)
//   nat-bench-driver first-request PLUGIN            create, then is_healthy twice against a closed
//                                                    loopback port: the first request loads libcurl
//   nat-bench-driver discover DIR [PRELOAD...]       the host's discover_plugins() on DIR
//   nat-bench-driver host-load PLUGIN                the host's PluginLibrary::load()
//   nat-bench-driver exec-fresh PROGRAM ARGS...      runs PROGRAM in a child forked from this small
//                                                    process and returns its exit status
//
// exec-fresh exists because Linux carries the peak RSS (ru_maxrss) of a
// process across execve, and posix_spawn from a big parent starts the child
// in the parent's address space: a Python script started directly by the
// harness would report the harness's peak as its own.
#include <dlfcn.h>
#include <link.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "bench_util.h"
#include "discovery/plugin_catalog.h"
#include "discovery/search_path.h"
#include "loading/plugin_library.h"

using namespace nat::bench;

namespace {

const char kArtConfig[] =
    "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":7623}}";

int convert_rss(const std::string &plugin, const std::string &file) {
  PluginApi api = PluginApi::load(plugin);
  nat_trainer_adapter *adapter = nullptr;
  api.check(api.create(kArtConfig, std::strlen(kArtConfig), &adapter), "create");
  // Everything the process needs before the input exists: the baseline.
  size_t baseline = proc_status_bytes("VmRSS");
  auto t0 = Clock::now();
  std::string input = read_file(file);
  nat_trainer_adapter_buffer *body = nullptr;
  api.check(api.convert(adapter, input.data(), input.size(), &body), "convert");
  double seconds = seconds_since(t0);
  size_t out_bytes = api.buffer_size(body);
  size_t hwm = proc_status_bytes("VmHWM");
  api.buffer_free(body);
  api.destroy(adapter);
  std::printf("baseline_rss=%zu hwm=%zu in_bytes=%zu out_bytes=%zu seconds=%.6f\n", baseline, hwm,
              input.size(), out_bytes, seconds);
  return 0;
}

size_t loaded_objects() {
  size_t n = 0;
  ::dl_iterate_phdr([](dl_phdr_info *, size_t, void *count) { return ++*static_cast<size_t *>(count), 0; },
                    &n);
  return n;
}

void preload(const std::vector<std::string> &libs) {
  for (const auto &lib : libs) {
    if (!::dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL))
      throw BenchError(std::string("preload: ") + ::dlerror());
  }
}

int load_one(const std::string &plugin, const std::string &config, const std::vector<std::string> &preloads) {
  preload(preloads);
  size_t objects_before = loaded_objects();
  double c0 = process_cpu_seconds();
  auto t0 = Clock::now();
  void *h = ::dlopen(plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    std::fprintf(stderr, "dlopen: %s\n", ::dlerror());
    return 1;
  }
  auto t1 = Clock::now();
  auto abi = reinterpret_cast<decltype(&nat_trainer_adapter_abi_version)>(
      ::dlsym(h, "nat_trainer_adapter_abi_version"));
  auto info = reinterpret_cast<decltype(&nat_trainer_adapter_plugin_info)>(
      ::dlsym(h, "nat_trainer_adapter_plugin_info"));
  auto create =
      reinterpret_cast<decltype(&nat_trainer_adapter_create)>(::dlsym(h, "nat_trainer_adapter_create"));
  auto destroy =
      reinterpret_cast<decltype(&nat_trainer_adapter_destroy)>(::dlsym(h, "nat_trainer_adapter_destroy"));
  auto error_free = reinterpret_cast<decltype(&nat_trainer_adapter_error_free)>(
      ::dlsym(h, "nat_trainer_adapter_error_free"));
  if (!abi || !info || !create || !destroy || !error_free) {
    std::fprintf(stderr, "missing symbols\n");
    return 1;
  }
  uint32_t version = abi();
  auto t2 = Clock::now();
  const char *text = info();
  size_t info_len = std::strlen(text);
  auto t3 = Clock::now();
  nat_trainer_adapter *adapter = nullptr;
  nat_trainer_adapter_error *err = create(config.data(), config.size(), &adapter);
  auto t4 = Clock::now();
  double cpu = process_cpu_seconds() - c0;
  if (err) {
    error_free(err);
    std::fprintf(stderr, "create failed\n");
    return 1;
  }
  destroy(adapter);
  std::printf(
      "dlopen_s=%.6f abi_s=%.6f info_s=%.6f create_s=%.6f total_s=%.6f cpu_s=%.6f abi=%u info_bytes=%zu "
      "objects_loaded=%zu\n",
      seconds_between(t0, t1), seconds_between(t1, t2), seconds_between(t2, t3), seconds_between(t3, t4),
      seconds_between(t0, t4), cpu, version, info_len, loaded_objects() - objects_before);
  return 0;
}

// The openpipe-art plugin loads libcurl (and the ~30 libraries it needs) at
// its first request rather than at dlopen or create: what that first request
// costs, against a closed port so that no server time is included.
int first_request(const std::string &plugin) {
  static const char config[] =
      "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":1},"
      "\"native\":{\"inference_base_url\":\"http://127.0.0.1:1/v1\",\"connect_timeout_s\":2,"
      "\"request_timeout_s\":2}}";
  PluginApi api = PluginApi::load(plugin);
  auto is_healthy = reinterpret_cast<decltype(&nat_trainer_adapter_is_healthy)>(
      ::dlsym(api.handle, "nat_trainer_adapter_is_healthy"));
  if (!is_healthy) throw BenchError("nat_trainer_adapter_is_healthy is missing");
  nat_trainer_adapter *adapter = nullptr;
  api.check(api.create(config, std::strlen(config), &adapter), "create");
  size_t objects_before = loaded_objects();
  int32_t healthy = 0;
  double c0 = process_cpu_seconds();
  auto t0 = Clock::now();
  api.check(is_healthy(adapter, &healthy), "is_healthy");
  double first = seconds_since(t0);
  double first_cpu = process_cpu_seconds() - c0;
  size_t objects = loaded_objects() - objects_before;
  c0 = process_cpu_seconds();
  t0 = Clock::now();
  api.check(is_healthy(adapter, &healthy), "is_healthy");
  double second = seconds_since(t0);
  double second_cpu = process_cpu_seconds() - c0;
  api.destroy(adapter);
  std::printf("first_s=%.6f first_cpu_s=%.6f second_s=%.6f second_cpu_s=%.6f objects_loaded=%zu healthy=%d\n",
              first, first_cpu, second, second_cpu, objects, static_cast<int>(healthy));
  return 0;
}

int discover(const std::string &dir, const std::vector<std::string> &preloads) {
  preload(preloads);
  nat::host::SearchPathInputs inputs;
  inputs.plugin_dirs = {dir};
  inputs.environment_value = std::nullopt;
  inputs.installed_dir = "/nonexistent/nat-bench/installed";
  inputs.build_tree_dir = std::nullopt;
  double c0 = process_cpu_seconds();
  auto t0 = Clock::now();
  nat::host::PluginCatalog catalog = nat::host::discover_plugins(nat::host::build_search_path(inputs));
  double seconds = seconds_since(t0);
  double cpu = process_cpu_seconds() - c0;
  std::printf("seconds=%.6f cpu_s=%.6f plugins=%zu shadowed=%zu refused=%zu\n", seconds, cpu,
              catalog.plugins().size(), catalog.shadowed().size(), catalog.refused().size());
  for (const auto &r : catalog.refused())
    std::fprintf(stderr, "refused %s: %s\n", r.path.c_str(), r.reason.c_str());
  return 0;
}

int host_load(const std::string &plugin) {
  auto t0 = Clock::now();
  auto lib = nat::host::PluginLibrary::load(plugin);
  double seconds = seconds_since(t0);
  std::printf("seconds=%.6f name=%s\n", seconds, lib->name().c_str());
  return 0;
}

int exec_fresh(char **argv) {
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) throw BenchError("fork failed");
  if (pid == 0) {
    ::execv(argv[0], argv);
    std::fprintf(stderr, "nat-bench-driver: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char **argv) {
  try {
    std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "convert-rss" && argc == 4) return convert_rss(argv[2], argv[3]);
    if (cmd == "load-one" && argc >= 4)
      return load_one(argv[2], argv[3], std::vector<std::string>(argv + 4, argv + argc));
    if (cmd == "exec-fresh" && argc >= 3) return exec_fresh(argv + 2);
    if (cmd == "first-request" && argc == 3) return first_request(argv[2]);
    if (cmd == "discover" && argc >= 3)
      return discover(argv[2], std::vector<std::string>(argv + 3, argv + argc));
    if (cmd == "host-load" && argc == 3) return host_load(argv[2]);
    std::fprintf(stderr,
                 "usage: nat-bench-driver convert-rss PLUGIN FILE | load-one PLUGIN CONFIG [PRELOAD...] |\n"
                 "       first-request PLUGIN | discover DIR [PRELOAD...] | host-load PLUGIN |\n"
                 "       exec-fresh PROGRAM ARGS...\n");
    return 2;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "nat-bench-driver: %s\n", e.what());
    return 1;
  }
}
