// Storage type of activation tensors and the pointwise activations of the epilogues, shared by
// the kernel launchers and the engine. Host-only header (no device code).
//   kF32: float; kF16: IEEE binary16 (__half); kBF16: bfloat16 (__nv_bfloat16).
// Kernels that take an ActType read and write their activation tensors in that type and compute
// in fp32; 16-bit results are rounded to nearest even, as the CPU engine's storage emulation
// (src/cpu/storage_rounding.h) does. Biases, SE vectors, pooled vectors and logits stay fp32.
#pragma once

namespace resnetrs::kernels {

enum class ActType { kF32, kF16, kBF16 };

// kRelu: max(v, 0) (the TF1 release); kSwish: v * sigmoid(v) (the TF2 Model Garden); kIdentity: v.
enum class PointwiseAct { kIdentity, kRelu, kSwish };

inline int act_type_bytes(ActType t) { return t == ActType::kF32 ? 4 : 2; }
inline const char* act_type_name(ActType t) { return t == ActType::kF32 ? "f32" : t == ActType::kF16 ? "f16" : "bf16"; }

}  // namespace resnetrs::kernels
