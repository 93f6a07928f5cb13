// Block tail: SE scale + residual add + activation in one pass (see block_tail.cuh), in any
// storage type (storage_io.cuh): x, shortcut and out in the storage type, gate and biases fp32,
// arithmetic in fp32, one rounding at the store.
//
// Layout: NCHW (plane = i / hw = n * c + ch indexes the gate directly) or NHWC (ch = i % c).
// Thread mapping: grid-stride loop, one thread per 4 elements on the vector path (NCHW: hw % 4 ==
// 0; NHWC: c % 4 == 0 with 16-byte aligned gate and biases; x, shortcut and out aligned to 4
// elements), else one per element. No __restrict__ on x/shortcut/out: out may alias them.
// Biases are optional (nullptr = 0); the branch is uniform across the grid.
#include "kernels/block_tail.cuh"
#include "kernels/common.cuh"
#include "kernels/storage_io.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

template <PointwiseAct A>
__device__ __forceinline__ float tail(float x, float xb, float g, float s, float sb) {
  return activate<A>((x + xb) * g + (s + sb));
}

template <class S, PointwiseAct A>
__global__ void tail_scalar_kernel(const typename S::T* x, const float* __restrict__ xb, const float* __restrict__ gate,
                                   const typename S::T* s, const float* __restrict__ sb, typename S::T* out,
                                   int64_t total, int c, int64_t hw, bool nhwc) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    int ch;
    int64_t gi;
    if (nhwc) {
      ch = int(i % c);
      gi = (i / (hw * c)) * c + ch;
    } else {
      gi = i / hw;
      ch = int(gi % c);
    }
    out[i] = from_f32<S>(tail<A>(to_f32<S>(x[i]), xb ? xb[ch] : 0.0f, gate[gi], to_f32<S>(s[i]), sb ? sb[ch] : 0.0f));
  }
}

template <class S, PointwiseAct A>
__global__ void tail_vec4_kernel(const typename S::T* x, const float* __restrict__ xb, const float* __restrict__ gate,
                                 const typename S::T* s, const float* __restrict__ sb, typename S::T* out, int64_t total,
                                 int c, int64_t hw, bool nhwc) {
  const int64_t vecs = total / 4;
  for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < vecs; v += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = 4 * v;
    const float4 xv = load4v<S>(x + i);
    const float4 sv = load4v<S>(s + i);
    float4 r;
    if (nhwc) {
      const int ch = int(i % c);
      const float4 g = load4(gate + (i / (hw * c)) * c + ch);
      const float4 xbv = xb ? load4(xb + ch) : make_float4(0.f, 0.f, 0.f, 0.f);
      const float4 sbv = sb ? load4(sb + ch) : make_float4(0.f, 0.f, 0.f, 0.f);
      r.x = tail<A>(xv.x, xbv.x, g.x, sv.x, sbv.x);
      r.y = tail<A>(xv.y, xbv.y, g.y, sv.y, sbv.y);
      r.z = tail<A>(xv.z, xbv.z, g.z, sv.z, sbv.z);
      r.w = tail<A>(xv.w, xbv.w, g.w, sv.w, sbv.w);
    } else {
      const int64_t plane = i / hw;
      const int ch = int(plane % c);
      const float g = gate[plane];
      const float xbs = xb ? xb[ch] : 0.0f, sbs = sb ? sb[ch] : 0.0f;
      r.x = tail<A>(xv.x, xbs, g, sv.x, sbs);
      r.y = tail<A>(xv.y, xbs, g, sv.y, sbs);
      r.z = tail<A>(xv.z, xbs, g, sv.z, sbs);
      r.w = tail<A>(xv.w, xbs, g, sv.w, sbs);
    }
    store4v<S>(out + i, r);
  }
}

}  // namespace

void launch_block_tail(const void* x, const float* x_bias, const float* gate, const void* shortcut,
                       const float* shortcut_bias, void* out, ActType type, int n, int c, int hw, TensorLayout layout,
                       PointwiseAct act, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(x && gate && shortcut && out, "block_tail: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && c > 0 && hw > 0, "block_tail: empty tensor");
  const bool nhwc = layout == TensorLayout::kNHWC;
  const int64_t total = int64_t(n) * c * hw;
  bool vec = vec4_aligned(x, type) && vec4_aligned(shortcut, type) && vec4_aligned(out, type);
  if (nhwc) {
    vec = vec && c % 4 == 0 && aligned16(gate) && (!x_bias || aligned16(x_bias)) &&
          (!shortcut_bias || aligned16(shortcut_bias));
  } else {
    vec = vec && hw % 4 == 0;
  }
  dispatch_storage(type, [&](auto s_tag) {
    using S = decltype(s_tag);
    const auto* xs = static_cast<const typename S::T*>(x);
    const auto* ss = static_cast<const typename S::T*>(shortcut);
    auto* os = static_cast<typename S::T*>(out);
    dispatch_act(act, [&](auto a_tag) {
      constexpr PointwiseAct A = decltype(a_tag)::value;
      if (vec) {
        tail_vec4_kernel<S, A><<<grid_for(total / 4, kThreads), kThreads, 0, stream>>>(xs, x_bias, gate, ss, shortcut_bias,
                                                                                      os, total, c, hw, nhwc);
        check_launch("tail_vec4_kernel");
      } else {
        tail_scalar_kernel<S, A><<<grid_for(total, kThreads), kThreads, 0, stream>>>(xs, x_bias, gate, ss, shortcut_bias,
                                                                                    os, total, c, hw, nhwc);
        check_launch("tail_scalar_kernel");
      }
    });
  });
}

void launch_block_tail(const float* x, const float* x_bias, const float* gate, const float* shortcut,
                       const float* shortcut_bias, float* out, int n, int c, int hw, TensorLayout layout,
                       cudaStream_t stream) {
  launch_block_tail(static_cast<const void*>(x), x_bias, gate, static_cast<const void*>(shortcut), shortcut_bias,
                    static_cast<void*>(out), ActType::kF32, n, c, hw, layout, PointwiseAct::kRelu, stream);
}

}  // namespace resnetrs::kernels
