// The CUDA backend's engine class (docs/cuda-engine.md), internal to src/cuda. Its member
// functions live in one file per responsibility:
//   cuda_engine_build.cpp    construction: device, weights, buffers, warm-up, graph, info
//   cuda_engine_tune.cpp     the per-shape algorithm choice (tuning loop, cache, other batches)
//   cuda_engine_batch.cpp    per-batch state (descriptors, choices) and its CUDA graph
//   cuda_engine_forward.cpp  the forward pass (stem .. head GEMM), recorded into the graph
//   cuda_engine_run.cpp      run_device / run_host (input normalization, graph launch, logits)
//   cuda_engine_api.cpp      make_cuda_engine(_ex), the info's text form, the environment tweaks
//   cuda_engine_variant.cpp  the variant-dependent steps: zero padding, swish epilogue, shortcut
//                            pool stride, the tail's activation (TF1 release / TF2 Model Garden)
//
// Dataflow mirrors the CPU engine (src/cpu/cpu_engine.cpp) buffer for buffer (engine_plan.h):
//   normalize(input) -> X; stem X->T1->X->T1->X; per block: conv1 X->T1, conv2 T1->T2,
//   conv3 T2->T3, squeeze T3 -> pooled, excite pooled -> hidden -> gate, shortcut X [pool -> PI]
//   -> SC, tail (T3, gate, shortcut) -> X; head: pool X -> head_pooled, GEMM -> logits_raw;
//   bias add logits_raw -> caller's logits.
// The graph holds everything from the stem to the GEMM; the normalize kernel (reads the caller's
// input) and the bias add (writes the caller's logits) run outside it, so no copy is needed.
//
// Threading: calls are serialized by a mutex; one engine serves one thread at a time (use one
// engine per thread for concurrency). run_device returns before completion; a later call on a
// different stream waits (cudaStreamWaitEvent) for the previous run, since runs share the arena.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/conv_choice.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_engine_info.h"
#include "cuda/cuda_raii.h"
#include "cuda/cudnn_legacy_conv.h"
#include "cuda/device_info.h"
#include "cuda/device_weights.h"
#include "cuda/engine_plan.h"
#include "cuda/act_kernels.h"
#include "cuda/activation_arena.h"
#include "cuda/precision_policy.h"
#include "engine/engine.h"
#include "kernels/normalize_input.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs {

namespace cuda_engine_detail {
// cuBLAS workspace we hand to the handle (cublasSetWorkspace) so it never allocates, in
// particular not while a graph is being captured; 32 MiB is NVIDIA's recommendation for Hopper.
constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;
}  // namespace cuda_engine_detail

class CudaEngine final : public Engine {
 public:
  using ConvChoice = cuda::ConvChoice;
  using ConvGeometry = cuda::ConvGeometry;
  using LegacyConv = cuda::LegacyConv;
  using DeviceBuffer = cuda::DeviceBuffer;
  using TensorLayout = kernels::TensorLayout;

  CudaEngine(const FoldedWeights& weights, const EngineOptions& options, const CudaEngineTweaks& tweaks);
  ~CudaEngine() override;

  const NetworkDesc& network() const override { return m_net; }
  const EngineOptions& options() const override { return m_options; }
  void run_host(const float* input, int batch, float* logits) override;
  void run_device(const float* input, int batch, float* logits, void* stream) override;

  size_t device_bytes() const override { return m_info.total_device_bytes(); }
  // Time spent choosing algorithms; 0 when the tuning cache answered for every shape.
  double tune_ms() const override { return m_info.shapes_tuned > 0 ? m_info.tune_ms : 0.0; }

  const CudaEngineInfo& info() const { return m_info; }

 private:
  // One unique convolution shape at one batch size: its descriptors and how it runs there.
  struct ShapeState {
    LegacyConv conv;
    ConvChoice choice;
  };
  struct BatchState {
    int batch = 0;
    std::vector<ShapeState> shapes;  // parallel to m_plan.unique
    cuda::UniqueGraphExec graph;       // stem .. head GEMM; null: run eagerly
    cuda::UniqueGraphExec host_graph;  // run_host's whole pass (normalize .. logits bias) on the staging buffers
  };

  ConvGeometry geometry(const ConvShape& s, int batch) const;
  // The steps that differ between the network variants (cuda_engine_variant.cpp): explicit zero
  // padding before a conv (no-op unless planned), the conv's activation epilogue (returns whether
  // the layer's bias is now in its output), the shortcut pool, the tail with the block's activation.
  void pad_conv_input(int layer, int batch, cudaStream_t s);
  bool conv_epilogue(int layer, const float* bias, bool bias_in_conv, int batch, cudaStream_t s);
  void shortcut_pool(const BlockShape& b, const cuda::BlockSlots& bs, int batch, cudaStream_t s);
  void block_tail(const BlockShape& b, const cuda::BlockSlots& bs, const float* x_bias, const void* shortcut,
                  const float* shortcut_bias, int batch, cudaStream_t s);
  cuda::ArenaLayout choose_arena(const CudaEngineTweaks& tweaks) const;
  void allocate_buffers();
  struct TunedShapes {
    std::vector<ConvChoice> choices;  // per unique shape
    std::vector<bool> from_cache;
    std::vector<LegacyConv> convs;    // the descriptors made while tuning, reused by the batch state
    int tuned = 0, cached = 0;
  };
  void tune();
  TunedShapes tune_at(int batch, size_t cap, void* fixed_ws);
  ConvChoice effective_choice(LegacyConv& conv, const ConvChoice& tuned, const ConvShape& shape, int batch) const;
  const cuda::DeviceConv& layer_weights(int layer) const;
  LegacyConv make_conv(const ConvShape& s, int batch) const;
  BatchState& batch_state(int batch);
  void capture_graphs(BatchState& st);
  void capture(BatchState& st, cuda::UniqueGraphExec& target, const char* what,
               const std::function<void(cudaStream_t)>& body);
  void normalize(const float* input, int batch, cudaStream_t s);
  void head_bias(float* logits, int batch, cudaStream_t s);
  void bind_stream(cudaStream_t s);
  void forward(BatchState& st, cudaStream_t s);
  void after_op(const std::string& what, cudaStream_t s);
  void run_device_locked(const float* input, int batch, float* logits, cudaStream_t s);
  // A tensor's address in the arena (activation_arena.h).
  void* at(const cuda::Slot& s) const { return static_cast<char*>(m_arena.get()) + s.offset; }
  float* at_f32(const cuda::Slot& s) const { return static_cast<float*>(at(s)); }
  cuda::Act act() const { return cuda::Act{m_policy.act, m_layout}; }

  // Declared first, so destroyed last: restores the caller's current device after every member
  // (freed with the engine's device current) is gone.
  struct DeviceRestore {
    int previous = -1;
    ~DeviceRestore() {
      if (previous >= 0) RESNETRS_CUDA_CHECK_LOG(cudaSetDevice(previous));
    }
  } m_restore;
  EngineOptions m_options;
  CudaEngineTweaks m_tweaks;
  NetworkDesc m_net;
  cuda::EnginePlan m_plan;
  cuda::DeviceInfo m_device;
  cuda::PrecisionPolicy m_policy;  // chosen once at build (precision_policy.h)
  TensorLayout m_layout = TensorLayout::kNCHW;
  TensorLayout m_input_layout = TensorLayout::kNCHW;
  kernels::NormalizeParams m_norm{};

  cuda::UniqueStream m_stream;
  cuda::UniqueEvent m_done;
  cuda::UniqueCudnn m_cudnn;
  cuda::UniqueCublas m_cublas;

  cuda::DeviceWeights m_weights;
  cuda::ArenaLayout m_slots;  // every tensor's place in m_arena (per role, or by liveness)
  DeviceBuffer m_arena;       // activations, SE/head vectors, run_host staging: one allocation
  bool m_zero_fused_outputs = false;  // zero y before each fused cuDNN call (liveness placement)
  bool m_batch_tuning = false;        // tune every batch size on its own (else max_batch's choices)
  bool m_whole_run_graph = false;     // run_host replays one graph per batch (normalize .. bias)
  DeviceBuffer m_workspace, m_cublas_workspace;

  std::vector<ConvChoice> m_tuned;  // per unique shape, at max_batch
  std::vector<bool> m_from_cache;
  std::map<int, std::unique_ptr<BatchState>> m_batches;
  std::vector<LegacyConv> m_tuned_convs;  // max_batch descriptors made while tuning, reused

  std::mutex m_mutex;
  cudaStream_t m_last_stream = nullptr;
  bool m_has_run = false;
  CudaEngineInfo m_info;
};

}  // namespace resnetrs
