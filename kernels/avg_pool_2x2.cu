// 2x2 'same' average pools, stride 2 and stride 1 (see avg_pool_2x2.cuh), in any storage type
// (storage_io.cuh): inputs converted to fp32, sums and the division in fp32, one rounding at the
// store.
//
// Summation order is the CPU operator's (cpu::avg_pool_2x2_same): (y0,x0), (y0,x1), (y1,x0),
// (y1,x1), skipping invalid cells, then one division by the valid count, so results are bitwise
// equal to it on the same (storage-rounded) input, rounded the same way.
// Thread mapping (grid-stride loops), stride 2:
//   NCHW, w % 4 == 0, input aligned to 4 elements, output to 2: one thread per pair of outputs
//     (ox = 2j, 2j+1), reading 4 inputs from each of the two input rows, writing 2 outputs.
//   NCHW otherwise: one thread per output.
//   NHWC, c % 4 == 0 and both pointers aligned to 4 elements: one thread per (n, oy, ox, 4 channels).
//   NHWC otherwise: one thread per output.
// Stride 1 (the Model Garden's stage-1 shortcut): NHWC with c % 4 == 0 and aligned pointers, one
// thread per 4 channels; otherwise one thread per output. The CPU starts its sum from 0.0f, and so
// do these kernels (it only matters for a -0 first cell).
#include "kernels/avg_pool_2x2.cuh"
#include "kernels/common.cuh"
#include "kernels/storage_io.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

template <class S>
__global__ void pool_nchw_scalar_kernel(const typename S::T* __restrict__ in, typename S::T* __restrict__ out,
                                        int64_t planes, int h, int w, int ho, int wo) {
  const int64_t total = planes * ho * wo;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ox = int(i % wo);
    const int oy = int((i / wo) % ho);
    const int64_t plane = i / (int64_t(wo) * ho);
    const typename S::T* src = in + plane * h * w;
    const int y0 = 2 * oy, x0 = 2 * ox;
    const bool y1 = y0 + 1 < h, x1 = x0 + 1 < w;
    float s = to_f32<S>(src[int64_t(y0) * w + x0]);
    int cnt = 1;
    if (x1) s += to_f32<S>(src[int64_t(y0) * w + x0 + 1]), ++cnt;
    if (y1) {
      s += to_f32<S>(src[int64_t(y0 + 1) * w + x0]), ++cnt;
      if (x1) s += to_f32<S>(src[int64_t(y0 + 1) * w + x0 + 1]), ++cnt;
    }
    out[i] = from_f32<S>(s / float(cnt));
  }
}

// w % 4 == 0, so wo = w / 2 is even and every column pair is complete.
template <class S>
__global__ void pool_nchw_vec_kernel(const typename S::T* __restrict__ in, typename S::T* __restrict__ out,
                                     int64_t planes, int h, int w, int ho, int wo) {
  const int pairs = wo / 2;
  const int64_t total = planes * ho * pairs;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int j = int(i % pairs);
    const int oy = int((i / pairs) % ho);
    const int64_t plane = i / (int64_t(pairs) * ho);
    const typename S::T* row0 = in + (plane * h + 2 * oy) * w + 4 * j;
    const float4 a = load4v<S>(row0);
    float s0 = a.x, s1 = a.z;
    s0 += a.y;
    s1 += a.w;
    float cnt = 2.0f;
    if (2 * oy + 1 < h) {
      const float4 b = load4v<S>(row0 + w);
      s0 += b.x;
      s1 += b.z;
      s0 += b.y;
      s1 += b.w;
      cnt = 4.0f;
    }
    store2v<S>(out + (plane * ho + oy) * wo + 2 * j, s0 / cnt, s1 / cnt);
  }
}

template <class S>
__global__ void pool_nhwc_scalar_kernel(const typename S::T* __restrict__ in, typename S::T* __restrict__ out, int n,
                                        int c, int h, int w, int ho, int wo) {
  const int64_t total = int64_t(n) * ho * wo * c;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ch = int(i % c);
    const int ox = int((i / c) % wo);
    const int oy = int((i / (int64_t(c) * wo)) % ho);
    const int64_t b = i / (int64_t(c) * wo * ho);
    const int y0 = 2 * oy, x0 = 2 * ox;
    const bool y1 = y0 + 1 < h, x1 = x0 + 1 < w;
    auto at = [&](int y, int x) { return to_f32<S>(in[((b * h + y) * w + x) * c + ch]); };
    float s = at(y0, x0);
    int cnt = 1;
    if (x1) s += at(y0, x0 + 1), ++cnt;
    if (y1) {
      s += at(y0 + 1, x0), ++cnt;
      if (x1) s += at(y0 + 1, x0 + 1), ++cnt;
    }
    out[i] = from_f32<S>(s / float(cnt));
  }
}

template <class S>
__global__ void pool_nhwc_vec_kernel(const typename S::T* __restrict__ in, typename S::T* __restrict__ out, int n, int c,
                                     int h, int w, int ho, int wo) {
  const int c4 = c / 4;
  const int64_t total = int64_t(n) * ho * wo * c4;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ch = 4 * int(i % c4);
    const int ox = int((i / c4) % wo);
    const int oy = int((i / (int64_t(c4) * wo)) % ho);
    const int64_t b = i / (int64_t(c4) * wo * ho);
    const int y0 = 2 * oy, x0 = 2 * ox;
    const bool y1 = y0 + 1 < h, x1 = x0 + 1 < w;
    auto at = [&](int y, int x) { return load4v<S>(in + ((b * h + y) * w + x) * c + ch); };
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
    store4v<S>(out + ((b * ho + oy) * wo + ox) * c + ch, make_float4(s.x / cnt, s.y / cnt, s.z / cnt, s.w / cnt));
  }
}

// Stride 1: output (y, x) averages rows y, y+1 (when < h) and columns x, x+1 (when < w).
// In and out have the same shape: the neighbours of element i sit xs (next column) and ys (next
// row) elements further in either layout.
template <class S>
__global__ void pool_s1_scalar_kernel(const typename S::T* __restrict__ in, typename S::T* __restrict__ out, int n,
                                      int c, int h, int w, bool nhwc) {
  const int64_t total = int64_t(n) * c * h * w;
  const int64_t xs = nhwc ? c : 1, ys = xs * w;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    int x, y;
    if (nhwc) {
      x = int((i / c) % w);
      y = int((i / (int64_t(c) * w)) % h);
    } else {
      x = int(i % w);
      y = int((i / w) % h);
    }
    const bool y1 = y + 1 < h, x1 = x + 1 < w;
    const typename S::T* p = in + i;  // (b, ch, y, x): the same offset in `in` as in `out`
    float s = 0.0f;
    s += to_f32<S>(p[0]);
    int cnt = 1;
    if (x1) s += to_f32<S>(p[xs]), ++cnt;
    if (y1) {
      s += to_f32<S>(p[ys]), ++cnt;
      if (x1) s += to_f32<S>(p[ys + xs]), ++cnt;
    }
    out[i] = from_f32<S>(s / float(cnt));
  }
}

template <class S>
__global__ void pool_s1_nhwc_vec_kernel(const typename S::T* __restrict__ in, typename S::T* __restrict__ out, int n,
                                        int c, int h, int w) {
  const int c4 = c / 4;
  const int64_t total = int64_t(n) * h * w * c4;
  for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < total; v += int64_t(gridDim.x) * blockDim.x) {
    const int x = int((v / c4) % w);
    const int y = int((v / (int64_t(c4) * w)) % h);
    const bool y1 = y + 1 < h, x1 = x + 1 < w;
    const int64_t i = 4 * v;  // element offset of the 4 channels, the same in `in` and `out`
    float4 s = make_float4(0.f, 0.f, 0.f, 0.f);
    float cnt = 0.0f;
    auto add = [&](int64_t off) {
      const float4 t = load4v<S>(in + i + off);
      s.x += t.x;
      s.y += t.y;
      s.z += t.z;
      s.w += t.w;
      cnt += 1.0f;
    };
    add(0);
    if (x1) add(c);
    if (y1) {
      add(int64_t(w) * c);
      if (x1) add(int64_t(w) * c + c);
    }
    store4v<S>(out + i, make_float4(s.x / cnt, s.y / cnt, s.z / cnt, s.w / cnt));
  }
}

void check_pool_args(const void* in, const void* out, int n, int c, int h, int w, const char* what) {
  RESNETRS_CHECK_ARG(in && out, std::string(what) + ": null pointer");
  RESNETRS_CHECK_ARG(n > 0 && c > 0 && h > 0 && w > 0, std::string(what) + ": empty tensor");
}

}  // namespace

void launch_avg_pool_2x2_same(const void* in, void* out, ActType type, int n, int c, int h, int w, TensorLayout layout,
                              cudaStream_t stream) {
  check_pool_args(in, out, n, c, h, w, "avg_pool_2x2_same");
  const int ho = (h + 1) / 2, wo = (w + 1) / 2;
  dispatch_storage(type, [&](auto s_tag) {
    using S = decltype(s_tag);
    const auto* src = static_cast<const typename S::T*>(in);
    auto* dst = static_cast<typename S::T*>(out);
    if (layout == TensorLayout::kNCHW) {
      const int64_t planes = int64_t(n) * c;
      if (w % 4 == 0 && vec4_aligned(in, type) && vec2_aligned(out, type)) {
        pool_nchw_vec_kernel<S><<<grid_for(planes * ho * (wo / 2), kThreads), kThreads, 0, stream>>>(src, dst, planes, h,
                                                                                                     w, ho, wo);
        check_launch("pool_nchw_vec_kernel");
      } else {
        pool_nchw_scalar_kernel<S><<<grid_for(planes * ho * wo, kThreads), kThreads, 0, stream>>>(src, dst, planes, h, w,
                                                                                                  ho, wo);
        check_launch("pool_nchw_scalar_kernel");
      }
    } else {
      if (c % 4 == 0 && vec4_aligned(in, type) && vec4_aligned(out, type)) {
        pool_nhwc_vec_kernel<S><<<grid_for(int64_t(n) * ho * wo * (c / 4), kThreads), kThreads, 0, stream>>>(
            src, dst, n, c, h, w, ho, wo);
        check_launch("pool_nhwc_vec_kernel");
      } else {
        pool_nhwc_scalar_kernel<S><<<grid_for(int64_t(n) * ho * wo * c, kThreads), kThreads, 0, stream>>>(src, dst, n, c,
                                                                                                          h, w, ho, wo);
        check_launch("pool_nhwc_scalar_kernel");
      }
    }
  });
}

void launch_avg_pool_2x2_same(const float* in, float* out, int n, int c, int h, int w, TensorLayout layout,
                              cudaStream_t stream) {
  launch_avg_pool_2x2_same(static_cast<const void*>(in), static_cast<void*>(out), ActType::kF32, n, c, h, w, layout,
                           stream);
}

void launch_avg_pool_2x2_s1_same(const void* in, void* out, ActType type, int n, int c, int h, int w, TensorLayout layout,
                                 cudaStream_t stream) {
  check_pool_args(in, out, n, c, h, w, "avg_pool_2x2_s1_same");
  const bool nhwc = layout == TensorLayout::kNHWC;
  dispatch_storage(type, [&](auto s_tag) {
    using S = decltype(s_tag);
    const auto* src = static_cast<const typename S::T*>(in);
    auto* dst = static_cast<typename S::T*>(out);
    if (nhwc && c % 4 == 0 && vec4_aligned(in, type) && vec4_aligned(out, type)) {
      pool_s1_nhwc_vec_kernel<S><<<grid_for(int64_t(n) * h * w * (c / 4), kThreads), kThreads, 0, stream>>>(src, dst, n,
                                                                                                             c, h, w);
      check_launch("pool_s1_nhwc_vec_kernel");
    } else {
      pool_s1_scalar_kernel<S><<<grid_for(int64_t(n) * c * h * w, kThreads), kThreads, 0, stream>>>(src, dst, n, c, h, w,
                                                                                                     nhwc);
      check_launch("pool_s1_scalar_kernel");
    }
  });
}

}  // namespace resnetrs::kernels
