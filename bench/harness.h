// The benchmark harness's shared pieces: options, inputs, results, output
// and the measuring sections, one translation unit each:
//   measure_convert.cpp  1-3: the submit path, reference points, Python, memory
//   measure_server.cpp   4-5: the reference ART server, wait latency
//   measure_host.cpp     6-7: discovery and loading, the C ABI per call
//   nat_bench.cpp        options, output, inputs, main
#pragma once

#include <nat/trainer_adapter.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bench_paths.h"
#include "bench_util.h"

namespace nat::bench {

struct Options {
  std::vector<double> sizes_mb = {1, 4, 16, 64};
  bool reference_case = true;  // 64 groups x 8 gens x 4 turns x 256 tokens (~104 MB)
  int runs = 5;
  double python_max_mb = 16;
  bool python = true;
  bool server = true;
  bool discovery = true;
  bool capi = true;
  int wait_repeats = 5;
  int discovery_plugins = 100;
  std::string work_dir;
  bool keep = false;
  std::string art_plugin = NAT_BENCH_ART_PLUGIN;
  std::string export_plugin = NAT_BENCH_EXPORT_PLUGIN;
  std::string driver = NAT_BENCH_DRIVER;
  std::string nat_trainer = NAT_BENCH_NAT_TRAINER;
  std::string nat_python = NAT_BENCH_NAT_PYTHON;
  std::string art_python = NAT_BENCH_ART_PYTHON;
  std::string source_root = NAT_BENCH_SOURCE_ROOT;
  std::string python_baseline;
  std::string server_input = "ref";  // which input the server submit uses
};

// Output: printf to stdout, flushed at once (a run takes minutes).
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
void section(const char *title);
std::string ms(double seconds);  // "12.3 ms"
inline double mbps(size_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0;
}

// A row of the summary: pass is empty for figures without a target.
void add_target(std::string name, std::string measured, std::string target, std::optional<bool> pass);

struct Input {
  std::string name;   // "1.25 MB", "ref 104 MB"
  std::string file;   // path in the work dir
  std::string shape;  // "G x 8 x 4 x 64"
  bool reference = false;
  double target_mb = 0;
  std::string data;
};

// Medians over the runs of the wall-clock time and of the calling thread's
// CPU time (everything measured in-process here is single-threaded), and the
// fastest wall-clock run.
struct Timing {
  double wall = 0, cpu = 0, best = 0;
};

struct ConvertResult {
  size_t out_bytes = 0;
  Timing ours, minify, minify_reuse, dom, nlohmann;
  double rss_delta = 0, rss_baseline = 0, rss_hwm = 0;
  bool rss_ok = false;
  std::optional<double> py_s, py_cpu_s, py_rss_mb;
  std::optional<double> nat_s, nat_cpu_s, nat_rss_mb, nat_parse_s, nat_construct_s, nat_dump_s;
};

template <class F>
Timing timed_runs(int runs, bool warmup, F &&f) {
  if (warmup) f();
  std::vector<double> wall, cpu;
  for (int i = 0; i < runs; ++i) {
    double c0 = thread_cpu_seconds();
    auto t0 = Clock::now();
    f();
    wall.push_back(seconds_since(t0));
    cpu.push_back(thread_cpu_seconds() - c0);
  }
  return Timing{median(wall), median(cpu), minimum(wall)};
}

// The openpipe-art plugin's HTTP library: loading it (and the ~30 libraries it
// pulls in) is measured apart from the plugin's own loading.
inline constexpr const char kCurl[] = "libcurl.so.4";

inline constexpr const char kArtConfig[] =
    "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":7623}}";

// 1-3 (measure_convert.cpp).
void measure_convert(const Options &o, const PluginApi &api, nat_trainer_adapter *adapter, const Input &in,
                     ConvertResult &r);
void measure_rss(const Options &o, const Input &in, ConvertResult &r);
void run_python(const Options &o, const PluginApi &api, nat_trainer_adapter *adapter,
                std::vector<Input> &inputs, std::vector<ConvertResult> &results);
// "simdjson 3.0.1 (haswell kernel)"
std::string simdjson_description();
void report_convert(const Options &o, const std::vector<Input> &inputs,
                    const std::vector<ConvertResult> &results);
// 4-5 (measure_server.cpp).
void run_server(const Options &o, const std::vector<Input> &inputs, const std::string &work);
// 6-7 (measure_host.cpp).
void run_discovery(const Options &o, const std::string &work);
void run_capi(const Options &o, const std::string &work);

}  // namespace nat::bench
