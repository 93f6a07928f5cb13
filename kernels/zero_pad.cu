// Zero padding into a larger tensor (see zero_pad.cuh). A pure copy: elements move as bits, in
// any storage type (zero is all-zero bits in fp32, fp16 and bf16).
// Thread mapping: grid-stride loop over the output. NHWC with c % 4 == 0 and both pointers
// aligned to 4 elements: one thread per 4 channels of one output pixel (a 16-byte vector in fp32,
// 8 bytes in fp16/bf16); otherwise one thread per output element.
#include <type_traits>

#include "kernels/common.cuh"
#include "kernels/storage_io.cuh"
#include "kernels/zero_pad.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

struct PadGeometry {
  int n, c, h, w, top, left, ho, wo;
};

template <class T>
__global__ void zero_pad_scalar_kernel(const T* __restrict__ in, T* __restrict__ out, PadGeometry g, bool nhwc) {
  const int64_t total = int64_t(g.n) * g.c * g.ho * g.wo;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    int x, y, ch;
    int64_t b;
    if (nhwc) {
      ch = int(i % g.c);
      x = int((i / g.c) % g.wo);
      y = int((i / (int64_t(g.c) * g.wo)) % g.ho);
      b = i / (int64_t(g.c) * g.wo * g.ho);
    } else {
      x = int(i % g.wo);
      y = int((i / g.wo) % g.ho);
      ch = int((i / (int64_t(g.wo) * g.ho)) % g.c);
      b = i / (int64_t(g.wo) * g.ho * g.c);
    }
    const int iy = y - g.top, ix = x - g.left;
    T v = T(0);
    if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
      v = nhwc ? in[((b * g.h + iy) * g.w + ix) * g.c + ch] : in[((b * g.c + ch) * g.h + iy) * g.w + ix];
    }
    out[i] = v;
  }
}

// 4 channels of one pixel per thread (V: uint4 for 4-byte elements, uint2 for 2-byte ones).
template <class T>
__global__ void zero_pad_nhwc_vec4_kernel(const T* __restrict__ in, T* __restrict__ out, PadGeometry g) {
  using V = std::conditional_t<sizeof(T) == 4, uint4, uint2>;
  const int c4 = g.c / 4;
  const int64_t total = int64_t(g.n) * g.ho * g.wo * c4;
  for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < total; v += int64_t(gridDim.x) * blockDim.x) {
    const int ch = 4 * int(v % c4);
    const int x = int((v / c4) % g.wo);
    const int y = int((v / (int64_t(c4) * g.wo)) % g.ho);
    const int64_t b = v / (int64_t(c4) * g.wo * g.ho);
    const int iy = y - g.top, ix = x - g.left;
    V val{};
    if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
      val = *reinterpret_cast<const V*>(in + ((b * g.h + iy) * g.w + ix) * g.c + ch);
    }
    *reinterpret_cast<V*>(out + 4 * v) = val;
  }
}

}  // namespace

void launch_zero_pad(const void* in, void* out, ActType type, int n, int c, int h, int w, int pad_top, int pad_bottom,
                     int pad_left, int pad_right, TensorLayout layout, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(in && out, "zero_pad: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && c > 0 && h > 0 && w > 0, "zero_pad: empty tensor");
  RESNETRS_CHECK_ARG(pad_top >= 0 && pad_bottom >= 0 && pad_left >= 0 && pad_right >= 0, "zero_pad: negative padding");
  const PadGeometry g{n, c, h, w, pad_top, pad_left, h + pad_top + pad_bottom, w + pad_left + pad_right};
  const bool nhwc = layout == TensorLayout::kNHWC;
  const bool vec = nhwc && c % 4 == 0 && vec4_aligned(in, type) && vec4_aligned(out, type);
  dispatch_storage(type, [&](auto s_tag) {
    using T = typename decltype(s_tag)::T;
    const auto* src = static_cast<const T*>(in);
    auto* dst = static_cast<T*>(out);
    if (vec) {
      zero_pad_nhwc_vec4_kernel<T><<<grid_for(int64_t(n) * g.ho * g.wo * (c / 4), kThreads), kThreads, 0, stream>>>(
          src, dst, g);
      check_launch("zero_pad_nhwc_vec4_kernel");
    } else {
      zero_pad_scalar_kernel<T><<<grid_for(int64_t(n) * c * g.ho * g.wo, kThreads), kThreads, 0, stream>>>(src, dst, g,
                                                                                                           nhwc);
      check_launch("zero_pad_scalar_kernel");
    }
  });
}

}  // namespace resnetrs::kernels
