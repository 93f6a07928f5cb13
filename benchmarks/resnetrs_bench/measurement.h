// What one benchmark run is asked to do (RunSpec, Protocol) and everything it measured
// (ConfigResult): the rows of the table and the "results" entries of the JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stats.h"

namespace bench {

struct RunSpec {
  int depth = 50;
  int resolution = 160;
  int batch = 128;              // the batch to try first
  bool batch_explicit = false;  // given by --batch: no halving on OOM
  std::string weights;          // a weights file; empty: synthetic weights
  uint64_t seed = 1;            // synthetic weights seed
  std::string precision = "fp32";
  bool cuda = true;             // backend
  bool cuda_graph = true;
  std::string tuning_cache;
  int device = 0;
  int cpu_threads = 0;                 // requested (0: the cores this process may run on)
  std::string cpu_winograd = "auto";  // auto | off | fast
};

// trtexec's protocol: warm-up by wall time (at least one run), then at least `min_iterations`
// runs and at least `min_duration_s` seconds of them.
struct Protocol {
  double warmup_ms = 200;
  int min_iterations = 10;
  double min_duration_s = 1.0;
};

struct MemoryReport {
  std::optional<int64_t> baseline_used;  // cudaMemGetInfo used bytes before create (I/O buffers included)
  std::optional<int64_t> after_build;    // used after create, minus the baseline
  std::optional<int64_t> after_runs;     // used after the timed runs, minus the baseline
  std::optional<int64_t> peak;           // max of the two
  std::optional<int64_t> engine;         // the engine's own report (resnetrs_engine_info_t.device_bytes)
};

struct ConfigResult {
  RunSpec spec;
  int batch_requested = 0;  // the batch first tried
  int batch = 0;            // the batch that ran (after halving)
  int batch_halvings = 0;
  bool ok = false;
  std::string error;        // when !ok: "STATUS: message"
  double params_m = 0;      // trainable parameters as timm counts them, millions
  double gflops = 0;        // per image, 2 x MACs
  std::optional<double> v100_train_step_s;
  // Timing.
  int warmup_iterations = 0;
  double warmup_s = 0;
  int iterations = 0;
  double timed_s = 0;               // wall time of the timed runs
  Summary latency_ms;               // CUDA events around each run (GPU) / steady_clock (CPU)
  Summary host_ms;                  // wall time of each iteration, synchronization included
  std::optional<Summary> enqueue_ms;  // wall time inside resnetrs_engine_run_device (GPU)
  std::vector<double> samples_ms;   // every latency sample, in order
  double images_per_s = 0;          // batch x iterations / timed_s
  // Build.
  double build_s = 0;               // wall time of resnetrs_engine_create_*
  double load_s = 0, engine_build_s = 0, tune_s = 0;  // the engine's own breakdown
  MemoryReport memory;
  std::optional<bool> outputs_finite;  // logits of the last run all finite
  std::optional<int> cpu_threads;      // CPU backend: the threads the engine resolved (its info)
};

}  // namespace bench
