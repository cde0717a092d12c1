// 1-3: the submit path through the C ABI, the reference points (simdjson,
// nlohmann_json, the Python paths), peak memory, and their report.
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.h"

namespace fs = std::filesystem;

namespace nat::bench {

std::string simdjson_description() {
  return fmt("simdjson %d.%d.%d (%s kernel)", static_cast<int>(simdjson::SIMDJSON_VERSION_MAJOR),
             static_cast<int>(simdjson::SIMDJSON_VERSION_MINOR),
             static_cast<int>(simdjson::SIMDJSON_VERSION_REVISION),
             simdjson::get_active_implementation()->name().c_str());
}

// ---------------------------------------------------------------------------
// 1-3: throughput, memory, Python paths
// ---------------------------------------------------------------------------

void measure_convert(const Options &o, const PluginApi &api, nat_trainer_adapter *adapter, const Input &in,
                     ConvertResult &r) {
  const std::string &data = in.data;
  nat_trainer_adapter_buffer *body = nullptr;
  api.check(api.convert(adapter, data.data(), data.size(), &body), "convert");  // warm-up and size
  r.out_bytes = api.buffer_size(body);
  api.buffer_free(body);
  r.ours = timed_runs(o.runs, false, [&] {
    nat_trainer_adapter_buffer *b = nullptr;
    api.check(api.convert(adapter, data.data(), data.size(), &b), "convert");
    api.buffer_free(b);
  });

  // simdjson minify into a buffer allocated for each run, as the plugin
  // allocates its body (above glibc's mmap threshold that means fresh pages
  // every time), and into one reused buffer (its best case).
  r.minify = timed_runs(o.runs, true, [&] {
    std::unique_ptr<char[]> dst(new char[data.size() + simdjson::SIMDJSON_PADDING]);
    size_t len = 0;
    if (simdjson::minify(data.data(), data.size(), dst.get(), len) != simdjson::SUCCESS)
      throw BenchError("simdjson minify failed on " + in.name);
  });
  {
    std::unique_ptr<char[]> dst(new char[data.size() + simdjson::SIMDJSON_PADDING]);
    r.minify_reuse = timed_runs(o.runs, true, [&] {
      size_t len = 0;
      if (simdjson::minify(data.data(), data.size(), dst.get(), len) != simdjson::SUCCESS)
        throw BenchError("simdjson minify failed on " + in.name);
    });
  }

  {
    simdjson::padded_string padded(data);
    simdjson::dom::parser parser;
    r.dom = timed_runs(o.runs, true, [&] {
      simdjson::dom::element doc;
      if (parser.parse(padded).get(doc) != simdjson::SUCCESS)
        throw BenchError("simdjson parse failed on " + in.name);
    });
  }

  bool big = data.size() > 32'000'000;
  r.nlohmann = timed_runs(std::min(o.runs, 3), !big, [&] {
    nlohmann::json j = nlohmann::json::parse(data);
    std::string s = j.dump();
    if (s.empty()) throw BenchError("empty dump");
  });
}

void measure_rss(const Options &o, const Input &in, ConvertResult &r) {
  std::vector<double> deltas, hwms, bases;
  for (int i = 0; i < 3; ++i) {
    ChildResult c = run_child({o.driver, "convert-rss", o.art_plugin, in.file});
    if (c.status != 0) throw BenchError("nat-bench-driver convert-rss failed: " + c.output);
    double base = field_of(c.output, "baseline_rss").value_or(0);
    double hwm = field_of(c.output, "hwm").value_or(0);
    bases.push_back(base);
    hwms.push_back(hwm);
    deltas.push_back(hwm - base);
  }
  r.rss_delta = median(deltas);
  r.rss_baseline = median(bases);
  r.rss_hwm = median(hwms);
  double budget = static_cast<double>(in.data.size() + r.out_bytes) + 64.0 * 1024 * 1024;
  r.rss_ok = r.rss_delta <= budget;
}

// JSON text of j without its null-valued keys, for comparing with NAT.
static std::string strip_nulls_dump(const nlohmann::json &j) {
  std::function<nlohmann::json(const nlohmann::json &)> strip =
      [&](const nlohmann::json &v) -> nlohmann::json {
    if (v.is_object()) {
      nlohmann::json o = nlohmann::json::object();
      for (auto it = v.begin(); it != v.end(); ++it)
        if (!it.value().is_null()) o[it.key()] = strip(it.value());
      return o;
    }
    if (v.is_array()) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto &e : v) a.push_back(strip(e));
      return a;
    }
    return v;
  };
  return strip(j).dump();
}

void run_python(const Options &o, const PluginApi &api, nat_trainer_adapter *adapter,
                std::vector<Input> &inputs, std::vector<ConvertResult> &results) {
  std::vector<size_t> chosen;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (static_cast<double>(inputs[i].data.size()) <= o.python_max_mb * 1e6 * 1.05) chosen.push_back(i);
  if (chosen.empty()) {
    out("  (no input is small enough for --python-max-mb %.0f)\n", o.python_max_mb);
    return;
  }
  bool have_python = ::access(o.nat_python.c_str(), X_OK) == 0;
  if (!have_python) {
    out("  skipped: %s is missing (tools/setup-nat-venv.sh creates it)\n", o.nat_python.c_str());
    return;
  }
  // The pydantic baseline: one process per input, as the script is made.
  if (!o.python_baseline.empty() && ::access(o.python_baseline.c_str(), R_OK) == 0) {
    for (size_t i : chosen) {
      out("  python_baseline.py %-12s ... ", inputs[i].name.c_str());
      ChildResult c = run_child({o.driver, "exec-fresh", o.nat_python, o.source_root + "/bench/python_cpu.py",
                                 o.python_baseline, inputs[i].file});
      auto s = field_of(c.output, "seconds");
      if (c.status != 0 || !s) {
        out("failed (exit %d): %s\n", c.status, c.output.substr(0, 300).c_str());
        continue;
      }
      results[i].py_s = *s;
      results[i].py_cpu_s = field_of(c.output, "cpu_s");
      results[i].py_rss_mb = field_of(c.output, "peak_rss_MB");
      out("%.2f s (CPU %.2f s), %.2f MB/s\n", *s, results[i].py_cpu_s.value_or(0),
          mbps(inputs[i].data.size(), *s));
    }
  } else {
    out("  pydantic baseline: not found (python_baseline.py; --python-baseline or "
        "NAT_BENCH_PYTHON_BASELINE)\n");
  }
  // NAT's real path: one process for every input (its imports take 10-20 s).
  std::string script = o.source_root + "/bench/nat_real_path.py";
  std::vector<std::string> argv = {o.driver, "exec-fresh", o.nat_python, script};
  for (size_t i : chosen) argv.push_back(inputs[i].file);
  argv.push_back("--out-dir");
  argv.push_back(fs::path(inputs[chosen[0]].file).parent_path().string());
  out("  nat_real_path.py on %zu input(s) ... ", chosen.size());
  ChildResult c = run_child(argv, false, {"PYTHONWARNINGS=ignore"});
  if (c.status != 0) {
    out("failed (exit %d): %s\n", c.status, c.output.substr(0, 400).c_str());
    return;
  }
  out("%.0f s (imports included)\n", c.seconds);
  std::istringstream lines(c.output);
  std::string line;
  while (std::getline(lines, line)) {
    for (size_t i : chosen) {
      std::string key = "file=" + fs::path(inputs[i].file).filename().string() + " ";
      if (line.rfind(key, 0) != 0) continue;
      results[i].nat_s = field_of(line, "seconds");
      results[i].nat_cpu_s = field_of(line, "cpu_s");
      results[i].nat_rss_mb = field_of(line, "peak_rss_MB");
      results[i].nat_parse_s = field_of(line, "parse_s");
      results[i].nat_construct_s = field_of(line, "construct_s");
      results[i].nat_dump_s = field_of(line, "dump_s");
    }
  }
  // Same conversion? Compare the smallest input's trajectory_groups with NAT's.
  const Input &small = inputs[chosen[0]];
  std::string nat_body_path = small.file + ".nat-body.json";
  try {
    nlohmann::json nat_body = nlohmann::json::parse(read_file(nat_body_path));
    nat_trainer_adapter_buffer *b = nullptr;
    api.check(api.convert(adapter, small.data.data(), small.data.size(), &b), "convert");
    nlohmann::json ours = nlohmann::json::parse(api.take(b));
    bool same =
        strip_nulls_dump(ours.at("trajectory_groups")) == strip_nulls_dump(nat_body.at("trajectory_groups"));
    out("  check: the plugin's trajectory_groups for the %s input %s NAT's (as JSON, null-valued keys "
        "ignored)\n",
        small.name.c_str(), same ? "equal" : "DIFFER FROM");
    std::error_code ec;
    for (size_t i : chosen) fs::remove(inputs[i].file + ".nat-body.json", ec);
  } catch (const std::exception &e) {
    out("  check: could not compare with NAT's body: %s\n", e.what());
  }
}

void report_convert(const Options &o, const std::vector<Input> &inputs,
                    const std::vector<ConvertResult> &results) {
  section("throughput, MB/s of input (medians; wall clock / thread CPU time)");
  out("  %-11s %13s %13s %13s %13s %11s %13s %13s\n", "input", "ours", "simd-minify", "simd-minifyR",
      "simd-DOM", "nlohmann", "pydantic", "NAT");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto &r = results[i];
    size_t n = inputs[i].data.size();
    auto both = [&](const Timing &t) { return fmt("%6.0f /%6.0f", mbps(n, t.wall), mbps(n, t.cpu)); };
    auto py = [&](const std::optional<double> &wall, const std::optional<double> &cpu) {
      if (!wall) return fmt("%13s", "-");
      return fmt("%6.2f /%6s", mbps(n, *wall), cpu ? fmt("%.2f", mbps(n, *cpu)).c_str() : "?");
    };
    out("  %-11s %13s %13s %13s %13s %11s %s %s\n", inputs[i].name.c_str(), both(r.ours).c_str(),
        both(r.minify).c_str(), both(r.minify_reuse).c_str(), both(r.dom).c_str(),
        fmt("%4.0f /%4.0f", mbps(n, r.nlohmann.wall), mbps(n, r.nlohmann.cpu)).c_str(),
        py(r.py_s, r.py_cpu_s).c_str(), py(r.nat_s, r.nat_cpu_s).c_str());
  }
  out("\n  %-11s %16s %16s %16s %16s\n", "ratios", "ours/minify", "ours/minifyR", "x pydantic", "x NAT");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto &r = results[i];
    auto times = [&](const std::optional<double> &wall, const std::optional<double> &cpu) {
      if (!wall) return fmt("%16s", "-");
      return fmt("%6.0fx /%6sx", *wall / r.ours.wall, cpu ? fmt("%.0f", *cpu / r.ours.cpu).c_str() : "?");
    };
    out("  %-11s %7.3f / %6.3f %7.3f / %6.3f %s %s\n", inputs[i].name.c_str(), r.minify.wall / r.ours.wall,
        r.minify.cpu / r.ours.cpu, r.minify_reuse.wall / r.ours.wall, r.minify_reuse.cpu / r.ours.cpu,
        times(r.py_s, r.py_cpu_s).c_str(), times(r.nat_s, r.nat_cpu_s).c_str());
  }
  out("  Each cell: wall clock / CPU time. CPU time (the calling thread's; the Python process's) leaves out\n"
      "  the waits for a CPU on a busy machine, which inflate long calls more than short ones, so the "
      "targets\n"
      "  are judged on it.\n"
      "  ours: nat_trainer_adapter_convert + buffer_free through the C ABI (validation, conversion, the "
      "whole\n"
      "    body), %d runs. simd-minify: simdjson::minify into a buffer allocated per run, as the plugin\n"
      "    allocates its body; simd-minifyR: into one reused buffer; simd-DOM: dom::parser::parse, parser\n"
      "    reused; nlohmann: parse + dump (%d runs). pydantic: python_baseline.py (its main(), imports not\n"
      "    counted); NAT: nat_real_path.py (parse + construct + dump); 1 run each.\n"
      "  ours/minify: throughput ratio (target >= 0.25); x pydantic, x NAT: how many times faster ours is\n"
      "    (target >= 150x vs pydantic).\n",
      o.runs, std::min(o.runs, 3));
  bool any_nat = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto &r = results[i];
    if (!r.nat_s) continue;
    if (!any_nat) out("  NAT's path by phase (s):   parse   construct   dump\n");
    any_nat = true;
    out("    %-22s %7.3f %9.3f %8.3f\n", inputs[i].name.c_str(), r.nat_parse_s.value_or(0),
        r.nat_construct_s.value_or(0), r.nat_dump_s.value_or(0));
  }

  section("peak memory of the submit path (fresh child: read file + convert; VmHWM - VmRSS before reading)");
  out("  %-12s %12s %12s %12s %14s %8s   %s\n", "input", "in", "out", "peak delta", "in+out+64MiB", "verdict",
      "Python peak RSS (pydantic / NAT)");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto &r = results[i];
    double budget = static_cast<double>(inputs[i].data.size() + r.out_bytes) + 64.0 * 1024 * 1024;
    std::string py = (r.py_rss_mb ? fmt("%.0f MB", *r.py_rss_mb) : std::string("-")) + " / " +
                     (r.nat_rss_mb ? fmt("%.0f MB", *r.nat_rss_mb) : std::string("-"));
    out("  %-12s %12s %12s %12s %14s %8s   %s\n", inputs[i].name.c_str(),
        format_bytes(static_cast<double>(inputs[i].data.size())).c_str(),
        format_bytes(static_cast<double>(r.out_bytes)).c_str(), format_bytes(r.rss_delta).c_str(),
        format_bytes(budget).c_str(), r.rss_ok ? "PASS" : "FAIL", py.c_str());
  }
  out("  (baseline RSS of the driver after dlopen + create: %s; median of 3 processes)\n",
      format_bytes(results.back().rss_baseline).c_str());

  section("3. linearity: cost vs input size (same shape, 8 x 4 x 64 per group)");
  // Deviation of each size's MB/s from the median over the sized inputs, in
  // wall clock and in thread CPU time (the latter is what contention on a
  // shared machine disturbs least).
  auto deviations = [&](bool use_cpu, double *worst) {
    std::vector<double> rates;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (!inputs[i].reference)
        rates.push_back(mbps(inputs[i].data.size(), use_cpu ? results[i].ours.cpu : results[i].ours.wall));
    double mid = median(rates);
    std::vector<double> dev;
    *worst = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      double rate = mbps(inputs[i].data.size(), use_cpu ? results[i].ours.cpu : results[i].ours.wall);
      dev.push_back(mid > 0 ? rate / mid - 1 : 0);
      if (!inputs[i].reference) *worst = std::max(*worst, std::fabs(dev.back()));
    }
    return dev;
  };
  double worst_wall = 0, worst_cpu = 0;
  std::vector<double> dev_wall = deviations(false, &worst_wall);
  std::vector<double> dev_cpu = deviations(true, &worst_cpu);
  out("  %-11s %10s %10s %10s %9s %9s %9s\n", "input", "wall MB/s", "best MB/s", "cpu MB/s", "ns/byte",
      "wall dev", "cpu dev");
  for (size_t i = 0; i < inputs.size(); ++i) {
    size_t n = inputs[i].data.size();
    out("  %-11s %10.1f %10.1f %10.1f %9.2f %+8.1f%% %+8.1f%%%s\n", inputs[i].name.c_str(),
        mbps(n, results[i].ours.wall), mbps(n, results[i].ours.best), mbps(n, results[i].ours.cpu),
        results[i].ours.cpu / static_cast<double>(n) * 1e9, dev_wall[i] * 100, dev_cpu[i] * 100,
        inputs[i].reference ? "  (other shape: 256 tokens per turn)" : "");
  }
  out("  dev: MB/s against the median over the sized inputs (wall: median of runs; best: fastest run;\n"
      "  cpu and ns/byte: thread CPU time). Flat means every size within +-25%%; judged on CPU time.\n");

  // Targets of 1-3.
  {
    const Input &ref = inputs.back();
    const ConvertResult &r = results.back();
    add_target("submit path throughput, " + ref.name,
               fmt("%.0f MB/s (CPU time %.0f)", mbps(ref.data.size(), r.ours.wall),
                   mbps(ref.data.size(), r.ours.cpu)),
               "(info)", std::nullopt);
    add_target("ours / simdjson minify (CPU time), " + ref.name,
               fmt("%.3f (wall %.3f)", r.minify.cpu / r.ours.cpu, r.minify.wall / r.ours.wall), ">= 0.25",
               r.minify.cpu / r.ours.cpu >= 0.25);
    double worst_ratio = 1e9;
    std::string at;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (results[i].minify.cpu / results[i].ours.cpu < worst_ratio) {
        worst_ratio = results[i].minify.cpu / results[i].ours.cpu;
        at = inputs[i].name;
      }
    }
    add_target("ours / simdjson minify (CPU time), lowest over sizes",
               fmt("%.3f (%s)", worst_ratio, at.c_str()), ">= 0.25", worst_ratio >= 0.25);
    // Lowest speed-up over the inputs the Python paths ran on, in CPU time
    // (wall clock beside it).
    auto lowest = [&](auto cpu_of, auto wall_of, std::string *where, double *wall_ratio) {
      std::optional<double> worst;
      for (size_t i = 0; i < inputs.size(); ++i) {
        std::optional<double> c = cpu_of(results[i]);
        std::optional<double> w = wall_of(results[i]);
        if (!c || !w) continue;
        double ratio = *c / results[i].ours.cpu;
        if (!worst || ratio < *worst) {
          worst = ratio;
          *where = inputs[i].name;
          *wall_ratio = *w / results[i].ours.wall;
        }
      }
      return worst;
    };
    std::string py_at, nat_at;
    double py_wall = 0, nat_wall = 0;
    std::optional<double> py_worst = lowest([](const ConvertResult &x) { return x.py_cpu_s; },
                                            [](const ConvertResult &x) { return x.py_s; }, &py_at, &py_wall);
    std::optional<double> nat_worst =
        lowest([](const ConvertResult &x) { return x.nat_cpu_s; },
               [](const ConvertResult &x) { return x.nat_s; }, &nat_at, &nat_wall);
    // The largest input the pydantic baseline ran on (the reference case with --full).
    for (size_t i = inputs.size(); i-- > 0;) {
      const ConvertResult &x = results[i];
      if (!x.py_s || !x.py_cpu_s) continue;
      double ratio = *x.py_cpu_s / x.ours.cpu;
      add_target("ours vs pydantic baseline (CPU time), " + inputs[i].name,
                 fmt("%.0fx (wall %.0fx)", ratio, *x.py_s / x.ours.wall), ">= 150x", ratio >= 150);
      break;
    }
    if (py_worst)
      add_target("ours vs pydantic baseline (CPU time), lowest over sizes run",
                 fmt("%.0fx (%s; wall %.0fx)", *py_worst, py_at.c_str(), py_wall), ">= 150x",
                 *py_worst >= 150);
    else
      add_target("ours vs pydantic baseline", "not run (--no-python, or no NAT environment)", ">= 150x",
                 std::nullopt);
    add_target("ours vs NAT's real path (CPU time), lowest over sizes run",
               nat_worst ? fmt("%.0fx (%s; wall %.0fx)", *nat_worst, nat_at.c_str(), nat_wall)
                         : std::string("not run"),
               "(info)", std::nullopt);
    bool all_rss = true;
    for (const auto &x : results) all_rss = all_rss && x.rss_ok;
    add_target(
        "peak RSS of submit path, " + ref.name,
        fmt("%s (budget %s)", format_bytes(r.rss_delta).c_str(),
            format_bytes(static_cast<double>(ref.data.size() + r.out_bytes) + 64.0 * 1024 * 1024).c_str()),
        "<= in+out+64MiB, all sizes", all_rss);
    add_target("linearity: MB/s per size vs their median (CPU time)",
               fmt("worst %.1f%% (wall %.1f%%)", worst_cpu * 100, worst_wall * 100), "within +-25%",
               worst_cpu <= 0.25);
  }
}

}  // namespace nat::bench
