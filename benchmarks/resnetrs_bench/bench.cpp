#include "bench.h"

#include <cstdio>
#include <stdexcept>

#include "api_check.h"
#include "environment.h"
#include "release_configs.h"
#include "results_json.h"
#include "runners.h"
#include "table.h"

namespace bench {
namespace {

constexpr int kTableBatch = 128;  // the release measured batch 128 halved until it fit; so do we
constexpr int kCpuTableBatch = 2;
constexpr int kCpuTableResolution = 64;  // small enough for a CI machine, large enough to be a real run
constexpr int kCpuBatch = 1;  // --backend cpu without --batch: one image per run (latency), never halved

// One config with OOM halving: the batch halves until it fits, unless the user fixed it.
ConfigResult run_with_halving(RunSpec spec, const Protocol& protocol, int index, int count) {
  // depth 0: a weights file without --model; the file says which model it is.
  const std::string name = (spec.depth ? config_name(spec.depth, spec.resolution)
                                       : "'" + spec.weights + "' @" + std::to_string(spec.resolution)) +
                           " " + spec.precision;
  const int requested = spec.batch;
  int halvings = 0;
  while (true) {
    std::fprintf(stderr, "[%d/%d] %s batch %d: building and timing...\n", index, count, name.c_str(), spec.batch);
    ConfigResult r;
    try {
      std::optional<ConfigResult> got = spec.cuda ? run_cuda_config(spec, protocol) : run_cpu_config(spec, protocol);
      if (got) {
        r = std::move(*got);
        r.batch_requested = requested;
        r.batch_halvings = halvings;
        const std::string threads = r.cpu_threads ? ", " + std::to_string(*r.cpu_threads) + " threads" : "";
        std::fprintf(stderr, "[%d/%d] %s batch %d: median %.2f ms, %.1f images/s, build %.1f s%s\n", index, count,
                     name.c_str(), r.batch, r.latency_ms.median, r.images_per_s, r.build_s, threads.c_str());
        return r;
      }
      if (spec.batch_explicit || spec.batch == 1) {
        r.error = "OUT_OF_MEMORY: batch " + std::to_string(spec.batch) + " does not fit" +
                  (!spec.cuda ? " (the CPU backend does not halve batches)"
                   : spec.batch_explicit ? " (--batch given: not halved)" : "");
      } else {
        std::fprintf(stderr, "[%d/%d] %s batch %d does not fit (OUT_OF_MEMORY): halving\n", index, count, name.c_str(), spec.batch);
        spec.batch /= 2;
        ++halvings;
        continue;
      }
    } catch (const ApiError& e) {
      r.error = std::string(resnetrs_status_string(e.status)) + ": " + e.what();
    } catch (const std::exception& e) {
      r.error = e.what();
    }
    r.spec = spec;
    r.batch = spec.batch;
    r.batch_requested = requested;
    r.batch_halvings = halvings;
    r.ok = false;
    std::fprintf(stderr, "[%d/%d] %s: FAILED: %s\n", index, count, name.c_str(), r.error.c_str());
    return r;
  }
}

}  // namespace

int run_bench(const BenchArgs& a) {
  std::string why_no_gpu;
  const bool have_gpu = a.backend != BackendChoice::kCpu && cuda_device_available(&why_no_gpu);
  if (a.backend == BackendChoice::kCuda && !have_gpu) {
    std::fprintf(stderr, "resnetrs-bench: --backend cuda: no CUDA device (%s)\n", why_no_gpu.c_str());
    return 1;
  }
  const bool cpu_flags = a.threads || a.winograd;
  if (have_gpu && cpu_flags) {  // the CUDA backend would run: the CPU flags would mean nothing
    std::fprintf(stderr, "resnetrs-bench: %s applies to the CPU backend and a CUDA device was found: add --backend cpu\n",
                 a.threads ? "--threads" : "--winograd");
    return 2;
  }
  const bool cuda = have_gpu;
  const bool table_mode = a.table || (!a.depth && !a.resolution);
  // With no GPU and no flag that asks for the CPU (--backend cpu, --threads, --winograd), the
  // table shrinks to something a CPU finishes quickly; otherwise the configs asked for run with
  // the full protocol.
  const bool reduced = table_mode && !cuda && a.backend == BackendChoice::kAuto && !cpu_flags;
  // On the CPU a batch is never halved (host memory), and one image per run is the default.
  const bool cpu_full = !cuda && !reduced;
  if (reduced && a.backend == BackendChoice::kAuto) {
    std::printf("no CUDA device: running a reduced table on the CPU backend\n");
    std::fflush(stdout);
  }

  RunSpec base;
  base.cuda = cuda;
  base.weights = a.weights;
  base.cuda_graph = a.cuda_graph;
  base.tuning_cache = a.tuning_cache;
  base.cpu_threads = a.threads.value_or(0);
  base.cpu_winograd = a.winograd.value_or("auto");

  std::vector<RunSpec> configs;
  if (reduced) {
    for (int depth : {50, 101}) {
      if (a.depth && *a.depth != depth) continue;
      RunSpec s = base;
      s.depth = depth;
      s.resolution = kCpuTableResolution;
      s.batch = a.batch.value_or(kCpuTableBatch);
      s.batch_explicit = true;
      configs.push_back(s);
    }
    if (configs.empty()) {  // --model rs152 --table on the CPU: its first release config, reduced
      RunSpec s = base;
      s.depth = *a.depth;
      s.resolution = kCpuTableResolution;
      s.batch = a.batch.value_or(kCpuTableBatch);
      s.batch_explicit = true;
      configs.push_back(s);
    }
  } else if (table_mode) {
    for (const ReleaseConfig& c : release_configs()) {
      if (a.depth && *a.depth != c.depth) continue;
      RunSpec s = base;
      s.depth = c.depth;
      s.resolution = c.resolution;
      s.batch = a.batch.value_or(cpu_full ? kCpuBatch : kTableBatch);
      s.batch_explicit = a.batch.has_value() || cpu_full;
      configs.push_back(s);
    }
  } else {
    RunSpec s = base;
    s.depth = a.depth.value_or(0);
    s.resolution = a.resolution.value_or(a.depth ? default_resolution(*a.depth) : 224);
    s.batch = a.batch.value_or(cpu_full ? kCpuBatch : kTableBatch);
    s.batch_explicit = a.batch.has_value() || cpu_full;
    configs.push_back(s);
  }
  // Each config in each precision, a config's precisions side by side.
  std::vector<RunSpec> specs;
  for (const RunSpec& c : configs) {
    for (const std::string& p : a.precisions) {
      RunSpec s = c;
      s.precision = p;
      specs.push_back(s);
    }
  }
  Protocol protocol;
  protocol.warmup_ms = a.warmup_ms.value_or(200);
  protocol.min_iterations = a.iterations.value_or(reduced ? 3 : 10);
  protocol.min_duration_s = a.duration_s.value_or(reduced ? 0.0 : table_mode ? 1.0 : 3.0);

  RunRecord rec;
  rec.argv = a.argv;
  rec.precisions = a.precisions;
  rec.cuda_graph = a.cuda_graph;
  rec.weights = a.weights;
  rec.cuda = cuda;
  rec.reduced_cpu_table = reduced;
  rec.cpu_threads = base.cpu_threads;
  rec.cpu_winograd = base.cpu_winograd;
  rec.protocol = protocol;
  rec.environment = collect_environment(cuda, 0);
  print_header(stdout, rec);
  std::fflush(stdout);

  int failures = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    rec.results.push_back(run_with_halving(specs[i], protocol, int(i) + 1, int(specs.size())));
    failures += rec.results.back().ok ? 0 : 1;
    // After every config: a run stopped by a time limit (scripts/device-check) keeps what it measured.
    if (!a.json_path.empty()) write_results_json(a.json_path, rec);
  }
  std::printf("\n");
  print_table(stdout, rec);
  if (!a.json_path.empty()) {
    write_results_json(a.json_path, rec);
    std::printf("results written to %s\n", a.json_path.c_str());
  }
  if (failures) std::fprintf(stderr, "resnetrs-bench: %d of %zu config(s) failed\n", failures, specs.size());
  return failures ? 1 : 0;
}

}  // namespace bench
