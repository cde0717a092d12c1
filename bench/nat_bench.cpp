// nat-bench: the project's benchmark. One run measures, side by
// side on the same generated inputs:
//
//   1. the submit path (collection bytes -> the whole /_train_model body) of
//      the openpipe-art plugin through the C ABI (nat_trainer_adapter_convert),
//      and its peak memory in a fresh child process;
//   2. reference points: simdjson minify and DOM parse, nlohmann_json
//      parse + dump, the pydantic baseline (python_baseline.py, when present)
//      and NAT's real path (bench/nat_real_path.py in the NAT environment);
//   3. linearity of the cost in the input size;
//   4. a real submit to the reference ART server, through a timing proxy:
//      submit() duration, first and last body byte at the server, completion;
//   5. wait_until_complete latency after the job ends (poll interval 10 s);
//   6. discovery of 100 plugin files and loading one plugin;
//   7. the per-call cost of the C ABI (status on a known job).
//
// The machine this runs on is usually shared: every time is a median of
// several runs, and the load average is printed at start and end.
// `nat-bench --help` lists the options; tools/run-bench.sh builds and runs it.
#include <curl/curl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "collection_generator.h"
#include "harness.h"

namespace fs = std::filesystem;

namespace nat::bench {

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

void out(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
  std::fflush(stdout);
}

void section(const char *title) { out("\n== %s ==\n", title); }

std::string fmt(const char *f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

std::string ms(double seconds) { return fmt("%.1f ms", seconds * 1e3); }

namespace {

struct Target {
  std::string name;
  std::string measured;
  std::string target;
  std::string verdict;  // PASS, FAIL, n/a
};
std::vector<Target> g_targets;

}  // namespace

void add_target(std::string name, std::string measured, std::string target, std::optional<bool> pass) {
  g_targets.push_back(
      {std::move(name), std::move(measured), std::move(target), pass ? (*pass ? "PASS" : "FAIL") : "n/a"});
}

}  // namespace nat::bench

using namespace nat::bench;

namespace {

const char kUsage[] = R"(usage: nat-bench [options]

Generates NAT TrajectoryCollection inputs and measures the openpipe-art
plugin's submit path against simdjson, nlohmann_json, a pydantic baseline and
NAT's own Python path; then a real submit to the reference ART server,
wait_until_complete latency, plugin discovery and loading, and the C ABI's
per-call cost. Prints tables and PASS/FAIL per target.

  --sizes LIST          input sizes in MB (1e6 bytes), comma-separated (default 1,4,16,64)
  --no-reference        skip the ~104 MB reference case (64 groups x 8 x 4 turns x 256 tokens)
  --runs N              timed runs per measurement, median reported (default 5)
  --full                run the Python paths on every input, the 104 MB one included
  --python-max-mb X     run the Python paths on inputs up to X MB (default 16)
  --no-python           skip the Python paths
  --no-server           skip the reference ART server measurements
  --server-input NAME   input submitted to the server: ref (default) or a size in MB
  --wait-repeats N      small submits for the wait latency (default 5)
  --no-discovery        skip plugin discovery and loading
  --no-capi             skip the C ABI per-call measurement
  --quick               sizes 1,4; 3 runs; no reference case; no Python (a smoke run)
  --work-dir DIR        where inputs and temporary files go (default: a new /tmp/nat-bench-*)
  --keep                keep the work directory
  --python-baseline F   the pydantic baseline script (default: $NAT_BENCH_PYTHON_BASELINE,
                        else <source>/../shared/bench/python_baseline.py when it exists)
  --nat-python P        Python of the NAT environment (default: configured .venv/nat)
  --art-python P        Python of the ART 0.4 reference server environment
)";

std::vector<double> parse_list(const std::string &s) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(std::atof(item.c_str()));
  }
  return out;
}

Options parse_options(int argc, char **argv) {
  Options o;
  if (const char *p = std::getenv("NAT_BENCH_PYTHON_BASELINE")) o.python_baseline = p;
  if (o.python_baseline.empty()) {
    fs::path candidate = fs::path(o.source_root).parent_path() / "shared" / "bench" / "python_baseline.py";
    std::error_code ec;
    if (fs::exists(candidate, ec)) o.python_baseline = candidate.lexically_normal().string();
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "nat-bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--sizes")
      o.sizes_mb = parse_list(next());
    else if (a == "--no-reference")
      o.reference_case = false;
    else if (a == "--runs")
      o.runs = std::max(1, std::atoi(next().c_str()));
    else if (a == "--full")
      o.python_max_mb = 1e9;
    else if (a == "--python-max-mb")
      o.python_max_mb = std::atof(next().c_str());
    else if (a == "--no-python")
      o.python = false;
    else if (a == "--no-server")
      o.server = false;
    else if (a == "--server-input")
      o.server_input = next();
    else if (a == "--wait-repeats")
      o.wait_repeats = std::max(0, std::atoi(next().c_str()));
    else if (a == "--no-discovery")
      o.discovery = false;
    else if (a == "--no-capi")
      o.capi = false;
    else if (a == "--quick") {
      o.sizes_mb = {1, 4};
      o.runs = 3;
      o.reference_case = false;
      o.python = false;
      o.server_input = "4";
      o.wait_repeats = 3;
    } else if (a == "--work-dir")
      o.work_dir = next();
    else if (a == "--keep")
      o.keep = true;
    else if (a == "--python-baseline")
      o.python_baseline = next();
    else if (a == "--nat-python")
      o.nat_python = next();
    else if (a == "--art-python")
      o.art_python = next();
    else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "nat-bench: unknown option %s\n%s", a.c_str(), kUsage);
      std::exit(2);
    }
  }
  return o;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      return p == std::string::npos ? line : line.substr(p + 2);
    }
  }
  return "unknown";
}

std::string mem_total() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  long kb = 0;
  f >> key >> kb;
  return format_bytes(static_cast<double>(kb) * 1024);
}

}  // namespace

int main(int argc, char **argv) {
  Options o = parse_options(argc, argv);
  auto t_start = Clock::now();
  curl_global_init(CURL_GLOBAL_DEFAULT);

  // Machine.
  utsname u{};
  ::uname(&u);
  section("machine");
  out("  nproc %ld; CPU %s; memory %s; %s %s\n", ::sysconf(_SC_NPROCESSORS_ONLN), cpu_model().c_str(),
      mem_total().c_str(), u.sysname, u.release);
  out("  load average at start: %s\n", load_average().c_str());
  out("  build: %s, %s; %s; nlohmann_json %d.%d.%d\n", NAT_BENCH_BUILD_TYPE, NAT_BENCH_COMPILER,
      simdjson_description().c_str(), NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
      NLOHMANN_JSON_VERSION_PATCH);
  out("  every figure is the median of %d runs unless said otherwise: the machine may be shared and noisy\n",
      o.runs);

  std::string work = o.work_dir;
  bool made_work = false;
  if (work.empty()) {
    char tmpl[] = "/tmp/nat-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      return 1;
    }
    work = tmpl;
    made_work = true;
  } else {
    fs::create_directories(work);
  }

  int rc = 0;
  try {
    // Inputs.
    section("inputs (generated by bench/collection_generator.cpp; groups x generations x turns x tokens)");
    std::vector<Input> inputs;
    for (double mb : o.sizes_mb) {
      Input in;
      in.target_mb = mb;
      CollectionShape s;
      s.generations = 8;
      s.turns = 4;
      s.tokens = 64;
      s.seed = 1;
      int groups = 0;
      in.data = generate_collection_of_size(s, static_cast<size_t>(mb * 1e6), &groups);
      in.name = fmt("%.3g MB", static_cast<double>(in.data.size()) / 1e6);  // whole groups: a little over
      in.shape = fmt("%d x 8 x 4 x 64", groups);
      in.file = work + fmt("/collection-%gMB.json", mb);
      inputs.push_back(std::move(in));
    }
    if (o.reference_case) {
      Input in;
      in.reference = true;
      CollectionShape s;
      s.groups = 64;
      s.generations = 8;
      s.turns = 4;
      s.tokens = 256;
      s.seed = 1;
      in.data = generate_collection(s);
      in.name = fmt("ref %.0f MB", static_cast<double>(in.data.size()) / 1e6);
      in.shape = "64 x 8 x 4 x 256";
      in.target_mb = static_cast<double>(in.data.size()) / 1e6;
      in.file = work + "/collection-ref.json";
      inputs.push_back(std::move(in));
    }
    for (const auto &in : inputs) {
      write_file(in.file, in.data);
      out("  %-12s %-18s %12zu bytes\n", in.name.c_str(), in.shape.c_str(), in.data.size());
    }

    // 1-3.
    PluginApi art = PluginApi::load(o.art_plugin);
    nat_trainer_adapter *adapter = nullptr;
    art.check(art.create(kArtConfig, std::strlen(kArtConfig), &adapter), "create");
    std::vector<ConvertResult> results(inputs.size());
    section("1. submit path: collection bytes -> /_train_model body (convert through the C ABI)");
    for (size_t i = 0; i < inputs.size(); ++i) {
      out("  %s ...", inputs[i].name.c_str());
      measure_convert(o, art, adapter, inputs[i], results[i]);
      measure_rss(o, inputs[i], results[i]);
      out(" done\n");
    }
    if (o.python) {
      section("Python paths (pydantic baseline, NAT's real path)");
      run_python(o, art, adapter, inputs, results);
    }

    report_convert(o, inputs, results);
    art.destroy(adapter);

    if (o.server) {
      section("4-5. a real submit to the reference ART server, through a timing proxy");
      try {
        run_server(o, inputs, work);
      } catch (const std::exception &e) {
        out("  server measurements failed: %s\n", e.what());
        add_target("reference ART server submit", "error", "runs", false);
      }
    }
    if (o.discovery) {
      section("6. plugin discovery and loading");
      run_discovery(o, work);
    }
    if (o.capi) {
      section("7. C ABI per-call cost");
      run_capi(o, work);
    }
  } catch (const std::exception &e) {
    out("\nnat-bench: %s\n", e.what());
    rc = 1;
  }

  section("summary");
  out("  %-60s %-30s %-27s %s\n", "measure", "measured (median)", "target", "verdict");
  for (const auto &t : g_targets)
    out("  %-60s %-30s %-27s %s\n", t.name.c_str(), t.measured.c_str(), t.target.c_str(), t.verdict.c_str());
  out("  load average at end: %s; total time %.0f s\n", load_average().c_str(), seconds_since(t_start));

  if (!o.keep && made_work) {
    std::error_code ec;
    fs::remove_all(work, ec);
  } else {
    out("  work directory kept: %s\n", work.c_str());
  }
  curl_global_cleanup();
  return rc;
}
