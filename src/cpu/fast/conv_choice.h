// Choosing how each convolution layer of the fast CPU engine runs, as the CUDA engine chooses
// cuDNN's algorithms: every candidate that applies is built and timed on the layer's own shape,
// and the fastest eligible one is kept.
//
// Candidates: oneDNN's direct convolution (every layer); our GEMM (1x1 stride-1 layers); for 3x3
// stride-1 layers, oneDNN's Winograd where oneDNN has one and our Winograd F(2x2,3x3) and
// F(4x4,3x3) (winograd_conv.h). Winograd candidates follow EngineOptions::cpu_winograd: kOff drops
// them; kAuto keeps one only where its error against a float64 convolution, measured at build on
// a seeded sample of the layer (conv_error_probe.h), is at most 2x the direct convolution's;
// kFast keeps them all.
//
// The choices are remembered for the process (keyed by the layer's shape, its weights' bytes and
// the options that matter), and in the tuning cache file when the engine has one: an engine built
// again for the same model runs the same algorithms, so gives bit-identical logits, and skips the
// timing. A remembered choice that is no longer a candidate is timed again. Layers are chosen one
// at a time per process, so engines built in parallel agree too.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/choice_cache_file.h"
#include "cpu/fast/conv_impl.h"
#include "engine/engine.h"
#include "model/fold.h"
#include "model/network.h"

namespace resnetrs::cpu::fast {

struct CandidateReport {
  std::string name;
  double ms = -1;               // best of the timed runs at the tuning batch; -1: not timed
  double error = -1;            // max |y - y64| / max |y64| on the probe sample; -1: not probed
  double direct_error = -1;     // the direct convolution's on the same sample
  bool eligible = true;
  std::string why_not;          // when not eligible
};

struct ConvChoice {
  std::unique_ptr<ConvImpl> impl;
  std::vector<CandidateReport> candidates;
};

struct ChoiceContext {
  CpuWinograd winograd = CpuWinograd::kAuto;
  CpuIsa isa = CpuIsa::kGeneric;  // resolved
  int threads = 1;
  int max_batch = 1;
  int tune_batch = 1;             // images per timed run
  // Forced choice by name (tests: the same algorithms at every thread count); empty: time them.
  std::string forced;
  // Scratch for timing: input and output of at least tune_batch images of the layer, and workspace.
  float* scratch_in = nullptr;
  float* scratch_out = nullptr;
  // The tuning cache file (EngineOptions::tuning_cache_path; may be disabled) and what its keys
  // start with: the processor and the oneDNN build (cpu_cache_machine()).
  ChoiceCacheFile* cache = nullptr;
  std::string cache_machine;
};

// "<processor model>|onednn<version>:<its instruction set>", sanitized for a cache key.
std::string cpu_cache_machine(const std::string& onednn_version, const std::string& onednn_isa);

// A tuning cache file for the CPU engine's choices (keys "cpu1|...", values: ConvImpl::name()).
ChoiceCacheFile cpu_tuning_cache(const std::string& path);

// Builds the candidates of one layer and keeps one. Throws Error(kInvalidArgument) when `forced`
// names no candidate of this layer.
ConvChoice choose_conv(const ConvShape& shape, const FoldedConv& weights, const ChoiceContext& ctx);

}  // namespace resnetrs::cpu::fast
