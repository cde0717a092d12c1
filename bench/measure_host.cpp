// 6-7: discovering and loading plugins, and the C ABI's per-call cost.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "collection_generator.h"
#include "harness.h"

namespace fs = std::filesystem;

namespace nat::bench {

// ---------------------------------------------------------------------------
// 6: discovery and loading
// ---------------------------------------------------------------------------

void run_discovery(const Options &o, const std::string &work) {
  fs::path dir = fs::path(work) / "plugins100";
  fs::path empty = fs::path(work) / "plugins0";
  fs::create_directories(dir);
  fs::create_directories(empty);
  auto dir_perms = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                   fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(dir, dir_perms);
  fs::permissions(empty, dir_perms);
  for (int i = 0; i < o.discovery_plugins; ++i) {
    fs::path to = dir / fmt("libnat_trainer_adapter_copy%03d.so", i);
    fs::copy_file(o.art_plugin, to, fs::copy_options::overwrite_existing);
    fs::permissions(to, dir_perms);
  }
  out("  %d copies of %s (%s each) in %s\n", o.discovery_plugins, fs::path(o.art_plugin).filename().c_str(),
      format_bytes(static_cast<double>(fs::file_size(o.art_plugin))).c_str(), dir.c_str());
  int runs = std::max(o.runs, 5);
  out("  (wall clock / CPU time, medians; the targets are judged on CPU time, which the load of a shared\n"
      "   machine disturbs least)\n");
  auto both_ms = [](const std::vector<double> &wall, const std::vector<double> &cpu) {
    return fmt("%.1f / %.1f ms", median(wall) * 1e3, median(cpu) * 1e3);
  };

  struct Discovery {
    std::vector<double> wall, cpu;
    std::string summary;
  };
  auto discover = [&](const std::vector<std::string> &preload) {
    Discovery d;
    for (int i = 0; i <= runs; ++i) {
      std::vector<std::string> argv = {o.driver, "discover", dir.string()};
      argv.insert(argv.end(), preload.begin(), preload.end());
      ChildResult c = run_child(argv);
      if (c.status != 0) throw BenchError("nat-bench-driver discover failed: " + c.output);
      if (i == 0) {
        size_t p = c.output.find("plugins=");
        d.summary = p == std::string::npos ? c.output : c.output.substr(p);
        if (!d.summary.empty() && d.summary.back() == '\n') d.summary.pop_back();
        continue;  // warm-up (page cache)
      }
      d.wall.push_back(field_of(c.output, "seconds").value_or(0));
      d.cpu.push_back(field_of(c.output, "cpu_s").value_or(0));
    }
    return d;
  };
  Discovery all = discover({});
  Discovery pre = discover({kCurl});
  out("  in-process discover_plugins() over the directory, %d processes: %s (%s)\n", runs,
      both_ms(all.wall, all.cpu).c_str(), all.summary.c_str());
  out("    the same with %s already loaded in the process: %s, i.e. %.0f us CPU per plugin file\n", kCurl,
      both_ms(pre.wall, pre.cpu).c_str(), median(pre.cpu) / o.discovery_plugins * 1e6);
  add_target(fmt("discover %d plugin files (host library, in-process)", o.discovery_plugins),
             fmt("%.1f ms CPU (wall %.1f)", median(all.cpu) * 1e3, median(all.wall) * 1e3), "< 50 ms",
             median(all.cpu) < 0.050);
  if (!o.nat_trainer.empty() && ::access(o.nat_trainer.c_str(), X_OK) == 0) {
    auto time_list = [&](const fs::path &d, std::vector<double> *cpu, std::string *first_output) {
      std::vector<double> t;
      for (int i = 0; i <= runs; ++i) {
        ChildResult c = run_child({o.nat_trainer, "--plugin-dir", d.string(), "list"}, true);
        if (c.status != 0) throw BenchError("nat-trainer list failed: " + c.output.substr(0, 400));
        if (i == 0) {
          if (first_output) *first_output = c.output;
          continue;
        }
        t.push_back(c.seconds);
        cpu->push_back(c.cpu_seconds);
      }
      return t;
    };
    std::string listing;
    std::vector<double> full_cpu, base_cpu;
    std::vector<double> full = time_list(dir, &full_cpu, &listing);
    std::vector<double> base = time_list(empty, &base_cpu, nullptr);
    size_t lines = static_cast<size_t>(std::count(listing.begin(), listing.end(), '\n'));
    out("  nat-trainer --plugin-dir DIR list, whole process, %d runs: %s; with an empty DIR: %s\n"
        "    (both also search the build tree's plugin directory; %zu lines of output)\n",
        runs, both_ms(full, full_cpu).c_str(), both_ms(base, base_cpu).c_str(), lines);
    add_target(fmt("nat-trainer list with %d plugin files (process)", o.discovery_plugins),
               fmt("%.1f ms CPU (wall %.1f)", median(full_cpu) * 1e3, median(full) * 1e3), "< 50 ms",
               median(full_cpu) < 0.050);
  } else {
    out("  nat-trainer list: skipped, %s is not there\n",
        o.nat_trainer.empty() ? "the host (host/)" : o.nat_trainer.c_str());
  }

  // Loading one plugin in a fresh process: dlopen + abi_version + plugin_info + create.
  struct Load {
    std::vector<double> total, cpu, dl, abi, info, create;
    double objects = 0;
  };
  auto load_one = [&](const std::string &plugin, const char *config,
                      const std::vector<std::string> &preload) {
    Load l;
    for (int i = 0; i <= runs * 2; ++i) {
      std::vector<std::string> argv = {o.driver, "load-one", plugin, config};
      argv.insert(argv.end(), preload.begin(), preload.end());
      ChildResult c = run_child(argv);
      if (c.status != 0) throw BenchError("nat-bench-driver load-one failed: " + c.output);
      if (i == 0) continue;
      l.total.push_back(field_of(c.output, "total_s").value_or(0));
      l.cpu.push_back(field_of(c.output, "cpu_s").value_or(0));
      l.dl.push_back(field_of(c.output, "dlopen_s").value_or(0));
      l.abi.push_back(field_of(c.output, "abi_s").value_or(0));
      l.info.push_back(field_of(c.output, "info_s").value_or(0));
      l.create.push_back(field_of(c.output, "create_s").value_or(0));
      l.objects = field_of(c.output, "objects_loaded").value_or(0);
    }
    return l;
  };
  auto show = [&](const char *what, const Load &l) {
    out("  %s, %zu processes: %s\n    = dlopen %.2f ms (%.0f shared objects mapped) + abi_version %.1f us"
        " + plugin_info %.1f us + create %.2f ms (wall)\n",
        what, l.total.size(), both_ms(l.total, l.cpu).c_str(), median(l.dl) * 1e3, l.objects,
        median(l.abi) * 1e6, median(l.info) * 1e6, median(l.create) * 1e3);
  };
  Load art = load_one(o.art_plugin, kArtConfig, {});
  show("load the openpipe-art plugin in a fresh process", art);
  Load art_pre = load_one(o.art_plugin, kArtConfig, {kCurl});
  show(fmt("the same with %s already loaded", kCurl).c_str(), art_pre);
  {
    // The plugin loads libcurl at its first request, not at dlopen or create.
    std::vector<double> first, first_cpu, later;
    double objects = 0;
    for (int i = 0; i <= runs * 2; ++i) {
      ChildResult c = run_child({o.driver, "first-request", o.art_plugin});
      if (c.status != 0) throw BenchError("nat-bench-driver first-request failed: " + c.output);
      if (i == 0) continue;
      first.push_back(field_of(c.output, "first_s").value_or(0));
      first_cpu.push_back(field_of(c.output, "first_cpu_s").value_or(0));
      later.push_back(field_of(c.output, "second_s").value_or(0));
      objects = field_of(c.output, "objects_loaded").value_or(0);
    }
    out("  the openpipe-art plugin's first request (is_healthy against a closed port, after create), %zu "
        "processes:\n"
        "    %s, %.0f shared objects mapped then (libcurl, loaded on first use); the next request %.2f ms\n",
        first.size(), both_ms(first, first_cpu).c_str(), objects, median(later) * 1e3);
  }
  std::string export_config = "{\"_type\":\"jsonl_export_trainer_adapter\",\"output_dir\":" +
                              nlohmann::json(work + "/jsonl-export").dump() + "}";
  Load exp = load_one(o.export_plugin, export_config.c_str(), {});
  show("load the jsonl_export plugin (no libcurl) in a fresh process", exp);
  add_target("load one plugin (dlopen+abi_version+plugin_info+create)",
             fmt("%.1f ms CPU (wall %.1f)", median(art.cpu) * 1e3, median(art.total) * 1e3), "< 5 ms",
             median(art.cpu) < 0.005);
  add_target("  the same, jsonl_export plugin (no libcurl)",
             fmt("%.2f ms CPU (wall %.2f)", median(exp.cpu) * 1e3, median(exp.total) * 1e3), "< 5 ms",
             median(exp.cpu) < 0.005);
  std::vector<double> t;
  for (int i = 0; i <= runs; ++i) {
    ChildResult c = run_child({o.driver, "host-load", o.art_plugin});
    if (c.status != 0) throw BenchError("nat-bench-driver host-load failed: " + c.output);
    if (i) t.push_back(field_of(c.output, "seconds").value_or(0));
  }
  out("  the host's PluginLibrary::load of the openpipe-art plugin (Boost.DLL, info JSON checked, all\n"
      "    functions resolved, no create), fresh process: %.2f ms wall\n",
      median(t) * 1e3);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::remove_all(empty, ec);
}

// ---------------------------------------------------------------------------
// 7: the C ABI per call
// ---------------------------------------------------------------------------

void run_capi(const Options &o, const std::string &work) {
  PluginApi api = PluginApi::load(o.export_plugin);
  std::string config = "{\"_type\":\"jsonl_export_trainer_adapter\",\"output_dir\":" +
                       nlohmann::json(work + "/jsonl-export").dump() + "}";
  nat_trainer_adapter *adapter = nullptr;
  api.check(api.create(config.data(), config.size(), &adapter), "create");
  api.check(api.initialize(adapter, "{}", 2), "initialize");
  CollectionShape tiny;
  tiny.groups = 1;
  tiny.generations = 2;
  tiny.turns = 2;
  tiny.tokens = 4;
  std::string coll = generate_collection(tiny);
  nat_trainer_adapter_buffer *ref_buf = nullptr;
  api.check(api.submit(adapter, coll.data(), coll.size(), &ref_buf), "submit");
  std::string ref = api.take(ref_buf);
  nat_trainer_adapter_buffer *st = nullptr;
  api.check(api.wait_until_complete(adapter, ref.data(), ref.size(), 10.0, 0.0, &st), "wait");
  std::string final_status = api.take(st);

  const int iterations = 20000;
  std::vector<double> per_call, per_call_cpu;
  size_t status_bytes = 0;
  for (int rep = 0; rep < std::max(o.runs, 7) + 1; ++rep) {
    double c0 = thread_cpu_seconds();
    auto t0 = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      nat_trainer_adapter_buffer *b = nullptr;
      nat_trainer_adapter_error *err = api.status(adapter, ref.data(), ref.size(), &b);
      if (err) api.check(err, "status");
      status_bytes = api.buffer_size(b);
      api.buffer_free(b);
    }
    double dt = seconds_since(t0);
    double dc = thread_cpu_seconds() - c0;
    if (rep) {  // the first is a warm-up
      per_call.push_back(dt / iterations);
      per_call_cpu.push_back(dc / iterations);
    }
  }
  double med = median(per_call), med_cpu = median(per_call_cpu);
  out("  nat_trainer_adapter_status + buffer_free on a finished job (jsonl_export plugin; %zu-byte status),\n"
      "  %d calls x %zu repetitions: %.0f ns per call wall clock (fastest repetition %.0f ns), %.0f ns CPU "
      "time\n",
      status_bytes, iterations, per_call.size(), med * 1e9, minimum(per_call) * 1e9, med_cpu * 1e9);
  add_target("C ABI status() + buffer_free() per call",
             fmt("%.0f ns CPU (wall %.0f)", med_cpu * 1e9, med * 1e9), "< 2 us", med_cpu < 2e-6);
  api.destroy(adapter);
}

}  // namespace nat::bench
