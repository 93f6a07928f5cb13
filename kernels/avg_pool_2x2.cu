// 2x2/2 'same' average pool (see avg_pool_2x2.cuh).
//
// Summation order is the CPU operator's: (y0,x0), (y0,x1), (y1,x0), (y1,x1), skipping invalid
// cells, then one division by the valid count, so results are bitwise equal to cpu::avg_pool.
// Thread mapping (grid-stride loops):
//   NCHW, w % 4 == 0 and 16-byte aligned input, 8-byte aligned output: one thread per pair of
//     outputs (ox = 2j, 2j+1), reading one float4 from each of the two input rows, writing a float2.
//   NCHW otherwise: one thread per output.
//   NHWC, c % 4 == 0 and 16-byte aligned pointers: one thread per (n, oy, ox, 4 channels), float4.
//   NHWC otherwise: one thread per output.
#include "kernels/avg_pool_2x2.cuh"
#include "kernels/common.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

__global__ void pool_nchw_scalar_kernel(const float* __restrict__ in, float* __restrict__ out, int64_t planes, int h,
                                        int w, int ho, int wo) {
  const int64_t total = planes * ho * wo;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ox = int(i % wo);
    const int oy = int((i / wo) % ho);
    const int64_t plane = i / (int64_t(wo) * ho);
    const float* src = in + plane * h * w;
    const int y0 = 2 * oy, x0 = 2 * ox;
    const bool y1 = y0 + 1 < h, x1 = x0 + 1 < w;
    float s = src[int64_t(y0) * w + x0];
    int cnt = 1;
    if (x1) s += src[int64_t(y0) * w + x0 + 1], ++cnt;
    if (y1) {
      s += src[int64_t(y0 + 1) * w + x0], ++cnt;
      if (x1) s += src[int64_t(y0 + 1) * w + x0 + 1], ++cnt;
    }
    out[i] = s / float(cnt);
  }
}

// w % 4 == 0, so wo = w / 2 is even and every column pair is complete.
__global__ void pool_nchw_vec_kernel(const float* __restrict__ in, float* __restrict__ out, int64_t planes, int h,
                                     int w, int ho, int wo) {
  const int pairs = wo / 2;
  const int64_t total = planes * ho * pairs;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int j = int(i % pairs);
    const int oy = int((i / pairs) % ho);
    const int64_t plane = i / (int64_t(pairs) * ho);
    const float* row0 = in + (plane * h + 2 * oy) * w + 4 * j;
    const float4 a = load4(row0);
    float s0 = a.x, s1 = a.z;
    s0 += a.y;
    s1 += a.w;
    float cnt = 2.0f;
    if (2 * oy + 1 < h) {
      const float4 b = load4(row0 + w);
      s0 += b.x;
      s1 += b.z;
      s0 += b.y;
      s1 += b.w;
      cnt = 4.0f;
    }
    *reinterpret_cast<float2*>(out + (plane * ho + oy) * wo + 2 * j) = make_float2(s0 / cnt, s1 / cnt);
  }
}

__global__ void pool_nhwc_scalar_kernel(const float* __restrict__ in, float* __restrict__ out, int n, int c, int h,
                                        int w, int ho, int wo) {
  const int64_t total = int64_t(n) * ho * wo * c;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ch = int(i % c);
    const int ox = int((i / c) % wo);
    const int oy = int((i / (int64_t(c) * wo)) % ho);
    const int64_t b = i / (int64_t(c) * wo * ho);
    const int y0 = 2 * oy, x0 = 2 * ox;
    const bool y1 = y0 + 1 < h, x1 = x0 + 1 < w;
    auto at = [&](int y, int x) { return in[((b * h + y) * w + x) * c + ch]; };
    float s = at(y0, x0);
    int cnt = 1;
    if (x1) s += at(y0, x0 + 1), ++cnt;
    if (y1) {
      s += at(y0 + 1, x0), ++cnt;
      if (x1) s += at(y0 + 1, x0 + 1), ++cnt;
    }
    out[i] = s / float(cnt);
  }
}

__global__ void pool_nhwc_vec_kernel(const float* __restrict__ in, float* __restrict__ out, int n, int c, int h, int w,
                                     int ho, int wo) {
  const int c4 = c / 4;
  const int64_t total = int64_t(n) * ho * wo * c4;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ch = 4 * int(i % c4);
    const int ox = int((i / c4) % wo);
    const int oy = int((i / (int64_t(c4) * wo)) % ho);
    const int64_t b = i / (int64_t(c4) * wo * ho);
    const int y0 = 2 * oy, x0 = 2 * ox;
    const bool y1 = y0 + 1 < h, x1 = x0 + 1 < w;
    auto at = [&](int y, int x) { return load4(in + ((b * h + y) * w + x) * c + ch); };
    float4 s = at(y0, x0);
    float cnt = 1.0f;
    auto add = [&](const float4& v) {
      s.x += v.x;
      s.y += v.y;
      s.z += v.z;
      s.w += v.w;
      cnt += 1.0f;
    };
    if (x1) add(at(y0, x0 + 1));
    if (y1) {
      add(at(y0 + 1, x0));
      if (x1) add(at(y0 + 1, x0 + 1));
    }
    store4(out + ((b * ho + oy) * wo + ox) * c + ch, make_float4(s.x / cnt, s.y / cnt, s.z / cnt, s.w / cnt));
  }
}

}  // namespace

void launch_avg_pool_2x2_same(const float* in, float* out, int n, int c, int h, int w, TensorLayout layout,
                              cudaStream_t stream) {
  RESNETRS_CHECK_ARG(in && out, "avg_pool_2x2_same: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && c > 0 && h > 0 && w > 0, "avg_pool_2x2_same: empty tensor");
  const int ho = (h + 1) / 2, wo = (w + 1) / 2;
  if (layout == TensorLayout::kNCHW) {
    const int64_t planes = int64_t(n) * c;
    if (w % 4 == 0 && aligned16(in) && aligned8(out)) {
      pool_nchw_vec_kernel<<<grid_for(planes * ho * (wo / 2), kThreads), kThreads, 0, stream>>>(in, out, planes, h, w,
                                                                                               ho, wo);
      check_launch("pool_nchw_vec_kernel");
    } else {
      pool_nchw_scalar_kernel<<<grid_for(planes * ho * wo, kThreads), kThreads, 0, stream>>>(in, out, planes, h, w, ho,
                                                                                            wo);
      check_launch("pool_nchw_scalar_kernel");
    }
  } else {
    if (c % 4 == 0 && aligned16(in) && aligned16(out)) {
      pool_nhwc_vec_kernel<<<grid_for(int64_t(n) * ho * wo * (c / 4), kThreads), kThreads, 0, stream>>>(in, out, n, c,
                                                                                                       h, w, ho, wo);
      check_launch("pool_nhwc_vec_kernel");
    } else {
      pool_nhwc_scalar_kernel<<<grid_for(int64_t(n) * ho * wo * c, kThreads), kThreads, 0, stream>>>(in, out, n, c, h,
                                                                                                    w, ho, wo);
      check_launch("pool_nhwc_scalar_kernel");
    }
  }
}

}  // namespace resnetrs::kernels
