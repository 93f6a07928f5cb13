#include "device_policy.h"

#include <resnetrs/resnetrs.h>

#include "bindings.h"

#ifndef RESNETRS_PY_UNVERIFIED_GPU
#error "python/CMakeLists.txt defines RESNETRS_PY_UNVERIFIED_GPU (0 or 1) from the CMake switch RESNETRS_UNVERIFIED_GPU"
#endif

namespace resnetrs_py {

bool device_inputs_enabled() noexcept { return RESNETRS_PY_UNVERIFIED_GPU != 0; }

std::string dl_device_string(int32_t device_type, int32_t device_id) {
  switch (device_type) {
    case kDLCPU: return "cpu";
    case kDLCUDA: return "cuda:" + std::to_string(device_id);
    case kDLCUDAHost: return "cuda_host (pinned host memory)";
    case kDLCUDAManaged: return "cuda_managed:" + std::to_string(device_id);
    case 10: return "rocm:" + std::to_string(device_id);
    case 8: return "metal";
    default: return "DLPack device type " + std::to_string(device_type);
  }
}

InputRoute decide_input_route(int32_t device_type, int32_t device_id, bool engine_on_cuda, int32_t engine_device,
                              bool gate_on, const char* what) {
  const std::string where = std::string(what) + " is on " + dl_device_string(device_type, device_id);
  if (device_type == kDLCPU || device_type == kDLCUDAHost) return InputRoute::kHost;
  if (device_type != kDLCUDA) {
    raise_invalid(where + ": the engine takes host memory or, on the CUDA backend, memory of its own CUDA device "
                          "(DLPack kDLCUDA); copy it to one of them first (e.g. tensor.cpu())");
  }
  if (!gate_on) {
    raise_invalid(where + ": CUDA tensors as engine input are written but have not yet passed their check on a GPU, "
                          "so this build does not offer them (it was built with RESNETRS_UNVERIFIED_GPU=OFF, the "
                          "default; see docs/python.md and docs/cuda-engine.md, \"Unverified GPU features\"); pass "
                          "host memory (a numpy array, or tensor.cpu())");
  }
  if (!engine_on_cuda) {
    raise_invalid(where + " but the engine runs on the CPU: pass host memory (tensor.cpu()), or build the engine "
                          "with backend='cuda'");
  }
  if (device_id != engine_device) {
    raise_invalid(where + " but the engine runs on cuda:" + std::to_string(engine_device) +
                  ": move it there (tensor.to('cuda:" + std::to_string(engine_device) +
                  "')) or build an engine with device=" + std::to_string(device_id));
  }
  return InputRoute::kDevice;
}

uintptr_t dlpack_stream_handle(long long value) {
  if (value < 0) {
    raise_invalid("stream=" + std::to_string(value) +
                  ": expected a CUDA stream (an int cudaStream_t, 1 for the legacy default stream, 2 for the "
                  "per-thread default stream, or a stream object); the engine runs ordered after the producer's work");
  }
  return value == 0 ? uintptr_t{1} : uintptr_t(value);
}

bool auto_falls_back_to_cpu(int status, const std::string& message) {
  if (status == RESNETRS_STATUS_NO_DEVICE) return true;
  if (status != RESNETRS_STATUS_INVALID_ARGUMENT) return false;
  // The library's refusal of a network it does not run on CUDA names the variant and the CUDA
  // backend (src/engine/engine.cpp, require_cuda_backend_supports, and the gate's wording for a
  // variant written but unverified); its option refusals (precision, device, batch) do not.
  return message.find("variant") != std::string::npos && message.find("CUDA backend") != std::string::npos;
}

}  // namespace resnetrs_py
