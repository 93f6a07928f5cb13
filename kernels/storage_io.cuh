// Device-side access to activation tensors in any storage type (include from .cu files only):
// storage tags (F32, F16, BF16), element and 4-element vector loads/stores that convert to and
// from fp32, the pointwise activations, and the host-side dispatch from the runtime ActType /
// PointwiseAct to the kernel template.
//
// Kernels are templated on a storage tag S (element type S::T: float, or the uint16_t bits of a
// half / bfloat16) and compute in fp32. With S = F32 the loads and stores are plain float accesses,
// so an fp32 instantiation does exactly the float arithmetic of a kernel written for float.
// 4-element vectors are 16 bytes (float4) for F32 and 8 bytes (uint2 holding 4 halves) for
// F16/BF16; they need a pointer aligned to 4 elements (vec4_aligned).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/act_type.cuh"
#include "kernels/common.cuh"
#include "kernels/storage_convert.cuh"

namespace resnetrs::kernels {

struct F32 {
  using T = float;
  static constexpr ActType kType = ActType::kF32;
};
struct F16 {
  using T = uint16_t;
  static constexpr ActType kType = ActType::kF16;
};
struct BF16 {
  using T = uint16_t;
  static constexpr ActType kType = ActType::kBF16;
};

template <class S>
__device__ __forceinline__ float to_f32(typename S::T v) {
  if constexpr (S::kType == ActType::kF32) {
    return v;
  } else if constexpr (S::kType == ActType::kF16) {
    return f16_bits_to_f32(v);
  } else {
    return bf16_bits_to_f32(v);
  }
}

template <class S>
__device__ __forceinline__ typename S::T from_f32(float v) {
  if constexpr (S::kType == ActType::kF32) {
    return v;
  } else if constexpr (S::kType == ActType::kF16) {
    return f32_to_f16_bits(v);
  } else {
    return f32_to_bf16_bits(v);
  }
}

// 4 consecutive elements (little-endian: element 0 in the low half of the first word).
template <class S>
__device__ __forceinline__ float4 load4v(const typename S::T* p) {
  if constexpr (S::kType == ActType::kF32) {
    return load4(p);
  } else {
    const uint2 u = *reinterpret_cast<const uint2*>(p);
    return make_float4(to_f32<S>(uint16_t(u.x & 0xffffu)), to_f32<S>(uint16_t(u.x >> 16)),
                       to_f32<S>(uint16_t(u.y & 0xffffu)), to_f32<S>(uint16_t(u.y >> 16)));
  }
}

template <class S>
__device__ __forceinline__ void store4v(typename S::T* p, const float4& v) {
  if constexpr (S::kType == ActType::kF32) {
    store4(p, v);
  } else {
    uint2 u;
    u.x = uint32_t(from_f32<S>(v.x)) | (uint32_t(from_f32<S>(v.y)) << 16);
    u.y = uint32_t(from_f32<S>(v.z)) | (uint32_t(from_f32<S>(v.w)) << 16);
    *reinterpret_cast<uint2*>(p) = u;
  }
}

// 2 consecutive elements (8 bytes for F32, 4 for 16-bit): aligned to 2 elements.
template <class S>
__device__ __forceinline__ void store2v(typename S::T* p, float a, float b) {
  if constexpr (S::kType == ActType::kF32) {
    *reinterpret_cast<float2*>(p) = make_float2(a, b);
  } else {
    *reinterpret_cast<uint32_t*>(p) = uint32_t(from_f32<S>(a)) | (uint32_t(from_f32<S>(b)) << 16);
  }
}

// The CPU operators' formulas (src/cpu/cpu_ops): relu keeps NaN (common.cuh), swish is
// x / (1 + exp(-x)) (cpu::swish).
template <PointwiseAct A>
__device__ __forceinline__ float activate(float v) {
  if constexpr (A == PointwiseAct::kRelu) {
    return relu(v);
  } else if constexpr (A == PointwiseAct::kSwish) {
    return v / (1.0f + expf(-v));
  } else {
    return v;
  }
}

// Host side: is p aligned for a 4-element (or 2-element) vector of `type`?
inline bool vec4_aligned(const void* p, ActType type) { return type == ActType::kF32 ? aligned16(p) : aligned8(p); }
inline bool vec2_aligned(const void* p, ActType type) {
  return (reinterpret_cast<uintptr_t>(p) & uintptr_t(type == ActType::kF32 ? 7 : 3)) == 0;
}

// Calls f(F32{}), f(F16{}) or f(BF16{}); an unknown value is kInvalidArgument.
template <class F>
void dispatch_storage(ActType type, F&& f) {
  switch (type) {
    case ActType::kF32: f(F32{}); return;
    case ActType::kF16: f(F16{}); return;
    case ActType::kBF16: f(BF16{}); return;
  }
  throw_error(Status::kInvalidArgument, "unknown activation storage type " + std::to_string(int(type)));
}

template <PointwiseAct A>
using ActTag = std::integral_constant<PointwiseAct, A>;

// Calls f(ActTag<kIdentity>{}), f(ActTag<kRelu>{}) or f(ActTag<kSwish>{}).
template <class F>
void dispatch_act(PointwiseAct act, F&& f) {
  switch (act) {
    case PointwiseAct::kIdentity: f(ActTag<PointwiseAct::kIdentity>{}); return;
    case PointwiseAct::kRelu: f(ActTag<PointwiseAct::kRelu>{}); return;
    case PointwiseAct::kSwish: f(ActTag<PointwiseAct::kSwish>{}); return;
  }
  throw_error(Status::kInvalidArgument, "unknown pointwise activation " + std::to_string(int(act)));
}

inline const char* pointwise_act_name(PointwiseAct a) {
  return a == PointwiseAct::kIdentity ? "identity" : a == PointwiseAct::kRelu ? "relu" : "swish";
}

}  // namespace resnetrs::kernels
