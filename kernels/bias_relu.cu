// In-place bias + activation epilogue (see bias_relu.cuh), in any storage type (storage_io.cuh).
//
// Layout: NCHW (channel = (i / hw) % c) or NHWC (channel = i % c).
// Thread mapping: grid-stride loop, one thread per 4 elements on the vector path, else per element.
// Vector path: NCHW needs hw % 4 == 0 (4 consecutive elements share one channel); NHWC needs
// c % 4 == 0 (4 consecutive channels, bias read as a float4, 16-byte aligned); data aligned to 4
// elements (16 bytes in fp32, 8 in fp16/bf16).
// bias may be null (launch_bias_act only): act(x), for a layer whose bias the conv already added.
// Arithmetic in fp32: act(x + bias), one rounding to the storage type at the store. ReLU keeps NaN
// (as std::max(x, 0) does in the CPU operator); swish is the CPU's x / (1 + exp(-x)).
#include "kernels/bias_relu.cuh"
#include "kernels/common.cuh"
#include "kernels/storage_io.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

template <class S, PointwiseAct A>
__global__ void bias_act_scalar_kernel(typename S::T* __restrict__ data, const float* __restrict__ bias, int64_t total,
                                       int c, int64_t hw, bool nhwc) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ch = nhwc ? int(i % c) : int((i / hw) % c);
    const float v = to_f32<S>(data[i]);
    data[i] = from_f32<S>(activate<A>(bias ? v + bias[ch] : v));
  }
}

template <class S, PointwiseAct A>
__global__ void bias_act_vec4_kernel(typename S::T* __restrict__ data, const float* __restrict__ bias, int64_t total,
                                     int c, int64_t hw, bool nhwc) {
  const int64_t vecs = total / 4;
  for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < vecs; v += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = 4 * v;
    float4 x = load4v<S>(data + i);
    if (!bias) {
      x.x = activate<A>(x.x);
      x.y = activate<A>(x.y);
      x.z = activate<A>(x.z);
      x.w = activate<A>(x.w);
    } else if (nhwc) {
      const float4 b = load4(bias + i % c);
      x.x = activate<A>(x.x + b.x);
      x.y = activate<A>(x.y + b.y);
      x.z = activate<A>(x.z + b.z);
      x.w = activate<A>(x.w + b.w);
    } else {
      const float b = bias[(i / hw) % c];
      x.x = activate<A>(x.x + b);
      x.y = activate<A>(x.y + b);
      x.z = activate<A>(x.z + b);
      x.w = activate<A>(x.w + b);
    }
    store4v<S>(data + i, x);
  }
}

}  // namespace

void launch_bias_act(void* data, ActType type, const float* bias, int n, int c, int hw, TensorLayout layout,
                     PointwiseAct act, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(data, "bias_act: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && c > 0 && hw > 0, "bias_act: empty tensor");
  const bool nhwc = layout == TensorLayout::kNHWC;
  const int64_t total = int64_t(n) * c * hw;
  const bool vec = (nhwc ? c % 4 == 0 && (!bias || aligned16(bias)) : hw % 4 == 0) && vec4_aligned(data, type);
  dispatch_storage(type, [&](auto s_tag) {
    using S = decltype(s_tag);
    auto* d = static_cast<typename S::T*>(data);
    dispatch_act(act, [&](auto a_tag) {
      constexpr PointwiseAct A = decltype(a_tag)::value;
      if (vec) {
        bias_act_vec4_kernel<S, A><<<grid_for(total / 4, kThreads), kThreads, 0, stream>>>(d, bias, total, c, hw, nhwc);
        check_launch("bias_act_vec4_kernel");
      } else {
        bias_act_scalar_kernel<S, A><<<grid_for(total, kThreads), kThreads, 0, stream>>>(d, bias, total, c, hw, nhwc);
        check_launch("bias_act_scalar_kernel");
      }
    });
  });
}

void launch_bias_relu(float* data, const float* bias, int n, int c, int hw, TensorLayout layout, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(bias, "bias_relu: null pointer");
  launch_bias_act(data, ActType::kF32, bias, n, c, hw, layout, PointwiseAct::kRelu, stream);
}

}  // namespace resnetrs::kernels
