// Batched dense + activation for the SE excitation (see se_excite.cuh).
//
// Why our own kernel and not cuBLAS: batch x C is small (C <= 2048, r <= 512) and each layer is a
// short GEMM whose cost is reading W once; fusing bias and activation saves two launches per FC.
// Thread mapping: 256-thread blocks of 8 warps; grid (ceil(out/8), ceil(n/8)). Each warp owns one
// output row o and a tile of up to 8 images: the lanes stride over the input features (float4 when
// in % 4 == 0 and x, w are 16-byte aligned, scalar otherwise), so each weight is read once per
// tile and reused for the 8 images. A butterfly reduction per image finishes the dot products.
// Summation order is fixed (deterministic). sigmoid = 1 / (1 + expf(-v)), the CPU formula.
#include "kernels/common.cuh"
#include "kernels/se_excite.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / kWarpSize;  // one output row per warp
constexpr int kImageTile = 8;                        // images sharing each weight load

template <DenseActivation kAct>
__device__ __forceinline__ float activate(float v) {
  if constexpr (kAct == DenseActivation::kRelu) {
    return relu(v);
  } else {
    return 1.0f / (1.0f + expf(-v));
  }
}

template <DenseActivation kAct, bool kVec>
__global__ void dense_act_kernel(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                                 float* __restrict__ y, int n, int in_features, int out_features) {
  const int lane = threadIdx.x % kWarpSize;
  const int o = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (o >= out_features) return;  // whole warps exit together
  const int n0 = blockIdx.y * kImageTile;
  const int tile = min(kImageTile, n - n0);
  const float* wrow = w + int64_t(o) * in_features;
  const float* xt = x + int64_t(n0) * in_features;
  float acc[kImageTile];
#pragma unroll
  for (int t = 0; t < kImageTile; ++t) acc[t] = 0.0f;
  if constexpr (kVec) {
    for (int i = 4 * lane; i < in_features; i += 4 * kWarpSize) {
      const float4 wv = load4(wrow + i);
#pragma unroll
      for (int t = 0; t < kImageTile; ++t) {
        if (t < tile) {
          const float4 xv = load4(xt + int64_t(t) * in_features + i);
          acc[t] += wv.x * xv.x + wv.y * xv.y + wv.z * xv.z + wv.w * xv.w;
        }
      }
    }
  } else {
    for (int i = lane; i < in_features; i += kWarpSize) {
      const float wv = wrow[i];
#pragma unroll
      for (int t = 0; t < kImageTile; ++t) {
        if (t < tile) acc[t] += wv * xt[int64_t(t) * in_features + i];
      }
    }
  }
  const float bias = b[o];
#pragma unroll
  for (int t = 0; t < kImageTile; ++t) {
    const float s = warp_reduce_sum(acc[t]);
    if (lane == t && t < tile) y[int64_t(n0 + t) * out_features + o] = activate<kAct>(s + bias);
  }
}

template <DenseActivation kAct>
void launch(const float* x, const float* w, const float* b, float* y, int n, int in_features, int out_features, bool vec,
            cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(ceil_div(out_features, kRowsPerBlock)),
                  static_cast<unsigned>(ceil_div(n, kImageTile)));
  if (vec) {
    dense_act_kernel<kAct, true><<<grid, kThreads, 0, stream>>>(x, w, b, y, n, in_features, out_features);
  } else {
    dense_act_kernel<kAct, false><<<grid, kThreads, 0, stream>>>(x, w, b, y, n, in_features, out_features);
  }
  check_launch(kAct == DenseActivation::kRelu ? "dense_act_kernel<relu>" : "dense_act_kernel<sigmoid>");
}

}  // namespace

void launch_dense_act(const float* x, const float* w, const float* b, float* y, int n, int in_features,
                      int out_features, DenseActivation act, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(x && w && b && y, "dense_act: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && in_features > 0 && out_features > 0, "dense_act: empty shape");
  RESNETRS_CHECK_ARG(ceil_div(n, kImageTile) <= 65535, "dense_act: batch too large for gridDim.y");
  const bool vec = in_features % 4 == 0 && aligned16(x) && aligned16(w);
  if (act == DenseActivation::kRelu) {
    launch<DenseActivation::kRelu>(x, w, b, y, n, in_features, out_features, vec, stream);
  } else {
    launch<DenseActivation::kSigmoid>(x, w, b, y, n, in_features, out_features, vec, stream);
  }
}

}  // namespace resnetrs::kernels
