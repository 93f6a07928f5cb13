// Row bias add for the logits (see bias_add.cuh).
// Thread mapping: grid-stride loop, one thread per element. Scalar only: the output is the
// caller's buffer (alignment unknown) and holds n x 1000 floats, far too small to matter.
#include "kernels/bias_add.cuh"
#include "kernels/common.cuh"

namespace resnetrs::kernels {
namespace {

constexpr int kThreads = 256;

__global__ void bias_add_rows_kernel(const float* raw, const float* __restrict__ bias, float* out, int64_t total, int k) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    out[i] = raw[i] + bias[i % k];
  }
}

}  // namespace

void launch_bias_add_rows(const float* raw, const float* bias, float* out, int n, int k, cudaStream_t stream) {
  RESNETRS_CHECK_ARG(raw && bias && out, "bias_add_rows: null pointer");
  RESNETRS_CHECK_ARG(n > 0 && k > 0, "bias_add_rows: empty shape");
  const int64_t total = int64_t(n) * k;
  bias_add_rows_kernel<<<grid_for(total, kThreads), kThreads, 0, stream>>>(raw, bias, out, total, k);
  check_launch("bias_add_rows_kernel");
}

}  // namespace resnetrs::kernels
