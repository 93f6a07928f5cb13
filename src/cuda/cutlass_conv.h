// The CUDA engine's side of the CUTLASS 3xTF32 convolutions (precision fp32x3; resnetrs_cutlass,
// docs/cutlass.md): whether a tile applies to a layer, timing the tiles to choose one, running
// the choice. Compiled in every build; without CUTLASS (RESNETRS_CUTLASS=OFF or headers not
// found) cutlass_convs_built() is false and the engine refuses fp32x3 before any CUDA call.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "cuda/conv_choice.h"
#include "model/network.h"

namespace resnetrs::cuda {

// True when this library was linked with resnetrs_cutlass.
bool cutlass_convs_built() noexcept;

// Whether tile `tile` (0..kCutlassTileCount-1) can run `shape` at `batch` (host only).
bool cutlass_applies(int tile, const ConvShape& shape, int batch, std::string* why = nullptr);
// Whether any tile can.
bool cutlass_applies_any(const ConvShape& shape, int batch);

struct CutlassOperands {
  const float* x = nullptr;     // NHWC, 16-byte aligned
  const float* w = nullptr;     // KRSC (our OHWI upload)
  const float* bias = nullptr;  // [cout]
  float* y = nullptr;           // NHWC; must not overlap x
};

// Enqueues y = act(conv(x, w) + bias) with tile `tile` (act = ReLU for relu layers, identity
// otherwise). Error(kInvalidArgument) when the tile does not apply, kCudaError on a failure.
void run_cutlass_conv(int tile, const ConvShape& shape, int batch, const CutlassOperands& ops, cudaStream_t stream);

// Times every tile that applies (one warm-up, then 3 trials of 2 calls; best trial mean) and
// returns the fastest as a kCutlass choice. False when no tile applies. `summary` gets one line
// per tile for debug prints.
bool tune_cutlass_conv(const ConvShape& shape, int batch, const CutlassOperands& ops, cudaStream_t stream, ConvChoice* out,
                       std::string* summary);

}  // namespace resnetrs::cuda
