// What the GPU and CPU runners share: engine options and creation, info, input pixels.
#include <chrono>
#include <cmath>

#include "api_check.h"
#include "release_configs.h"
#include "stats.h"
#include "runners.h"

namespace bench {

resnetrs_options_t engine_options(const RunSpec& spec) {
  resnetrs_options_t o;
  check_api(resnetrs_options_init(&o));
  o.backend = spec.cuda ? RESNETRS_BACKEND_CUDA : RESNETRS_BACKEND_CPU;
  o.device = spec.device;
  o.precision = spec.precision == "tf32"   ? RESNETRS_PRECISION_TF32
                : spec.precision == "fp16" ? RESNETRS_PRECISION_FP16
                : spec.precision == "bf16" ? RESNETRS_PRECISION_BF16
                : spec.precision == "fp32x3" ? RESNETRS_PRECISION_FP32X3
                                           : RESNETRS_PRECISION_FP32;
  o.max_batch = spec.batch;
  o.height = o.width = spec.resolution;
  o.input_layout = RESNETRS_LAYOUT_NCHW;
  o.cuda_graph = spec.cuda_graph ? 1 : 0;
  o.tuning_cache_path = spec.tuning_cache.empty() ? nullptr : spec.tuning_cache.c_str();
  o.cpu_threads = spec.cpu_threads;
  o.cpu_winograd = spec.cpu_winograd == "off"    ? RESNETRS_CPU_WINOGRAD_OFF
                   : spec.cpu_winograd == "fast" ? RESNETRS_CPU_WINOGRAD_FAST
                                                 : RESNETRS_CPU_WINOGRAD_AUTO;
  return o;
}

resnetrs_engine_t* create_engine_or_null(const RunSpec& spec, double* build_s) {
  const resnetrs_options_t o = engine_options(spec);
  resnetrs_engine_t* e = nullptr;
  const auto t0 = std::chrono::steady_clock::now();
  const resnetrs_status_t s = spec.weights.empty() ? resnetrs_engine_create_synthetic(spec.depth, spec.seed, &o, &e)
                                                   : resnetrs_engine_create_from_file(spec.weights.c_str(), &o, &e);
  *build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (s == RESNETRS_STATUS_OUT_OF_MEMORY) return nullptr;
  check_api(s);
  return e;
}

void fill_from_info(const resnetrs_engine_info_t& info, ConfigResult& r) {
  if (r.spec.depth == 0) r.spec.depth = info.depth;  // from the weights file
  if (info.depth != r.spec.depth) {
    throw std::runtime_error("the weights file holds RS-" + std::to_string(info.depth) + ", not RS-" +
                             std::to_string(r.spec.depth) + " as --model says");
  }
  r.params_m = double(info.trainable_params) / 1e6;
  r.gflops = 2.0 * double(info.macs_per_image) / 1e9;
  r.load_s = info.load_ms / 1000.0;
  r.engine_build_s = info.build_ms / 1000.0;
  r.tune_s = info.tune_ms / 1000.0;
  r.v100_train_step_s = v100_train_step_s(r.spec.depth, r.spec.resolution);
  if (info.backend == RESNETRS_BACKEND_CPU) r.cpu_threads = info.cpu_threads;
}

void fill_timing(const TimedRuns& runs, const std::vector<float>& last_logits, ConfigResult& r) {
  bool finite = true;
  for (float v : last_logits) finite = finite && std::isfinite(v);
  r.outputs_finite = finite;
  r.samples_ms.clear();
  for (const IterationTimes& t : runs.iterations) r.samples_ms.push_back(t.latency_ms);
  r.latency_ms = summarize(r.samples_ms);
  r.iterations = int(r.samples_ms.size());
  r.warmup_iterations = runs.warmup_iterations;
  r.warmup_s = runs.warmup_s;
  r.timed_s = runs.timed_s;
  r.images_per_s = double(r.spec.batch) * r.iterations / runs.timed_s;
  r.ok = true;
}

void fill_pixels(float* pixels, size_t count) {
  uint32_t s = 12345u;
  for (size_t i = 0; i < count; ++i) {
    s = s * 1664525u + 1013904223u;
    pixels[i] = float((s >> 8) % 256u);
  }
}

}  // namespace bench
