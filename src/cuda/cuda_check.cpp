#include "cuda/cuda_check.h"

#include <cstdio>
#include <string>

namespace resnetrs::cuda {
namespace {

std::string where(const char* call, const char* file, int line) {
  return std::string(" in `") + call + "` at " + file + ":" + std::to_string(line);
}

}  // namespace

std::string cudnn_status_text(cudnnStatus_t status) {
  std::string text = cudnnGetErrorString(status);
  char detail[1024] = {0};
  cudnnGetLastErrorString(detail, sizeof(detail));
  if (detail[0] != '\0') text += std::string(" (") + detail + ")";
  return text;
}

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  const Status status = err == cudaErrorMemoryAllocation ? Status::kOutOfMemory
                        : (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) ? Status::kNoDevice
                        : (err == cudaErrorNoKernelImageForDevice || err == cudaErrorInvalidDeviceFunction)
                            ? Status::kUnsupportedDevice
                            : Status::kCudaError;
  throw Error(status, std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")" +
                          where(call, file, line));
}

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
 const Status s = status == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED ? Status::kOutOfMemory : Status::kCudnnError;
  throw Error(s, "cuDNN error " + cudnn_status_text(status) + where(call, file, line));
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  const Status s = status == CUBLAS_STATUS_ALLOC_FAILED ? Status::kOutOfMemory : Status::kCublasError;
  throw Error(s, std::string("cuBLAS error ") + cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")" +
                     where(call, file, line));
}

void log_cuda_error(cudaError_t err, const char* call, const char* file, int line) noexcept {
  // At process exit the runtime may already be unloading: nothing useful to report then.
  if (err == cudaErrorCudartUnloading) return;
  std::fprintf(stderr, "resnetrs: CUDA error %s (%s) in `%s` at %s:%d (ignored during cleanup)\n", cudaGetErrorName(err),
               cudaGetErrorString(err), call, file, line);
}

void log_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) noexcept {
  std::fprintf(stderr, "resnetrs: cuDNN error %s in `%s` at %s:%d (ignored during cleanup)\n", cudnnGetErrorString(status),
               call, file, line);
}

void log_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) noexcept {
  std::fprintf(stderr, "resnetrs: cuBLAS error %s in `%s` at %s:%d (ignored during cleanup)\n", cublasGetStatusName(status),
               call, file, line);
}

}  // namespace resnetrs::cuda
