// Move-only RAII owners for every CUDA / cuDNN / cuBLAS object the engine creates. Creation
// throws resnetrs::Error (checked calls); destruction never throws (errors are logged).
// cuDNN descriptors of the legacy convolution API live in cudnn_legacy_conv.cpp.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "cuda/cuda_check.h"

namespace resnetrs::cuda {

struct StreamDeleter {
  void operator()(std::remove_pointer_t<cudaStream_t>* s) const noexcept { RESNETRS_CUDA_CHECK_LOG(cudaStreamDestroy(s)); }
};
struct EventDeleter {
  void operator()(std::remove_pointer_t<cudaEvent_t>* e) const noexcept { RESNETRS_CUDA_CHECK_LOG(cudaEventDestroy(e)); }
};
struct GraphDeleter {
  void operator()(std::remove_pointer_t<cudaGraph_t>* g) const noexcept { RESNETRS_CUDA_CHECK_LOG(cudaGraphDestroy(g)); }
};
struct GraphExecDeleter {
  void operator()(std::remove_pointer_t<cudaGraphExec_t>* g) const noexcept {
    RESNETRS_CUDA_CHECK_LOG(cudaGraphExecDestroy(g));
  }
};
struct CudnnDeleter {
  void operator()(std::remove_pointer_t<cudnnHandle_t>* h) const noexcept { RESNETRS_CUDNN_CHECK_LOG(cudnnDestroy(h)); }
};
struct CublasDeleter {
  void operator()(std::remove_pointer_t<cublasHandle_t>* h) const noexcept { RESNETRS_CUBLAS_CHECK_LOG(cublasDestroy(h)); }
};

using UniqueStream = std::unique_ptr<std::remove_pointer_t<cudaStream_t>, StreamDeleter>;
using UniqueEvent = std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, EventDeleter>;
using UniqueGraph = std::unique_ptr<std::remove_pointer_t<cudaGraph_t>, GraphDeleter>;
using UniqueGraphExec = std::unique_ptr<std::remove_pointer_t<cudaGraphExec_t>, GraphExecDeleter>;
using UniqueCudnn = std::unique_ptr<std::remove_pointer_t<cudnnHandle_t>, CudnnDeleter>;
using UniqueCublas = std::unique_ptr<std::remove_pointer_t<cublasHandle_t>, CublasDeleter>;

// A non-blocking stream (does not synchronize with the legacy default stream).
inline UniqueStream make_stream() {
  cudaStream_t s = nullptr;
  RESNETRS_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return UniqueStream(s);
}

// timing = false creates a cudaEventDisableTiming event (cheaper, for ordering only).
inline UniqueEvent make_event(bool timing) {
  cudaEvent_t e = nullptr;
  RESNETRS_CUDA_CHECK(cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming));
  return UniqueEvent(e);
}

inline UniqueCudnn make_cudnn() {
  cudnnHandle_t h = nullptr;
  RESNETRS_CUDNN_CHECK(cudnnCreate(&h));
  return UniqueCudnn(h);
}

inline UniqueCublas make_cublas() {
  cublasHandle_t h = nullptr;
  RESNETRS_CUBLAS_CHECK(cublasCreate(&h));
  return UniqueCublas(h);
}

// One cudaMalloc'd region. A failed allocation throws Error(kOutOfMemory) naming what it was for
// and how much free memory the device reported.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(size_t bytes, const std::string& what);
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : m_ptr(std::exchange(o.m_ptr, nullptr)), m_bytes(std::exchange(o.m_bytes, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      m_ptr = std::exchange(o.m_ptr, nullptr);
      m_bytes = std::exchange(o.m_bytes, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void reset() noexcept;
  void* get() const { return m_ptr; }
  float* floats() const { return static_cast<float*>(m_ptr); }
  size_t bytes() const { return m_bytes; }

 private:
  void* m_ptr = nullptr;
  size_t m_bytes = 0;
};

// Makes `device` current for the guard's lifetime and restores the caller's device afterwards.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int m_previous = -1;
  bool m_switched = false;
};

}  // namespace resnetrs::cuda
