// nat-bench-capi: Google Benchmark micro-benchmarks of single C ABI calls,
// with the plugins loaded by dlopen as a host loads them.
//
//   status          nat_trainer_adapter_status + buffer_free on a finished job
//   status_unknown  the error path: a job that does not exist, + error_free
//   convert/N       nat_trainer_adapter_convert on a collection of about N bytes
//
// Run it directly (Google Benchmark's flags apply, e.g. --benchmark_repetitions=5)
// or through `meson test -C build --benchmark nat-bench-capi`.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "bench_util.h"
#include "collection_generator.h"

using namespace nat::bench;

namespace {

struct ExportJob {
  PluginApi api;
  nat_trainer_adapter *adapter = nullptr;
  std::string ref;
  std::string dir;  // the export's output directory, removed at exit
};

ExportJob *g_export_job = nullptr;

ExportJob &export_job() {
  static ExportJob *job = [] {
    auto *j = new ExportJob();
    j->api = PluginApi::load(NAT_BENCH_EXPORT_PLUGIN);
    char dir[] = "/tmp/nat-bench-capi-XXXXXX";
    if (!::mkdtemp(dir)) std::abort();
    j->dir = dir;
    std::string config =
        std::string("{\"_type\":\"jsonl_export_trainer_adapter\",\"output_dir\":\"") + dir + "\"}";
    j->api.check(j->api.create(config.data(), config.size(), &j->adapter), "create");
    j->api.check(j->api.initialize(j->adapter, "{}", 2), "initialize");
    CollectionShape tiny;
    tiny.groups = 1;
    tiny.generations = 2;
    tiny.turns = 2;
    tiny.tokens = 4;
    std::string coll = generate_collection(tiny);
    nat_trainer_adapter_buffer *ref = nullptr;
    j->api.check(j->api.submit(j->adapter, coll.data(), coll.size(), &ref), "submit");
    j->ref = j->api.take(ref);
    nat_trainer_adapter_buffer *st = nullptr;
    j->api.check(j->api.wait_until_complete(j->adapter, j->ref.data(), j->ref.size(), 10.0, 0.0, &st),
                 "wait");
    j->api.buffer_free(st);
    g_export_job = j;
    return j;
  }();
  return *job;
}

void status(benchmark::State &state) {
  ExportJob &j = export_job();
  for (auto _ : state) {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *err = j.api.status(j.adapter, j.ref.data(), j.ref.size(), &b);
    benchmark::DoNotOptimize(err);
    j.api.buffer_free(b);
  }
}
BENCHMARK(status);

void status_unknown(benchmark::State &state) {
  ExportJob &j = export_job();
  static const char ref[] = "{\"run_id\":\"no-such-run\",\"backend\":\"jsonl-export\"}";
  for (auto _ : state) {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *err = j.api.status(j.adapter, ref, sizeof ref - 1, &b);
    benchmark::DoNotOptimize(err);
    j.api.error_free(err);
  }
}
BENCHMARK(status_unknown);

void convert(benchmark::State &state) {
  static PluginApi api = PluginApi::load(NAT_BENCH_ART_PLUGIN);
  static nat_trainer_adapter *adapter = [] {
    const char cfg[] =
        "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":7623}}";
    nat_trainer_adapter *a = nullptr;
    api.check(api.create(cfg, sizeof cfg - 1, &a), "create");
    return a;
  }();
  CollectionShape shape;  // small groups, so that small sizes are reachable
  shape.generations = 2;
  shape.turns = 4;
  shape.tokens = 16;
  std::string coll = generate_collection_of_size(shape, static_cast<size_t>(state.range(0)), nullptr);
  for (auto _ : state) {
    nat_trainer_adapter_buffer *b = nullptr;
    api.check(api.convert(adapter, coll.data(), coll.size(), &b), "convert");
    benchmark::DoNotOptimize(b);
    api.buffer_free(b);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(coll.size()));
  state.counters["input_bytes"] = static_cast<double>(coll.size());
}
BENCHMARK(convert)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_export_job) {
    g_export_job->api.destroy(g_export_job->adapter);
    std::error_code ec;
    std::filesystem::remove_all(g_export_job->dir, ec);
  }
  return 0;
}
