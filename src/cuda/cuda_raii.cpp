#include "cuda/cuda_raii.h"

#include <string>

namespace resnetrs::cuda {

DeviceBuffer::DeviceBuffer(size_t bytes, const std::string& what) {
  if (bytes == 0) return;
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // clear the error so later checks do not report it again
    size_t free_bytes = 0, total_bytes = 0;
    const bool have_info = cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess;
    (void)cudaGetLastError();
    const Status status = err == cudaErrorMemoryAllocation ? Status::kOutOfMemory : Status::kCudaError;
    std::string msg = "cudaMalloc of " + std::to_string(bytes) + " bytes for " + what + " failed: " + cudaGetErrorName(err) +
                      " (" + cudaGetErrorString(err) + ")";
    if (have_info) msg += "; device reports " + std::to_string(free_bytes >> 20) + " MiB free of " + std::to_string(total_bytes >> 20);
    throw Error(status, msg);
  }
  m_ptr = p;
  m_bytes = bytes;
}

void DeviceBuffer::reset() noexcept {
  if (m_ptr) RESNETRS_CUDA_CHECK_LOG(cudaFree(m_ptr));
  m_ptr = nullptr;
  m_bytes = 0;
}

DeviceGuard::DeviceGuard(int device) {
  RESNETRS_CUDA_CHECK(cudaGetDevice(&m_previous));
  if (m_previous != device) {
    RESNETRS_CUDA_CHECK(cudaSetDevice(device));
    m_switched = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (m_switched) RESNETRS_CUDA_CHECK_LOG(cudaSetDevice(m_previous));
}

}  // namespace resnetrs::cuda
