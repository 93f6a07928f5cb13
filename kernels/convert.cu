// Element-wise storage conversions (see convert.cuh), with the rounding of storage_convert.cuh.
// Thread mapping: grid-stride loop, one thread per 4 elements when both pointers are aligned to 4
// elements of their type, else one per element; a tail of count % 4 elements runs in a second,
// scalar launch.
#include "kernels/common.cuh"
#include "kernels/convert.cuh"
#include "kernels/storage_io.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

template <class S>
__global__ void from_f32_scalar_kernel(const float* __restrict__ in, typename S::T* __restrict__ out, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    out[i] = from_f32<S>(in[i]);
  }
}

template <class S>
__global__ void from_f32_vec4_kernel(const float* __restrict__ in, typename S::T* __restrict__ out, int64_t vecs) {
  for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < vecs; v += int64_t(gridDim.x) * blockDim.x) {
    store4v<S>(out + 4 * v, load4(in + 4 * v));
  }
}

template <class S>
__global__ void to_f32_scalar_kernel(const typename S::T* __restrict__ in, float* __restrict__ out, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    out[i] = to_f32<S>(in[i]);
  }
}

template <class S>
__global__ void to_f32_vec4_kernel(const typename S::T* __restrict__ in, float* __restrict__ out, int64_t vecs) {
  for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < vecs; v += int64_t(gridDim.x) * blockDim.x) {
    store4(out + 4 * v, load4v<S>(in + 4 * v));
  }
}

}  // namespace

void launch_convert_from_f32(const float* in, void* out, ActType type, int64_t count, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(in && out, "convert_from_f32: null pointer");
  RESNETRS_CHECK_ARG(count > 0, "convert_from_f32: empty tensor");
  const bool vec = aligned16(in) && vec4_aligned(out, type);
  dispatch_storage(type, [&](auto s_tag) {
    using S = decltype(s_tag);
    auto* dst = static_cast<typename S::T*>(out);
    int64_t done = 0;
    if (vec && count >= 4) {
      const int64_t vecs = count / 4;
      from_f32_vec4_kernel<S><<<grid_for(vecs, kThreads), kThreads, 0, stream>>>(in, dst, vecs);
      check_launch("from_f32_vec4_kernel");
      done = 4 * vecs;
    }
    if (done < count) {
      from_f32_scalar_kernel<S><<<grid_for(count - done, kThreads), kThreads, 0, stream>>>(in + done, dst + done,
                                                                                          count - done);
      check_launch("from_f32_scalar_kernel");
    }
  });
}

void launch_convert_to_f32(const void* in, ActType type, float* out, int64_t count, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(in && out, "convert_to_f32: null pointer");
  RESNETRS_CHECK_ARG(count > 0, "convert_to_f32: empty tensor");
  const bool vec = vec4_aligned(in, type) && aligned16(out);
  dispatch_storage(type, [&](auto s_tag) {
    using S = decltype(s_tag);
    const auto* src = static_cast<const typename S::T*>(in);
    int64_t done = 0;
    if (vec && count >= 4) {
      const int64_t vecs = count / 4;
      to_f32_vec4_kernel<S><<<grid_for(vecs, kThreads), kThreads, 0, stream>>>(src, out, vecs);
      check_launch("to_f32_vec4_kernel");
      done = 4 * vecs;
    }
    if (done < count) {
      to_f32_scalar_kernel<S><<<grid_for(count - done, kThreads), kThreads, 0, stream>>>(src + done, out + done,
                                                                                        count - done);
      check_launch("to_f32_scalar_kernel");
    }
  });
}

}  // namespace resnetrs::kernels
