// Element-wise storage conversions: fp32 -> `type` (round to nearest even, as the CPU engine's
// storage emulation rounds) for weights uploaded once at build, and `type` -> fp32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/act_type.cuh"

namespace resnetrs::kernels {

void launch_convert_from_f32(const float* in, void* out, ActType type, int64_t count, cudaStream_t stream);
void launch_convert_to_f32(const void* in, ActType type, float* out, int64_t count, cudaStream_t stream);

}  // namespace resnetrs::kernels
