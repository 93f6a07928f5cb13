// Device-code availability probe: tells whether this library holds SASS or PTX the current device
// can run, before any real kernel is launched (engine creation refuses unbuilt devices).
#pragma once

#include <cuda_runtime_api.h>

namespace resnetrs::kernels {

struct KernelImageInfo {
  int binary_version = 0;  // SASS architecture the driver picked, e.g. 90 (0 when unavailable)
  int ptx_version = 0;     // PTX version compiled in, e.g. 90
};

// cudaFuncGetAttributes on one of our kernels for the current device. Returns its error
// (cudaErrorNoKernelImageForDevice / cudaErrorInvalidDeviceFunction when nothing fits) without
// throwing; clears the sticky error state it may leave.
cudaError_t probe_kernel_image(KernelImageInfo* info);

}  // namespace resnetrs::kernels
