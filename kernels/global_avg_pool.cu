// Global average pool (see global_avg_pool.cuh). Deterministic: fixed summation order, no atomics.
// The input in any storage type (storage_io.cuh), converted to fp32 on load; output fp32.
//
// NCHW: one warp per (n, c) plane, 8 planes per 256-thread block. Each lane sums a strided part
//   of the plane (4-element vectors when hw % 4 == 0 and the input is aligned to 4 elements, else
//   scalar), then a butterfly warp reduction; lane 0 writes sum / hw (+ bias).
// NHWC: one 256-thread block per (image, slab of 32 channels), grid (ceil(c/32), n).
//   Vector path (c % 4 == 0, aligned to 4 elements): 8 threads cover the slab's 32 channels with
//   4-element vectors, 32 rows (pixels) at a time; scalar path: 32 threads x 8 rows. Partial sums go to shared memory
//   and one thread per channel adds the rows in a fixed order.
// Accumulation is in float (a plane has at most a few thousand values); the tests bound the error.
#include "kernels/common.cuh"
#include "kernels/global_avg_pool.cuh"
#include "kernels/storage_io.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / kWarpSize;
constexpr int kSlab = 32;  // channels per block in NHWC

template <class S>
__global__ void gap_nchw_kernel(const typename S::T* __restrict__ in, const float* __restrict__ bias, float* __restrict__ out,
                                int64_t planes, int c, int hw, bool vec) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t plane = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  if (plane >= planes) return;  // whole warps exit together
  const typename S::T* src = in + plane * hw;
  float acc = 0.0f;
  if (vec) {
    for (int i = 4 * lane; i < hw; i += 4 * kWarpSize) {
      const float4 v = load4v<S>(src + i);
      acc += (v.x + v.y) + (v.z + v.w);
    }
  } else {
    for (int i = lane; i < hw; i += kWarpSize) acc += to_f32<S>(src[i]);
  }
  acc = warp_reduce_sum(acc);
  if (lane == 0) out[plane] = acc / float(hw) + (bias ? bias[plane % c] : 0.0f);
}

template <class S>
__global__ void gap_nhwc_kernel(const typename S::T* __restrict__ in, const float* __restrict__ bias, float* __restrict__ out,
                                int c, int hw, bool vec) {
  __shared__ float partial[kThreads / 8][kSlab + 1];  // vec: 32 rows; scalar: 8 rows used
  const int b = blockIdx.y;
  const int slab0 = blockIdx.x * kSlab;
  const typename S::T* img = in + int64_t(b) * hw * c;
  const int t = threadIdx.x;
  int rows;
  if (vec) {
    constexpr int kThreadsPerRow = kSlab / 4;
    rows = kThreads / kThreadsPerRow;  // 32
    const int r = t / kThreadsPerRow, ch = slab0 + 4 * (t % kThreadsPerRow);
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    if (ch < c) {  // c % 4 == 0: the 4 channels are all valid or all invalid
      for (int p = r; p < hw; p += rows) {
        const float4 v = load4v<S>(img + int64_t(p) * c + ch);
        acc.x += v.x;
        acc.y += v.y;
        acc.z += v.z;
        acc.w += v.w;
      }
    }
    const int col = 4 * (t % kThreadsPerRow);
    partial[r][col] = acc.x;
    partial[r][col + 1] = acc.y;
    partial[r][col + 2] = acc.z;
    partial[r][col + 3] = acc.w;
  } else {
    rows = kThreads / kSlab;  // 8
    const int r = t / kSlab, ch = slab0 + t % kSlab;
    float acc = 0.0f;
    if (ch < c) {
      for (int p = r; p < hw; p += rows) acc += to_f32<S>(img[int64_t(p) * c + ch]);
    }
    partial[r][t % kSlab] = acc;
  }
  __syncthreads();
  if (t < kSlab && slab0 + t < c) {
    float s = 0.0f;
    for (int r = 0; r < rows; ++r) s += partial[r][t];
    const int ch = slab0 + t;
    out[int64_t(b) * c + ch] = s / float(hw) + (bias ? bias[ch] : 0.0f);
  }
}

}  // namespace

void launch_global_avg_pool(const void* in, ActType type, const float* bias, float* out, int n, int c, int hw,
                            TensorLayout layout, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(in && out, "global_avg_pool: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && c > 0 && hw > 0, "global_avg_pool: empty tensor");
  RESNETRS_CHECK_ARG(layout == TensorLayout::kNCHW || n <= 65535,
                     "global_avg_pool: batch above 65535 exceeds gridDim.y");
  dispatch_storage(type, [&](auto s_tag) {
    using S = decltype(s_tag);
    const auto* src = static_cast<const typename S::T*>(in);
    if (layout == TensorLayout::kNCHW) {
      const int64_t planes = int64_t(n) * c;
      const bool vec = hw % 4 == 0 && vec4_aligned(in, type);
      gap_nchw_kernel<S><<<grid_for(planes, kWarpsPerBlock), kThreads, 0, stream>>>(src, bias, out, planes, c, hw, vec);
      check_launch("gap_nchw_kernel");
    } else {
      const bool vec = c % 4 == 0 && vec4_aligned(in, type);
      const dim3 grid(static_cast<unsigned>(ceil_div(c, kSlab)), static_cast<unsigned>(n));
      gap_nhwc_kernel<S><<<grid, kThreads, 0, stream>>>(src, bias, out, c, hw, vec);
      check_launch("gap_nhwc_kernel");
    }
  });
}

void launch_global_avg_pool(const float* in, const float* bias, float* out, int n, int c, int hw, TensorLayout layout,
                            cudaStream_t stream) {
  launch_global_avg_pool(static_cast<const void*>(in), ActType::kF32, bias, out, n, c, hw, layout, stream);
}

}  // namespace resnetrs::kernels
