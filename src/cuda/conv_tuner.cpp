#include "cuda/conv_tuner.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>

#include "common/error.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_raii.h"
#include "kernels/bias_relu.cuh"

namespace resnetrs::cuda {
namespace {

constexpr int kTrials = 3;          // timed trials per candidate
constexpr int kCallsPerTrial = 2;   // calls per trial (their mean is the trial's time)
constexpr float kSkipFactor = 4.0f; // a warm-up slower than 4x the best so far is not refined
constexpr int kPlainCandidates = 3; // Find's fastest algorithms tried on the plain path

// Status codes that mean "this algorithm does not apply here" (the CUDNN_STATUS_BAD_PARAM_* and
// CUDNN_STATUS_NOT_SUPPORTED_* families), as opposed to a fault (internal/execution errors).
bool is_refusal(cudnnStatus_t st) { return int(st) >= 2000 && int(st) < 4000; }

// The plain path's epilogue for a ReLU layer: y = relu(y + bias) in the conv's data type.
void bias_relu_epilogue(LegacyConv& conv, void* y, const float* bias, kernels::TensorLayout layout, cudaStream_t stream) {
  const ConvGeometry& g = conv.geometry();
  if (conv.data_type() == kernels::ActType::kF32) {
    kernels::launch_bias_relu(static_cast<float*>(y), bias, g.n, g.cout, g.h_out() * g.w_out(), layout, stream);
  } else {
    kernels::launch_bias_act(y, conv.data_type(), bias, g.n, g.cout, g.h_out() * g.w_out(), layout,
                             kernels::PointwiseAct::kRelu, stream);
  }
}

const void* fused_bias(LegacyConv& conv, const float* bias, const void* bias_conv) {
  if (bias_conv) return bias_conv;
  RESNETRS_CHECK_ARG(conv.data_type() == kernels::ActType::kF32,
                     "a 16-bit convolution's fused call needs the bias in its data type (bias_conv)");
  return bias;
}

cudnnStatus_t call_choice(LegacyConv& conv, bool relu, const ConvChoice& c, const void* x, const void* w,
                          const float* bias, const void* bias_conv, void* y, void* ws, size_t ws_bytes,
                          kernels::TensorLayout layout, cudaStream_t stream) {
  if (c.mode == ConvMode::kFused) {
    return conv.try_forward_fused(c.algo, c.math, relu, x, w, fused_bias(conv, bias, bias_conv), y, ws, ws_bytes);
  }
  if (c.mode != ConvMode::kPlain) return CUDNN_STATUS_NOT_SUPPORTED;
  const cudnnStatus_t st = conv.try_forward(c.algo, c.math, x, w, y, ws, ws_bytes);
  if (st == CUDNN_STATUS_SUCCESS && relu) bias_relu_epilogue(conv, y, bias, layout, stream);
  return st;
}

float elapsed(cudaEvent_t a, cudaEvent_t b) {
  RESNETRS_CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  RESNETRS_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms;
}

// Returns false (with note) when cuDNN refuses the choice; *ms = best trial mean.
bool time_choice(LegacyConv& conv, bool relu, const ConvChoice& c, const TuneBuffers& b, kernels::TensorLayout layout,
                 cudaStream_t stream, float best_so_far, float* ms, std::string* note) {
  UniqueEvent start = make_event(true), stop = make_event(true);
  auto once = [&]() {
    return call_choice(conv, relu, c, b.x, b.w, b.bias, b.bias_conv, b.y, b.workspace, b.workspace_bytes, layout, stream);
  };

  RESNETRS_CUDA_CHECK(cudaEventRecord(start.get(), stream));
  const cudnnStatus_t st = once();
  RESNETRS_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
  const float warm = elapsed(start.get(), stop.get());
  if (st != CUDNN_STATUS_SUCCESS) {
    // Any refusal drops the candidate. Anything else (internal or execution failure) drops it
    // too as long as the CUDA context is still healthy; a sticky CUDA error ends the build.
    if (!is_refusal(st)) {
      const cudaError_t health = cudaStreamSynchronize(stream);
      if (health != cudaSuccess) {
        throw_error(Status::kCudnnError, "cuDNN error " + cudnn_status_text(st) + " while timing " + c.to_string() + " on " +
                                             conv.geometry().describe() + ", leaving the device in error " +
                                             cudaGetErrorName(health));
      }
    }
    if (note) *note = cudnn_status_text(st);
    return false;
  }
  float best = warm;
  if (warm <= kSkipFactor * best_so_far) {
    best = std::numeric_limits<float>::max();
    for (int t = 0; t < kTrials; ++t) {
      RESNETRS_CUDA_CHECK(cudaEventRecord(start.get(), stream));
      for (int i = 0; i < kCallsPerTrial; ++i) {
        const cudnnStatus_t again = once();
        if (again != CUDNN_STATUS_SUCCESS) {
          throw_error(Status::kCudnnError, "cuDNN error " + cudnn_status_text(again) + " on a repeat of " + c.to_string() +
                                               " on " + conv.geometry().describe());
        }
      }
      RESNETRS_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
      best = std::min(best, elapsed(start.get(), stop.get()) / kCallsPerTrial);
    }
  } else if (note) {
    *note = "warm-up only (slower than 4x the best)";
  }
  *ms = best;
  return true;
}

}  // namespace

std::string TuneOutcome::summary() const {
  std::string s;
  for (const CandidateResult& c : candidates) {
    s += "    " + std::string(c.ok ? "  " : "x ") + c.choice.to_string() + " ws " + std::to_string(c.choice.workspace);
    if (!c.note.empty()) s += " (" + c.note + ")";
    s += "\n";
  }
  s += "    -> " + best.to_string() + "\n";
  return s;
}

bool time_conv_choice(LegacyConv& conv, bool relu, const ConvChoice& choice, const TuneBuffers& buffers,
                      kernels::TensorLayout layout, cudaStream_t stream, float* ms, std::string* note) {
  return time_choice(conv, relu, choice, buffers, layout, stream, std::numeric_limits<float>::max(), ms, note);
}

void run_conv_choice(LegacyConv& conv, bool relu, const ConvChoice& c, const void* x, const void* w,
                     const float* bias, void* y, void* workspace, size_t workspace_bytes, kernels::TensorLayout layout,
                     cudaStream_t stream, const void* bias_conv) {
  if (c.mode == ConvMode::kFused) {
    conv.forward_fused(c.algo, c.math, relu, x, w, fused_bias(conv, bias, bias_conv), y, workspace, workspace_bytes);
  } else if (c.mode == ConvMode::kPlain) {
    conv.forward(c.algo, c.math, x, w, y, workspace, workspace_bytes);
    if (relu) bias_relu_epilogue(conv, y, bias, layout, stream);
  } else {
    throw_error(Status::kInternal, "run_conv_choice: " + c.to_string() + " is not a cuDNN choice");
  }
}

TuneOutcome tune_conv(LegacyConv& conv, bool relu, const TuneBuffers& b, kernels::TensorLayout layout,
                      cudaStream_t stream, ConvPolicy policy) {
  RESNETRS_CHECK_ARG(b.x && b.w && b.bias && b.y, "tune_conv: null buffer");
  RESNETRS_CHECK_ARG(b.bias_conv || conv.data_type() == kernels::ActType::kF32, "tune_conv: a 16-bit convolution needs bias_conv");
  const std::vector<ConvAlgoPerf> found = conv.find(b.x, b.w, b.y, b.workspace, b.workspace_bytes);

  // Candidate list in the fixed tie-break order: fused (by algorithm), then plain (by algorithm).
  std::vector<ConvChoice> fused, plain;
  auto add_unique = [](std::vector<ConvChoice>& list, const ConvChoice& c) {
    for (const ConvChoice& o : list) {
      if (o.algo == c.algo && o.math == c.math) return;
    }
    list.push_back(c);
  };
  auto with_workspace = [&](ConvChoice c) -> bool {
    size_t bytes = 0;
    if (conv.workspace_size(c.algo, c.math, &bytes) != CUDNN_STATUS_SUCCESS || bytes > b.workspace_bytes) return false;
    c.workspace = bytes;
    add_unique(c.mode == ConvMode::kFused ? fused : plain, c);
    return true;
  };
  if (relu) {
    for (const ConvAlgoPerf& p : found) with_workspace(ConvChoice{ConvMode::kFused, p.algo, p.math, p.workspace, 0});
  } else {
    // Identity activation: cuDNN accepts only IMPLICIT_PRECOMP_GEMM in the fused call. Use the
    // math Find reported for it when it did, else the descriptor's default.
    ConvMath math = conv.default_math();
    for (const ConvAlgoPerf& p : found) {
      if (p.algo == kAlgoImplicitPrecompGemm) {
        math = p.math;
        break;
      }
    }
    with_workspace(ConvChoice{ConvMode::kFused, kAlgoImplicitPrecompGemm, math, 0, 0});
  }
  int plain_count = 0;
  for (const ConvAlgoPerf& p : found) {  // Find's order: fastest first
    if (plain_count >= kPlainCandidates) break;
    if (with_workspace(ConvChoice{ConvMode::kPlain, p.algo, p.math, p.workspace, 0})) ++plain_count;
  }
  if (plain.empty()) with_workspace(ConvChoice{ConvMode::kPlain, kAlgoImplicitGemm, conv.default_math(), 0, 0});
  auto by_algo = [](const ConvChoice& a, const ConvChoice& c) { return a.algo != c.algo ? a.algo < c.algo : int(a.math) < int(c.math); };
  std::stable_sort(fused.begin(), fused.end(), by_algo);
  std::stable_sort(plain.begin(), plain.end(), by_algo);
  if (policy == ConvPolicy::kPlainOnly) fused.clear();

  TuneOutcome out;
  float best = std::numeric_limits<float>::max();
  bool have_best = false;
  for (const std::vector<ConvChoice>* list : {&fused, &plain}) {
    // kFusedOnly: plain candidates only when no fused one ran at all.
    if (list == &plain && policy == ConvPolicy::kFusedOnly && have_best) break;
    for (const ConvChoice& c : *list) {
      CandidateResult r;
      r.choice = c;
      float ms = 0;
      r.ok = time_choice(conv, relu, c, b, layout, stream, best, &ms, &r.note);
      if (r.ok) {
        r.choice.ms = ms;
        if (!have_best || ms < best) {
          best = ms;
          out.best = r.choice;
          have_best = true;
        }
      }
      out.candidates.push_back(r);
    }
  }
  if (!have_best) {
    std::string detail;
    for (const CandidateResult& r : out.candidates) detail += "\n  " + r.choice.to_string() + ": " + r.note;
    throw_error(Status::kCudnnError, "no cuDNN algorithm runs " + conv.geometry().describe() +
                                         " within the workspace cap of " + std::to_string(b.workspace_bytes) +
                                         " bytes; candidates:" + detail);
  }
  return out;
}

}  // namespace resnetrs::cuda
