// Where the CUDA engine's activations live: ONE device allocation (the arena) and, for every
// tensor the forward pass touches, its byte range in it (docs/cuda-engine.md, "Memory").
// Two placements of the same tensors:
//   per role     one region per role buffer (X, T1, T2, T3, SC, PI, the SE and head vectors, the
//                run_host staging), each sized to the largest tensor the role holds: the
//                layout the engine has always had (default build);
//   by liveness  the offsets of plan_activations() (src/model/activation_plan.h): tensors alive
//                at a common step never share bytes, the block tail writes over t3 (or the
//                identity shortcut) in place; about half the per-role bytes. Behind
//                RESNETRS_UNVERIFIED_GPU until a device check has run it. The zero-padded inputs
//                of explicitly padded convs (Model Garden) share one extra region after the
//                planned tensors (each is alive only between its zero_pad and its conv).
// Host only: computed from the NetworkDesc and the EnginePlan, tested without a GPU
// (tests/cuda_host/test_activation_arena.cpp).
#pragma once

#include <cstddef>
#include <vector>

#include "cuda/engine_plan.h"
#include "model/network.h"

namespace resnetrs::cuda {

struct Slot {
  size_t offset = 0;
  size_t bytes = 0;  // at max_batch, rounded up to 256
  size_t end() const { return offset + bytes; }
};

struct ConvSlots {
  Slot in, out;
  // An explicitly padded conv (ConvLayer::pad, the Model Garden's Keras 'same' stride 2): `src`
  // is the network's (unpadded) input, zero-padded into `in` right before the conv; bytes 0 for
  // every other conv.
  Slot src;
};

struct BlockSlots {
  Slot x_in;    // the block input (the identity shortcut)
  Slot t3;      // conv3's output
  Slot pooled;  // SE squeeze [n, C] fp32
  Slot hidden;  // SE hidden [n, r] fp32
  Slot gate;    // SE gate [n, C] fp32
  Slot pi;      // the 2x2-pooled input of a pooled projection (bytes 0 when none)
  Slot sc;      // the projection's output (bytes 0 for an identity shortcut)
  Slot out;     // the tail's output
};

struct ArenaLayout {
  bool by_liveness = false;
  size_t bytes = 0;  // the arena's size
  Slot host_input;   // run_host staging of the caller's pixels (fp32)
  Slot normalized;   // the normalized input (activation type)
  std::vector<ConvSlots> convs;    // EnginePlan::convs order
  std::vector<BlockSlots> blocks;  // NetworkDesc::blocks order
  Slot final_x;      // the last block's output, read by the head pool
  Slot head_pooled;  // [n, 2048] fp32
  Slot logits_raw;   // [n, classes] fp32
  Slot host_logits;  // run_host staging of the logits (fp32)
};

// act_bytes: 4 (fp32, tf32, fp32x3) or 2 (fp16, bf16).
ArenaLayout per_role_layout(const NetworkDesc& net, const EnginePlan& plan, int max_batch, size_t act_bytes);
ArenaLayout liveness_layout(const NetworkDesc& net, const EnginePlan& plan, int max_batch, size_t act_bytes);

}  // namespace resnetrs::cuda
