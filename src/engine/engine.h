// The C++ engine interface shared by both backends (CPU reference and CUDA). An engine is built
// once for a network, a maximum batch and an input resolution; run() then allocates nothing.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "model/fold.h"
#include "model/network.h"

namespace resnetrs {

enum class Backend { kCpu, kCuda };
// kFp32x3: split-TF32 (each fp32 operand as a TF32 high part plus a TF32 low part, three tensor-core
// products, fp32 accumulation): near-fp32 accuracy at tensor-core speed, sm_80 and newer.
// fp16, bf16 and fp32x3 are behind the RESNETRS_UNVERIFIED_GPU switch (engine/gpu_gate.h).
enum class Precision { kFp32, kTf32, kFp16, kBf16, kFp32x3 };
enum class Layout { kNCHW, kNHWC };
// Winograd convolutions on the CPU backend (the 3x3 stride-1 layers; docs/cpu-engine.md):
// kAuto: per layer, only where the measured error against a float64 reference stays within 2x
// the direct convolution's, and only where it is faster; kOff: never; kFast: the faster choice on
// every 3x3 stride-1 layer whatever its error (opt-in, less exact).
enum class CpuWinograd { kAuto, kOff, kFast };
// The instruction set of the CPU backend's own kernels. kAuto: the best this processor has
// (or the environment variable RESNETRS_CPU_ISA: generic | avx2 | avx512); kGeneric forces the
// portable path (x86-64 baseline) that machines without AVX2 or FMA run.
enum class CpuIsa { kAuto, kGeneric, kAvx2, kAvx512 };

const char* backend_name(Backend b);
const char* precision_name(Precision p);
const char* layout_name(Layout l);

struct EngineOptions {
  Backend backend = Backend::kCuda;
  int device = 0;                          // CUDA device ordinal
  Precision precision = Precision::kFp32;  // strict fp32 (no TF32) unless asked
  int max_batch = 1;
  int height = 224, width = 224;           // input resolution the engine is built for
  Layout input_layout = Layout::kNCHW;     // layout of the caller's input pixels
  size_t workspace_cap_bytes = size_t(256) << 20;  // cuDNN workspace cap per convolution
  std::string tuning_cache_path;           // empty: no cache
  bool cuda_graph = true;                  // capture the forward as a CUDA graph
  // CPU backend: threads of one run (0: the cores this process may run on, sched_getaffinity).
  int cpu_threads = 0;
  CpuWinograd cpu_winograd = CpuWinograd::kAuto;
  CpuIsa cpu_isa = CpuIsa::kAuto;
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual const NetworkDesc& network() const = 0;
  virtual const EngineOptions& options() const = 0;

  // input: `batch` images of float32 RGB pixels on the 0..255 scale, in options().input_layout,
  // at options().height x width; logits: [batch, num_classes]. Host pointers. 1 <= batch <= max_batch.
  virtual void run_host(const float* input, int batch, float* logits) = 0;

  // Same with device pointers, enqueued on `stream` (a cudaStream_t; nullptr = the engine's own
  // stream). Returns without waiting for completion. The CPU backend throws kInvalidArgument.
  virtual void run_device(const float* input, int batch, float* logits, void* stream) = 0;

  // Device memory the engine holds (weights, activation arena, workspaces) in bytes; 0 on the CPU.
  // Reported by the C API (resnetrs_engine_info_t.device_bytes) and resnetrs-bench.
  virtual size_t device_bytes() const { return 0; }
  // Milliseconds of the build spent choosing algorithms (0 when nothing was tuned or the tuning
  // cache answered). Reported as resnetrs_engine_info_t.tune_ms.
  virtual double tune_ms() const { return 0; }
  // Threads one run uses (options().cpu_threads resolved: the cores this process may run on when
  // it was 0); 0 for engines that do not run on the host's threads. Reported as
  // resnetrs_engine_info_t.cpu_threads and by resnetrs-bench.
  virtual int cpu_threads() const { return 0; }
};

// Builds the engine for options.backend. Throws Error on any failure.
std::unique_ptr<Engine> create_engine(const FoldedWeights& weights, const EngineOptions& options);

// Backend factories (create_engine dispatches Backend::kCpu to make_cpu_fast_engine).
// The fast CPU engine (src/cpu/fast/): NHWC, oneDNN and our own kernels chosen per layer, threads.
std::unique_ptr<Engine> make_cpu_fast_engine(const FoldedWeights& weights, const EngineOptions& options);
// The reference CPU engine (im2col + OpenBLAS, NCHW): what every other engine is tested against.
std::unique_ptr<Engine> make_cpu_reference_engine(const FoldedWeights& weights, const EngineOptions& options);
std::unique_ptr<Engine> make_cuda_engine(const FoldedWeights& weights, const EngineOptions& options);

// The CPU engine emulating 16-bit storage (issue 12 item 2), to tell what accuracy the GPU's fp16
// and bf16 modes should reach: the convolution weights rounded once to `storage` (kFp16 or kBf16,
// round to nearest even; kFp32: the plain engine), every stored activation (the normalized
// input, each convolution's output, the pooled shortcut input, each block's output) rounded after
// the op that writes it; arithmetic, biases, the SE vectors and weights, the head and the logits in
// fp32. Tests and accuracy estimates only: not reachable through the C API or resnetrs-bench.
std::unique_ptr<Engine> make_cpu_engine_emulating(const FoldedWeights& weights, const EngineOptions& options, Precision storage);

// In a CPU-only build (RESNETRS_CUDA=OFF) make_cuda_engine throws Error(kNoDevice) with this
// message; it is not defined in a CUDA build.
extern const char* const kBuiltWithoutCuda;

// Validates options common to every backend (batch, resolution, enums) against the weights.
void validate_engine_options(const FoldedWeights& weights, const EngineOptions& options);

// The checks every run_host / run_device makes first: input and logits not null, 1 <= batch <=
// options.max_batch. Throws Error(kInvalidArgument) naming what is wrong.
void check_run_arguments(const EngineOptions& options, const float* input, int batch, const float* logits);

// The CUDA backend runs the TF1 release's network; the TF2 Model Garden's (swish epilogues, Keras
// 'same' stride-2 padding, the stage-1 2x2/1 shortcut pool) is written but no GPU has verified it
// yet, so it sits behind RESNETRS_UNVERIFIED_GPU (engine/gpu_gate.h): a default build throws
// Error(kInvalidArgument) naming the variant, the switch and the CPU backend. With the switch ON
// any variant passes here and the CUDA engine's plan (src/cuda/engine_plan.h) refuses what it does
// not implement. Host-only: the CUDA factory calls it before it touches the device, so the
// answer is the same with or without a GPU.
void require_cuda_backend_supports(const ModelConfig& config);

}  // namespace resnetrs
