// What a resnetrs_engine_t is: the C++ engine, the info computed when it was built, the mutex
// that serializes its runs and, on the CUDA backend, the ordering of its device runs.
#pragma once

#include <memory>
#include <mutex>

#include "cuda_run_order.h"
#include "engine/engine.h"
#include "resnetrs/resnetrs.h"

struct resnetrs_engine {
  std::unique_ptr<resnetrs::Engine> engine;
  resnetrs_engine_info_t info{};
  std::mutex run_mutex;  // one run at a time: runs share the engine's working memory
  std::unique_ptr<resnetrs::capi::RunOrder> run_order;  // CUDA backend only

  resnetrs_engine() = default;
  resnetrs_engine(const resnetrs_engine&) = delete;
  resnetrs_engine& operator=(const resnetrs_engine&) = delete;

  // Waits for the last device run before the engine's memory goes, on the engine's device.
  ~resnetrs_engine() {
    if (!run_order) return;
    try {
      resnetrs::capi::DeviceScope scope(run_order->device());
      run_order.reset();
      engine.reset();
    } catch (...) {
      run_order.reset();  // the device is gone: free what can be freed, never throw
    }
  }
};
