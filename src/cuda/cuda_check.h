// Checked calls into the CUDA runtime, cuDNN and cuBLAS. Each macro evaluates the call once and,
// on failure, throws resnetrs::Error with the matching status (kCudaError / kCudnnError /
// kCublasError; an allocation failure becomes kOutOfMemory), the call's text, the library's error
// name and message, and file:line. The *_LOG variants are for destructors: they print to stderr and
// never throw.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "common/error.h"

namespace resnetrs::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);
void log_cuda_error(cudaError_t err, const char* call, const char* file, int line) noexcept;
void log_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) noexcept;
void log_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) noexcept;

// "CUDNN_STATUS_xxx: message" (adds cuDNN's last detailed error message when it has one).
std::string cudnn_status_text(cudnnStatus_t status);

}  // namespace resnetrs::cuda

#define RESNETRS_CUDA_CHECK(call)                                                                       \
  do {                                                                                                  \
    const cudaError_t resnetrs_err_ = (call);                                                           \
    if (resnetrs_err_ != cudaSuccess) ::resnetrs::cuda::throw_cuda_error(resnetrs_err_, #call, __FILE__, __LINE__); \
  } while (0)

#define RESNETRS_CUDNN_CHECK(call)                                                                     \
  do {                                                                                                 \
    const cudnnStatus_t resnetrs_st_ = (call);                                                         \
    if (resnetrs_st_ != CUDNN_STATUS_SUCCESS)                                                          \
      ::resnetrs::cuda::throw_cudnn_error(resnetrs_st_, #call, __FILE__, __LINE__);                    \
  } while (0)

#define RESNETRS_CUBLAS_CHECK(call)                                                                    \
  do {                                                                                                 \
    const cublasStatus_t resnetrs_st_ = (call);                                                        \
    if (resnetrs_st_ != CUBLAS_STATUS_SUCCESS)                                                         \
      ::resnetrs::cuda::throw_cublas_error(resnetrs_st_, #call, __FILE__, __LINE__);                   \
  } while (0)

#define RESNETRS_CUDA_CHECK_LOG(call)                                                                   \
  do {                                                                                                  \
    const cudaError_t resnetrs_err_ = (call);                                                           \
    if (resnetrs_err_ != cudaSuccess) ::resnetrs::cuda::log_cuda_error(resnetrs_err_, #call, __FILE__, __LINE__); \
  } while (0)

#define RESNETRS_CUDNN_CHECK_LOG(call)                                                                 \
  do {                                                                                                 \
    const cudnnStatus_t resnetrs_st_ = (call);                                                         \
    if (resnetrs_st_ != CUDNN_STATUS_SUCCESS)                                                          \
      ::resnetrs::cuda::log_cudnn_error(resnetrs_st_, #call, __FILE__, __LINE__);                      \
  } while (0)

#define RESNETRS_CUBLAS_CHECK_LOG(call)                                                                \
  do {                                                                                                 \
    const cublasStatus_t resnetrs_st_ = (call);                                                        \
    if (resnetrs_st_ != CUBLAS_STATUS_SUCCESS)                                                         \
      ::resnetrs::cuda::log_cublas_error(resnetrs_st_, #call, __FILE__, __LINE__);                     \
  } while (0)
