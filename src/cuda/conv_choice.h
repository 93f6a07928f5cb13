// How one convolution layer runs: the per-layer decision the tuner makes and the cache stores.
//   kFused: cudnnConvolutionBiasActivationForward(algo) computes conv + bias (+ ReLU) in cuDNN.
//   kPlain: cudnnConvolutionForward(algo) computes conv only; the bias (and ReLU) come after —
//           from our bias_relu kernel for ReLU layers, or from the SE squeeze + block tail kernels
//           for a block's conv3 / projection shortcut (which have no ReLU).
#pragma once

#include <cstddef>
#include <string>

#include "cuda/cudnn_legacy_conv.h"

namespace resnetrs::cuda {

enum class ConvMode { kFused, kPlain };

struct ConvChoice {
  ConvMode mode = ConvMode::kPlain;
  int algo = kAlgoImplicitGemm;
  ConvMath math = ConvMath::kFma;
  size_t workspace = 0;  // bytes, at the batch it was chosen for
  float ms = 0;          // measured time of this choice (0 when not timed, e.g. a fallback)

  bool bias_in_conv() const { return mode == ConvMode::kFused; }
  // "fused IMPLICIT_PRECOMP_GEMM FMA 0.123" (the cache's value format, ms last)
  std::string to_string() const;
};

// Parses to_string()'s format; false on any malformed field (workspace is left 0: re-queried).
bool parse_conv_choice(const std::string& text, ConvChoice* out);

const char* conv_mode_name(ConvMode m);

}  // namespace resnetrs::cuda
