#include "cuda_build_facts.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

namespace resnetrs::capi {
namespace {

int32_t cublas_runtime_version() {
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS) {
    return 0;
  }
  return major * 10000 + minor * 100 + patch;
}

}  // namespace

void fill_cuda_build_facts(resnetrs_build_info_t& b) noexcept {
  int v = 0;
  b.cuda_runtime_version = cudaRuntimeGetVersion(&v) == cudaSuccess ? v : CUDART_VERSION;
  v = 0;
  // 0 when no driver is installed (documented behaviour of cudaDriverGetVersion).
  b.cuda_driver_version = cudaDriverGetVersion(&v) == cudaSuccess ? v : 0;
  b.cudnn_version_compiled = CUDNN_VERSION;
  b.cudnn_version_runtime = int32_t(cudnnGetVersion());
  b.cublas_version_runtime = cublas_runtime_version();
}

}  // namespace resnetrs::capi
