// The CUDA device queries of resnetrs-bench (a CPU-only build links no_cuda.cpp instead).
#include <cuda_runtime_api.h>

#include "environment.h"

namespace bench {

bool cuda_device_available(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (why) *why = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err);
    return false;
  }
  if (count == 0) {
    if (why) *why = "cudaGetDeviceCount found 0 devices";
    return false;
  }
  return true;
}

void add_device_facts(Environment& env, int device, const resnetrs_build_info_t& b) {
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
    env.device_name = prop.name;
    env.compute_capability = std::to_string(prop.major) + "." + std::to_string(prop.minor);
    env.sm_count = prop.multiProcessorCount;
    env.device_memory_bytes = int64_t(prop.totalGlobalMem);
  } else {
    cudaGetLastError();
    env.device_name = "unknown CUDA device " + std::to_string(device);
  }
  if (b.cuda_driver_version > 0) env.driver_version = cuda_version_string(b.cuda_driver_version);
  env.cuda_runtime_version = cuda_version_string(b.cuda_runtime_version);
  if (b.cudnn_version_runtime > 0) env.cudnn_version = triple_version_string(b.cudnn_version_runtime);
  if (b.cublas_version_runtime > 0) env.cublas_version = triple_version_string(b.cublas_version_runtime);
}

}  // namespace bench
