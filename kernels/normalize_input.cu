// Input normalization (see normalize_input.cuh).
//
// Layout: in and out each NCHW or NHWC, 3 channels.
// Thread mapping: grid-stride loop over pixels. Vector path (h*w % 4 == 0, input 16-byte aligned,
// output aligned to 4 elements of its type): one thread per 4 consecutive pixels of one image,
// loading three float4 and storing three 4-element vectors (NCHW: one per channel plane; NHWC: the
// 12 interleaved values of the 4 pixels, which start on a 12-element boundary because the pixel
// index is a multiple of 4). Scalar path: one thread per pixel.
// Arithmetic: (v - mean) * inv_std, the CPU operator's exact float sequence (bitwise equal in
// fp32), then one rounding to the output's storage type (storage_io.cuh).
#include "kernels/common.cuh"
#include "kernels/normalize_input.cuh"
#include "kernels/storage_io.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ int64_t offset(bool nhwc, int64_t image, int c, int64_t pixel, int64_t hw) {
  return nhwc ? (image * hw + pixel) * 3 + c : (image * 3 + c) * hw + pixel;
}

template <class S>
__global__ void normalize_scalar_kernel(const float* __restrict__ in, bool in_nhwc, typename S::T* __restrict__ out,
                                        bool out_nhwc, int64_t n, int64_t hw, NormalizeParams p) {
  const int64_t total = n * hw;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t image = i / hw, pixel = i % hw;
#pragma unroll
    for (int c = 0; c < 3; ++c) {
      const float v = in[offset(in_nhwc, image, c, pixel, hw)];
      out[offset(out_nhwc, image, c, pixel, hw)] = from_f32<S>((v - p.mean[c]) * p.inv_std[c]);
    }
  }
}

template <class S>
__global__ void normalize_vec4_kernel(const float* __restrict__ in, bool in_nhwc, typename S::T* __restrict__ out,
                                      bool out_nhwc, int64_t n, int64_t hw, NormalizeParams p) {
  const int64_t groups = n * hw / 4;  // hw % 4 == 0: a group never straddles two images
  for (int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; g < groups; g += int64_t(gridDim.x) * blockDim.x) {
    const int64_t image = (4 * g) / hw, pixel = (4 * g) % hw;
    float v[3][4];  // [channel][pixel]
    if (in_nhwc) {
      const float* src = in + (image * hw + pixel) * 3;
      const float4 a = load4(src), b = load4(src + 4), c = load4(src + 8);
      const float flat[12] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w, c.x, c.y, c.z, c.w};
#pragma unroll
      for (int q = 0; q < 4; ++q)
#pragma unroll
        for (int ch = 0; ch < 3; ++ch) v[ch][q] = flat[q * 3 + ch];
    } else {
#pragma unroll
      for (int ch = 0; ch < 3; ++ch) {
        const float4 a = load4(in + (image * 3 + ch) * hw + pixel);
        v[ch][0] = a.x;
        v[ch][1] = a.y;
        v[ch][2] = a.z;
        v[ch][3] = a.w;
      }
    }
#pragma unroll
    for (int ch = 0; ch < 3; ++ch)
#pragma unroll
      for (int q = 0; q < 4; ++q) v[ch][q] = (v[ch][q] - p.mean[ch]) * p.inv_std[ch];
    if (out_nhwc) {
      float flat[12];
#pragma unroll
      for (int q = 0; q < 4; ++q)
#pragma unroll
        for (int ch = 0; ch < 3; ++ch) flat[q * 3 + ch] = v[ch][q];
      typename S::T* dst = out + (image * hw + pixel) * 3;
      store4v<S>(dst, make_float4(flat[0], flat[1], flat[2], flat[3]));
      store4v<S>(dst + 4, make_float4(flat[4], flat[5], flat[6], flat[7]));
      store4v<S>(dst + 8, make_float4(flat[8], flat[9], flat[10], flat[11]));
    } else {
#pragma unroll
      for (int ch = 0; ch < 3; ++ch) {
        store4v<S>(out + (image * 3 + ch) * hw + pixel, make_float4(v[ch][0], v[ch][1], v[ch][2], v[ch][3]));
      }
    }
  }
}

}  // namespace

void launch_normalize_input(const float* in, TensorLayout in_layout, void* out, ActType out_type, TensorLayout out_layout,
                            int n, int h, int w, const NormalizeParams& params, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(in && out, "normalize_input: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && h > 0 && w > 0, "normalize_input: empty tensor");
  const int64_t hw = int64_t(h) * w;
  const bool in_nhwc = in_layout == TensorLayout::kNHWC, out_nhwc = out_layout == TensorLayout::kNHWC;
  const bool vec = hw % 4 == 0 && aligned16(in) && vec4_aligned(out, out_type);
  dispatch_storage(out_type, [&](auto s_tag) {
    using S = decltype(s_tag);
    auto* o = static_cast<typename S::T*>(out);
    if (vec) {
      normalize_vec4_kernel<S><<<grid_for(n * hw / 4, kThreads), kThreads, 0, stream>>>(in, in_nhwc, o, out_nhwc, n, hw,
                                                                                       params);
      check_launch("normalize_vec4_kernel");
    } else {
      normalize_scalar_kernel<S><<<grid_for(n * hw, kThreads), kThreads, 0, stream>>>(in, in_nhwc, o, out_nhwc, n, hw,
                                                                                     params);
      check_launch("normalize_scalar_kernel");
    }
  });
}

void launch_normalize_input(const float* in, TensorLayout in_layout, float* out, TensorLayout out_layout, int n, int h,
                            int w, const NormalizeParams& params, cudaStream_t stream) {
  launch_normalize_input(in, in_layout, static_cast<void*>(out), ActType::kF32, out_layout, n, h, w, params, stream);
}

}  // namespace resnetrs::kernels
