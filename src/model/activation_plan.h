// Activation memory placed by liveness (issue 12, item 4): a host-only plan, computed from the
// network description, that gives every tensor the CUDA engine keeps during one forward pass a
// byte offset in ONE arena such that no two tensors alive at the same step share bytes. The
// arena then comes close to the largest live set, instead of today's one buffer per role (X, T1,
// T2, T3, SC, PI, the SE and head vectors, the run_host staging: docs/cuda-engine.md).
//
// PLANNED, NOT YET WIRED: the CUDA engine still allocates one buffer per role. The plan mirrors
// its dataflow step for step (src/cuda/cuda_engine_forward.cpp and cuda_engine_run.cpp), so wiring it
// in is a matter of pointing each role's pointer at `arena + offset` per step.
//
// Steps (one per kernel/cuDNN/cuBLAS call or copy, in stream order):
//   copy_in (run_host staging) -> normalize -> stem conv1..4
//   per block: conv1, conv2, conv3, se_squeeze, se_reduce, se_expand, [shortcut_pool],
//              [shortcut_conv], tail
//   head_pool -> head_gemm -> head_bias (into the logits staging) -> copy_out
// A tensor is live from the step that writes it to the last step that reads it, both inclusive.
// The only op allowed to write over a tensor it reads in the same step is the block tail, which
// reads and writes element i in the same thread (relu((t3 + b3) * gate + shortcut)); its output
// may therefore take over the storage of t3 (or of the identity shortcut) at the same offset.
//
// Element sizes: the activation tensors (normalized input, stem and block tensors) are stored in
// `activation_bytes` per element (4 fp32/tf32, 2 fp16/bf16: issue 12 item 1); the input pixels,
// the SE vectors, the head vectors and the logits stay float32 in every precision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/network.h"

namespace resnetrs {

// Which of today's per-role CUDA buffers holds the tensor (cuda_engine_build.cpp allocate_buffers());
// used to compute the per-role arena the plan replaces, and to name tensors.
enum class ActivationBuffer {
  kX,            // normalized input, the stem's even outputs, every block's input/output
  kT1,           // stem conv1/conv3 outputs, block conv1 outputs
  kT2,           // block conv2 outputs
  kT3,           // block conv3 outputs
  kSC,           // projection-shortcut outputs
  kPI,           // 2x2-pooled block input before a strided projection
  kSePooled,     // SE squeeze output [n, C] (float32)
  kSeHidden,     // SE hidden [n, r] (float32)
  kSeGate,       // SE gate [n, C] (float32)
  kHeadPooled,   // head global pool [n, 2048] (float32)
  kLogitsRaw,    // head GEMM output [n, classes] (float32)
  kHostInput,    // run_host input staging [n, 3, H, W] (float32 pixels)
  kHostLogits,   // run_host logits staging [n, classes] (float32)
  kConvWorkspace,  // cuDNN workspace of one convolution (only with conv_workspace_bytes)
  kCount
};
const char* activation_buffer_name(ActivationBuffer b);

struct ActivationPlanOptions {
  int batch = 1;                 // the engine's max_batch: every tensor is sized for it
  size_t activation_bytes = 4;   // storage bytes per activation element (4 fp32/tf32, 2 fp16/bf16)
  size_t alignment = 256;        // every offset and every tensor's size a multiple of this
  bool include_staging = true;   // run_host's input and logits staging (the engine keeps both)
  // Optional: the cuDNN workspace bytes of each convolution in execution order (stem conv1..4,
  // then per block conv1, conv2, conv3[, shortcut]; cuda::EnginePlan::convs order), each placed
  // as a tensor live at its convolution's step only. Empty: workspaces stay outside the arena.
  std::vector<size_t> conv_workspace_bytes;
};

struct PlannedTensor {
  std::string name;          // e.g. "stage2/block0/t3", "stem/conv1/out", "input"
  ActivationBuffer buffer;   // today's buffer for it
  int64_t elements = 0;      // at options.batch
  size_t element_bytes = 4;
  size_t bytes = 0;          // elements * element_bytes rounded up to the alignment
  int first_step = -1;       // the step that writes it
  int last_step = -1;        // the last step that reads it (>= first_step)
  int in_place_of = -1;      // index of the tensor whose storage it takes over at first_step, or -1
  size_t offset = 0;         // in the arena
};

struct PlanStep {
  std::string name;          // e.g. "stage1/block0/conv2", "stage3/block2/tail"
  std::vector<int> reads;    // tensor indices
  std::vector<int> writes;   // tensor indices
  bool elementwise = false;  // reads and writes element i in the same thread (may run in place)
};

struct ActivationPlan {
  std::vector<PlanStep> steps;
  std::vector<PlannedTensor> tensors;
  size_t arena_bytes = 0;      // planned: max over tensors of offset + bytes
  size_t peak_live_bytes = 0;  // the largest live set (a tensor and its in-place successor counted once)
  int peak_step = -1;          // where it occurs
  size_t per_role_bytes = 0;   // today's arena: one buffer per role, each sized to its largest tensor
  double ratio() const { return peak_live_bytes ? double(arena_bytes) / double(peak_live_bytes) : 0.0; }
};

// Throws Error(kInvalidArgument) for batch < 1, activation_bytes not in {1, 2, 4, 8}, an alignment
// that is not a power of two, or a conv_workspace_bytes of the wrong length.
ActivationPlan plan_activations(const NetworkDesc& net, const ActivationPlanOptions& options);

}  // namespace resnetrs
