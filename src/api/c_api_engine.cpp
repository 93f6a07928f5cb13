// Engine creation, destruction, info and the two run calls of the C API.
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

#include "c_api_internal.h"
#include "c_api_options.h"
#include "engine_handle.h"
#include "io/weights_file.h"
#include "model/fold.h"

namespace resnetrs::capi {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Builds the engine from folded weights and fills the handle's info.
std::unique_ptr<resnetrs_engine> build_handle(const FoldedWeights& weights, const EngineOptions& options, double load_ms,
                                              int train_resolution) {
  auto handle = std::make_unique<resnetrs_engine>();
  const Clock::time_point t0 = Clock::now();
  handle->engine = create_engine(weights, options);
  const double build_ms = ms_since(t0);
  if (options.backend == Backend::kCuda) {
    DeviceScope scope(options.device);
    handle->run_order = std::make_unique<RunOrder>(options.device);
  }
  const Engine& e = *handle->engine;
  const NetworkDesc& net = e.network();
  resnetrs_engine_info_t& info = handle->info;
  info.struct_size = sizeof(info);
  info.depth = net.config.depth;
  info.num_classes = net.num_classes;
  info.channels = 3;
  info.height = net.height;
  info.width = net.width;
  info.input_layout = options.input_layout == Layout::kNHWC ? RESNETRS_LAYOUT_NHWC : RESNETRS_LAYOUT_NCHW;
  info.max_batch = options.max_batch;
  info.backend = options.backend == Backend::kCpu ? RESNETRS_BACKEND_CPU : RESNETRS_BACKEND_CUDA;
  info.precision = int32_t(options.precision);
  info.device = options.backend == Backend::kCpu ? -1 : options.device;
  info.cuda_graph = options.backend == Backend::kCuda && options.cuda_graph ? 1 : 0;
  info.trainable_params = net.trainable_params();
  info.macs_per_image = net.macs();
  info.device_bytes = e.device_bytes();
  info.load_ms = load_ms;
  info.build_ms = build_ms;
  info.tune_ms = e.tune_ms();
  info.train_resolution = train_resolution;
  info.cpu_threads = options.backend == Backend::kCpu ? e.cpu_threads() : 0;
  return handle;
}

// Everything that can be checked before the weights are read (which takes seconds).
EngineOptions checked_options(const resnetrs_options_t* options) {
  EngineOptions o = to_engine_options(options);
  if (o.backend == Backend::kCuda) require_cuda_device(o.device);
  return o;
}

void require_engine_out(resnetrs_engine_t** engine) {
  RESNETRS_CHECK_ARG(engine != nullptr, "engine (the address that receives the new engine) must not be NULL");
  *engine = nullptr;
}

void require_run_args(const resnetrs_engine_t* engine, const float* input, int32_t batch, const float* logits) {
  RESNETRS_CHECK_ARG(engine != nullptr, "engine must not be NULL");
  RESNETRS_CHECK_ARG(input != nullptr, "input must not be NULL");
  RESNETRS_CHECK_ARG(logits != nullptr, "logits must not be NULL");
  RESNETRS_CHECK_ARG(batch >= 1 && batch <= engine->info.max_batch,
                     "batch is " + std::to_string(batch) + ", expected 1.." + std::to_string(engine->info.max_batch) +
                         " (the engine's max_batch)");
}

}  // namespace
}  // namespace resnetrs::capi

using namespace resnetrs;

resnetrs_status_t resnetrs_engine_create_from_file(const char* path, const resnetrs_options_t* options,
                                                   resnetrs_engine_t** engine) {
  return capi::guarded(__func__, [&] {
    capi::require_engine_out(engine);
    const EngineOptions o = capi::checked_options(options);
    RESNETRS_CHECK_ARG(path != nullptr && *path != '\0', "path must be a non-empty file name");
    const capi::Clock::time_point t0 = capi::Clock::now();
    int train_resolution = 0;
    FoldedWeights folded = [&] {
      const RawWeights raw = load_weights(path);  // freed at the end of this lambda
      train_resolution = raw.attrs.train_resolution;
      return fold_weights(raw, "weights file '" + std::string(path) + "'");
    }();
    *engine = capi::build_handle(folded, o, capi::ms_since(t0), train_resolution).release();
  });
}

resnetrs_status_t resnetrs_engine_create_synthetic(int32_t depth, uint64_t seed, const resnetrs_options_t* options,
                                                   resnetrs_engine_t** engine) {
  return capi::guarded(__func__, [&] {
    capi::require_engine_out(engine);
    const EngineOptions o = capi::checked_options(options);
    config_for_depth(depth);  // throws kInvalidArgument naming the valid depths
    const capi::Clock::time_point t0 = capi::Clock::now();
    FoldedWeights folded = fold_weights(synthetic_weights(depth, seed));
    *engine = capi::build_handle(folded, o, capi::ms_since(t0), /*train_resolution=*/0).release();
  });
}

void resnetrs_engine_destroy(resnetrs_engine_t* engine) {
  try {
    delete engine;
  } catch (...) {
    // Destructors do not throw; this only keeps the promise that nothing crosses the ABI.
  }
}

resnetrs_status_t resnetrs_engine_get_info(const resnetrs_engine_t* engine, resnetrs_engine_info_t* info) {
  return capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(engine != nullptr, "engine must not be NULL");
    RESNETRS_CHECK_ARG(info != nullptr, "info must not be NULL");
    // API version 1's struct ended before train_resolution, versions 2-3's before cpu_threads (on
    // LP64 cpu_threads sits in their tail padding, so the size is the same): each gets its fields.
    const size_t v1_size = offsetof(resnetrs_engine_info_t, train_resolution);
    const size_t v3_size = offsetof(resnetrs_engine_info_t, cpu_threads);
    RESNETRS_CHECK_ARG(info->struct_size == sizeof(resnetrs_engine_info_t) || info->struct_size == v1_size ||
                           info->struct_size == v3_size,
                       "info->struct_size is " + std::to_string(info->struct_size) + ", this library expects " +
                           std::to_string(sizeof(resnetrs_engine_info_t)) + " (or " + std::to_string(v1_size) +
                           " from an API version 1 header; set it to sizeof(resnetrs_engine_info_t))");
    const size_t size = info->struct_size;
    std::memcpy(static_cast<void*>(info), &engine->info, size);  // immutable after creation: no lock needed
    info->struct_size = size;
  });
}

resnetrs_status_t resnetrs_engine_run_host(resnetrs_engine_t* engine, const float* input, int32_t batch, float* logits) {
  return capi::guarded(__func__, [&] {
    capi::require_run_args(engine, input, batch, logits);
    std::lock_guard<std::mutex> lock(engine->run_mutex);
    if (engine->run_order) {
      capi::DeviceScope scope(engine->run_order->device());
      engine->run_order->wait_for_last_run();  // a run_device may still be using the engine's memory
      engine->engine->run_host(input, batch, logits);
    } else {
      engine->engine->run_host(input, batch, logits);
    }
  });
}

resnetrs_status_t resnetrs_engine_run_device(resnetrs_engine_t* engine, const float* input, int32_t batch, float* logits,
                                             void* stream) {
  return capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(engine != nullptr, "engine must not be NULL");
    RESNETRS_CHECK_ARG(engine->run_order != nullptr,
                       "this engine runs on the CPU backend (RESNETRS_BACKEND_CPU), which has no device memory: use "
                       "resnetrs_engine_run_host, or create the engine with RESNETRS_BACKEND_CUDA");
    capi::require_run_args(engine, input, batch, logits);
    std::lock_guard<std::mutex> lock(engine->run_mutex);
    capi::RunOrder& order = *engine->run_order;
    capi::DeviceScope scope(order.device());
    capi::require_device_pointer(input, order.device(), "input");
    capi::require_device_pointer(logits, order.device(), "logits");
    CUstream_st* s = order.begin_device_run(stream);  // a cudaStream_t
    engine->engine->run_device(input, batch, logits, s);
    order.end_device_run(s);
  });
}
