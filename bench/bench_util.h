// Small helpers shared by the benchmark harness and its child driver:
// clocks, statistics, files, /proc, child processes and a dlopen'ed plugin.
#pragma once

#include <nat/trainer_adapter.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "loading/abi_functions.h"

namespace nat::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
inline double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v);
double minimum(const std::vector<double> &v);
double maximum(const std::vector<double> &v);

std::string read_file(const std::string &path);
void write_file(const std::string &path, std::string_view data);

// Fields of /proc/self/status in bytes (VmRSS, VmHWM, ...); 0 when absent.
size_t proc_status_bytes(const char *field);

// CPU time of the calling thread and of the whole process, in seconds.
double thread_cpu_seconds();
double process_cpu_seconds();

// Runs argv (argv[0] a path) with stdout captured, stderr passed through or
// captured too (merged) when merge_stderr. Returns the exit status (-1 when
// it could not start or died of a signal), the output and the times.
struct ChildResult {
  int status = -1;
  std::string output;
  double seconds = 0;      // wall clock, spawn to exit
  double cpu_seconds = 0;  // the child's user + system CPU time (wait4)
};
ChildResult run_child(const std::vector<std::string> &argv, bool merge_stderr = false,
                      const std::vector<std::string> &extra_env = {});

// "key=value" tokens of a line, e.g. "in_bytes=1 seconds=0.5".
std::optional<double> field_of(std::string_view text, std::string_view key);

class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A plugin loaded with dlopen, with the C ABI resolved by name (the bench
// links no plugin, as the host does).
struct PluginApi : host::AbiFunctions {
  void *handle = nullptr;

  // dlopen(RTLD_NOW | RTLD_LOCAL) and the host's resolution by ABI version
  // (host/loading/abi_functions.h): the host's table, not a copy of it.
  static PluginApi load(const std::string &path);

  // Throws BenchError with the message when err is not NULL (and frees it).
  void check(nat_trainer_adapter_error *err, const char *what) const;
  std::string take(nat_trainer_adapter_buffer *buf) const;  // copies and frees
};

std::string format_bytes(double bytes);  // "104.3 MB" (decimal units)

}  // namespace nat::bench
