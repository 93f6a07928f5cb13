// The gate for GPU features that are written and compiled but that no GPU has run yet
// (docs/cuda-engine.md, "Unverified GPU features"). A default build refuses them with a message
// naming the CMake switch RESNETRS_UNVERIFIED_GPU; the device pack's build (switch ON) lets them
// through so that scripts/device-check can verify them. Host-only: the CUDA factory asks before
// any CUDA call, so the answer is the same with or without a GPU.
#pragma once

#include <string>

#include "engine/engine.h"

namespace resnetrs {

// True when this library was configured with -DRESNETRS_UNVERIFIED_GPU=ON.
bool unverified_gpu_enabled() noexcept;

// Throws Error(kInvalidArgument) naming `feature`, the switch and the docs section, unless the
// switch is ON. `feature` reads as a noun phrase, e.g. "precision fp16 on the CUDA backend".
void require_unverified_gpu(const std::string& feature);

// The CUDA backend's precisions: fp32 and tf32 are verified; fp16, bf16 and fp32x3 pass only
// through require_unverified_gpu. An out-of-range value is kInvalidArgument.
void require_cuda_precision_available(Precision precision);

// True for the precisions that are behind the gate (fp16, bf16, fp32x3).
bool precision_is_unverified_on_gpu(Precision precision) noexcept;

}  // namespace resnetrs
