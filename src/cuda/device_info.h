// The device the engine runs on: selection and the checks made at engine creation.
#pragma once

#include <cstddef>
#include <string>

namespace resnetrs::cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  size_t total_memory = 0;
  int driver_version = 0, runtime_version = 0;  // e.g. 13000
  size_t cudnn_version = 0;                     // runtime cudnnGetVersion(), e.g. 91400
  int cublas_version = 0;
  int kernel_binary_version = 0, kernel_ptx_version = 0;  // what the driver picked for our kernels
  std::string compiled_archs;                             // CMAKE_CUDA_ARCHITECTURES of this build

  std::string describe() const;  // one line for logs
};

// Checks that a CUDA device exists (else Error(kNoDevice)), that `ordinal` names one (else
// kInvalidArgument), makes it current, and that our kernels have an image it can run (else
// kUnsupportedDevice, naming the device's sm and the compiled architectures). Also checks that
// the cuDNN runtime's major version is the one we were compiled against (else kCudnnError).
DeviceInfo select_device(int ordinal);

}  // namespace resnetrs::cuda
