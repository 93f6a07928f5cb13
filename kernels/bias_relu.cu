// In-place bias + ReLU epilogue (see bias_relu.cuh).
//
// Layout: NCHW (channel = (i / hw) % c) or NHWC (channel = i % c).
// Thread mapping: grid-stride loop, one thread per float4 on the vector path, else per float.
// Vector path: NCHW needs hw % 4 == 0 (4 consecutive elements share one channel); NHWC needs
// c % 4 == 0 (4 consecutive channels, bias read as a float4); both need 16-byte aligned pointers.
// ReLU keeps NaN (as std::max(x, 0) does in the CPU operator).
#include "kernels/bias_relu.cuh"
#include "kernels/common.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

__global__ void bias_relu_scalar_kernel(float* __restrict__ data, const float* __restrict__ bias, int64_t total, int c,
                                        int64_t hw, bool nhwc) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ch = nhwc ? int(i % c) : int((i / hw) % c);
    data[i] = relu(data[i] + bias[ch]);
  }
}

__global__ void bias_relu_vec4_kernel(float* __restrict__ data, const float* __restrict__ bias, int64_t total, int c,
                                      int64_t hw, bool nhwc) {
  const int64_t vecs = total / 4;
  for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < vecs; v += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = 4 * v;
    float4 x = load4(data + i);
    if (nhwc) {
      const float4 b = load4(bias + i % c);
      x.x = relu(x.x + b.x);
      x.y = relu(x.y + b.y);
      x.z = relu(x.z + b.z);
      x.w = relu(x.w + b.w);
    } else {
      const float b = bias[(i / hw) % c];
      x.x = relu(x.x + b);
      x.y = relu(x.y + b);
      x.z = relu(x.z + b);
      x.w = relu(x.w + b);
    }
    store4(data + i, x);
  }
}

}  // namespace

void launch_bias_relu(float* data, const float* bias, int n, int c, int hw, TensorLayout layout, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(data && bias, "bias_relu: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && c > 0 && hw > 0, "bias_relu: empty tensor");
  const bool nhwc = layout == TensorLayout::kNHWC;
  const int64_t total = int64_t(n) * c * hw;
  const bool vec = (nhwc ? c % 4 == 0 && aligned16(bias) : hw % 4 == 0) && aligned16(data);
  if (vec) {
    bias_relu_vec4_kernel<<<grid_for(total / 4, kThreads), kThreads, 0, stream>>>(data, bias, total, c, hw, nhwc);
    check_launch("bias_relu_vec4_kernel");
  } else {
    bias_relu_scalar_kernel<<<grid_for(total, kThreads), kThreads, 0, stream>>>(data, bias, total, c, hw, nhwc);
    check_launch("bias_relu_scalar_kernel");
  }
}

}  // namespace resnetrs::kernels
