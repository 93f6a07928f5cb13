// The fast CPU engine (docs/cpu-engine.md): NHWC float32 activations; each convolution through
// the implementation chosen for it at build (conv_choice.h: oneDNN, our GEMM, Winograd); the SE
// squeeze and gate, the block tail, the shortcut pool, the input normalization and the head in our
// own kernels (isa/isa_kernels.h); every step split over the engine's threads (OpenMP) so that each
// output value is computed by one thread in a fixed order: the logits do not depend on the thread
// count once the algorithms are the same (tests/unit/test_cpu_fast_engine.cpp checks it).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cpu/fast/conv_choice.h"
#include "engine/engine.h"

namespace resnetrs::cpu::fast {

// What the engine chose for one convolution layer and why.
struct LayerPlan {
  std::string layer;      // the weights-file name, e.g. "stage2/block0/conv2"
  std::string algorithm;  // ConvImpl::name() of the chosen one
  std::vector<CandidateReport> candidates;
};

struct FastEngineFacts {
  int threads = 1;
  std::string isa;         // our kernels: "generic" or "avx2"
  std::string onednn_isa;  // what oneDNN runs, e.g. "avx512_core_amx", "sse41"
  std::string onednn_version;
  std::vector<LayerPlan> plan;
};

// forced_algorithms: empty, or one ConvImpl::name() per convolution layer in execution order (stem,
// then per block conv1, conv2, conv3, shortcut) to build exactly those instead of timing (tests).
std::unique_ptr<Engine> make_fast_engine(const FoldedWeights& weights, const EngineOptions& options,
                                         const std::vector<std::string>& forced_algorithms = {});

// The facts of an engine made by make_fast_engine (throws Error(kInvalidArgument) for another engine).
const FastEngineFacts& fast_engine_facts(const Engine& engine);

}  // namespace resnetrs::cpu::fast
