#include "cuda/device_info.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>

#include "common/error.h"
#include "cuda/cuda_check.h"
#include "kernels/probe.cuh"

#ifndef RESNETRS_CUDA_ARCHS
#define RESNETRS_CUDA_ARCHS "unknown"
#endif

namespace resnetrs::cuda {

std::string DeviceInfo::describe() const {
  return "device " + std::to_string(ordinal) + ": " + name + " (sm_" + std::to_string(cc_major) + std::to_string(cc_minor) +
         ", " + std::to_string(sm_count) + " SMs, " + std::to_string(total_memory >> 20) + " MiB), driver " +
         std::to_string(driver_version) + ", runtime " + std::to_string(runtime_version) + ", cuDNN " +
         std::to_string(cudnn_version) + ", cuBLAS " + std::to_string(cublas_version) + ", kernels sm_" +
         std::to_string(kernel_binary_version) + " (ptx " + std::to_string(kernel_ptx_version) + "), built for " +
         compiled_archs;
}

DeviceInfo select_device(int ordinal) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    throw_error(Status::kNoDevice, std::string("no usable CUDA device: ") +
                                       (err != cudaSuccess ? std::string(cudaGetErrorName(err)) + " (" + cudaGetErrorString(err) + ")"
                                                           : std::string("device count is 0")));
  }
  RESNETRS_CHECK_ARG(ordinal >= 0 && ordinal < count,
                     "CUDA device " + std::to_string(ordinal) + " does not exist (" + std::to_string(count) + " present)");
  RESNETRS_CUDA_CHECK(cudaSetDevice(ordinal));

  DeviceInfo info;
  info.ordinal = ordinal;
  info.compiled_archs = RESNETRS_CUDA_ARCHS;
  cudaDeviceProp prop{};
  RESNETRS_CUDA_CHECK(cudaGetDeviceProperties(&prop, ordinal));
  info.name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  info.total_memory = prop.totalGlobalMem;
  RESNETRS_CUDA_CHECK(cudaDriverGetVersion(&info.driver_version));
  RESNETRS_CUDA_CHECK(cudaRuntimeGetVersion(&info.runtime_version));

  kernels::KernelImageInfo image;
  const cudaError_t probe = kernels::probe_kernel_image(&image);
  if (probe != cudaSuccess) {
    throw_error(Status::kUnsupportedDevice,
                "device " + std::to_string(ordinal) + " (" + info.name + ", sm_" + std::to_string(info.cc_major) +
                    std::to_string(info.cc_minor) + ") cannot run this build's kernels: " + cudaGetErrorName(probe) +
                    " (" + cudaGetErrorString(probe) + "); compiled CUDA architectures: " + info.compiled_archs +
                    ". Rebuild with -DCMAKE_CUDA_ARCHITECTURES including " + std::to_string(info.cc_major) +
                    std::to_string(info.cc_minor));
  }
  info.kernel_binary_version = image.binary_version;
  info.kernel_ptx_version = image.ptx_version;

  info.cudnn_version = cudnnGetVersion();
  if (info.cudnn_version / 10000 != CUDNN_MAJOR) {
    throw_error(Status::kCudnnError, "cuDNN runtime " + std::to_string(info.cudnn_version) +
                                         " does not match the major version this library was built with (" +
                                         std::to_string(CUDNN_VERSION) + ")");
  }
  info.cublas_version = 0;
  // cublasGetProperty needs no handle.
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS) {
    info.cublas_version = major * 10000 + minor * 100 + patch;
  }
  return info;
}

}  // namespace resnetrs::cuda
