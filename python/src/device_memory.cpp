#include "device_memory.h"

#include <string>

#include <resnetrs/resnetrs.h>

#include "bindings.h"

#if RESNETRS_PY_CUDA
#include <cuda_runtime_api.h>
#endif

namespace resnetrs_py {

#if RESNETRS_PY_CUDA

float* allocate_device_floats(int device, size_t count, nb::capsule& owner) {
  int previous = -1;
  cudaError_t err = cudaGetDevice(&previous);
  if (err == cudaSuccess) err = cudaSetDevice(device);
  void* p = nullptr;
  if (err == cudaSuccess) err = cudaMalloc(&p, count * sizeof(float));
  if (previous >= 0 && previous != device) (void)cudaSetDevice(previous);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    raise_status(err == cudaErrorMemoryAllocation ? RESNETRS_STATUS_OUT_OF_MEMORY : RESNETRS_STATUS_CUDA_ERROR,
                 "cannot allocate " + std::to_string(count * sizeof(float)) + " bytes for the logits on cuda:" +
                     std::to_string(device) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
  }
  // cudaFree waits for the work using the memory (it synchronizes), so dropping the logits while
  // the engine still writes them on the caller's stream is safe.
  owner = nb::capsule(p, [](void* q) noexcept { (void)cudaFree(q); });
  return static_cast<float*>(p);
}

#else

float* allocate_device_floats(int, size_t, nb::capsule&) {
  raise_status(RESNETRS_STATUS_NO_DEVICE, "this resnetrs was built without CUDA: device inputs are not available");
}

#endif

}  // namespace resnetrs_py
