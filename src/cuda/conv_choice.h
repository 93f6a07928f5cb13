// How one convolution layer runs: the per-layer decision the tuner makes and the cache stores.
//   kFused: cudnnConvolutionBiasActivationForward(algo) computes conv + bias (+ ReLU) in cuDNN.
//   kPlain: cudnnConvolutionForward(algo) computes conv only; the bias (and ReLU) come after —
//           from our bias_relu kernel for ReLU layers, or from the SE squeeze + block tail kernels
//           for a block's conv3 / projection shortcut (which have no ReLU).
//   kCutlass: the CUTLASS 3xTF32 kernel (precision fp32x3) with tile `algo` (cutlass_tile_name)
//           computes conv + bias (+ ReLU) in its epilogue; math is reported as kFma (not cuDNN's).
#pragma once

#include <cstddef>
#include <string>

#include "cuda/cudnn_legacy_conv.h"

namespace resnetrs::cuda {

enum class ConvMode { kFused, kPlain, kCutlass };

// The CUTLASS tiles by index (the order of resnetrs::cutlass_fprop::kTiles).
constexpr int kCutlassTileCount = 3;
const char* cutlass_tile_name(int tile);

struct ConvChoice {
  ConvMode mode = ConvMode::kPlain;
  int algo = kAlgoImplicitGemm;
  ConvMath math = ConvMath::kFma;
  size_t workspace = 0;  // bytes, at the batch it was chosen for
  float ms = 0;          // measured time of this choice (0 when not timed, e.g. a fallback)

  bool bias_in_conv() const { return mode != ConvMode::kPlain; }
  // "fused IMPLICIT_PRECOMP_GEMM FMA 0.123" (the cache's value format, ms last);
  // "cutlass 128x64x16 3XTF32 0.123" for a CUTLASS choice
  std::string to_string() const;
};

// Parses to_string()'s format; false on any malformed field (workspace is left 0: re-queried).
bool parse_conv_choice(const std::string& text, ConvChoice* out);

const char* conv_mode_name(ConvMode m);

}  // namespace resnetrs::cuda
