// Per-shape timing of every way to run one convolution layer, picking the fastest.
//
// Candidates (all timed by us with CUDA events on the same buffers: one timed warm-up call, then
// 3 trials of 2 calls; the score is the best trial's mean):
//   ReLU layers:   fused conv+bias+ReLU with each algorithm cudnnFind returned, and
//                  plain conv (each of Find's 3 fastest algorithms) + our bias_relu kernel;
//   no-ReLU layers (conv3, projection shortcut): fused conv+bias with IMPLICIT_PRECOMP_GEMM (the only
//                  algorithm cuDNN allows with identity activation), and plain conv with Find's 3
//                  fastest algorithms (the bias then costs nothing: the tail kernel adds it).
// Workspace of every candidate <= the cap. Ties (equal times) go to the earlier candidate in a
// fixed order (fused before plain, then by algorithm number), so the choice is deterministic
// given the timings. A candidate cuDNN refuses (NOT_SUPPORTED, BAD_PARAM) is dropped and noted.
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "cuda/conv_choice.h"
#include "cuda/cudnn_legacy_conv.h"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::cuda {

// Buffers in the convolution's data type (LegacyConv::data_type()), except `bias`: fp32 always
// (our epilogue kernels read it); `bias_conv` is the same bias in the data type for cuDNN's fused
// call (nullptr: `bias`, which is right for fp32 data only).
struct TuneBuffers {
  const void* x = nullptr;      // input of the geometry's size
  const void* w = nullptr;      // filter
  const float* bias = nullptr;  // [cout], fp32
  void* y = nullptr;            // output (overwritten)
  const void* bias_conv = nullptr;  // [cout] in the data type, for the fused call
  void* workspace = nullptr;
  size_t workspace_bytes = 0;   // the cap
};

struct CandidateResult {
  ConvChoice choice;
  bool ok = false;
  std::string note;  // why it was dropped, when !ok
};

struct TuneOutcome {
  ConvChoice best;
  std::vector<CandidateResult> candidates;
  std::string summary() const;  // one line per candidate, for debug prints
};

// Which candidates compete: all (the engine's default), or only one mode (tests use these to
// exercise both bias placements of every layer through the whole network).
enum class ConvPolicy { kTimed, kFusedOnly, kPlainOnly };

// The cuDNN handle behind `conv` must already be bound to `stream`. Throws Error when no
// candidate works (should not happen: IMPLICIT_GEMM needs no workspace) or on a CUDA fault.
TuneOutcome tune_conv(LegacyConv& conv, bool relu, const TuneBuffers& buffers, kernels::TensorLayout layout,
                      cudaStream_t stream, ConvPolicy policy = ConvPolicy::kTimed);

// Times one choice the same way (used by tests and by the cache check). Returns false when cuDNN
// refuses it (note says why).
bool time_conv_choice(LegacyConv& conv, bool relu, const ConvChoice& choice, const TuneBuffers& buffers,
                      kernels::TensorLayout layout, cudaStream_t stream, float* ms, std::string* note);

// Runs one choice once: for ReLU layers the result is relu(conv + bias) either way; for no-ReLU
// layers fused gives conv + bias and plain gives conv only (bias_in_conv() tells which).
// Throws Error(kCudnnError/kCudaError) on failure.
// x, w, y in the conv's data type; bias fp32; bias_conv the bias in the data type (nullptr: bias,
// fp32 data only). The plain path's ReLU epilogue runs in the data type (bias_act). A kCutlass
// choice is not cuDNN's: Error(kInternal).
void run_conv_choice(LegacyConv& conv, bool relu, const ConvChoice& choice, const void* x, const void* w,
                     const float* bias, void* y, void* workspace, size_t workspace_bytes, kernels::TensorLayout layout,
                     cudaStream_t stream, const void* bias_conv = nullptr);

}  // namespace resnetrs::cuda
