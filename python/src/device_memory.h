// Device memory for the logits of a CUDA input (engine(x) with x on the engine's GPU): the one
// place where the extension itself calls the CUDA runtime (linked statically, as libresnetrs does).
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>

namespace resnetrs_py {

namespace nb = nanobind;

// `count` floats of device memory on CUDA device `device` (cudaMalloc there; the current device is
// restored), owned by `owner` (cudaFree when the last array using it goes). Raises CudaError when
// the allocation fails, NoDeviceError in a build without CUDA.
float* allocate_device_floats(int device, size_t count, nb::capsule& owner);

}  // namespace resnetrs_py
