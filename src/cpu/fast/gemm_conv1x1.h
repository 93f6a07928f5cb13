// A 1x1 stride-1 convolution as one GEMM over the whole batch: NHWC makes the input a
// [batch*h*w, cin] matrix and the output [batch*h*w, cout] = in x W^T, with W^T packed once as
// [cin, cout]. The rows are split into one contiguous part per thread; each thread multiplies its
// part (oneDNN's sgemm, single-threaded inside our parallel region) and then adds the bias and
// applies the activation over it.
#pragma once

#include <vector>

#include "cpu/fast/conv_impl.h"
#include "cpu/fast/host_buffer.h"
#include "cpu/fast/isa/isa_kernels.h"
#include "model/network.h"

namespace resnetrs::cpu::fast {

class GemmConv1x1 final : public ConvImpl {
 public:
  // shape: kernel 1, stride 1, no padding (throws Error(kInternal) otherwise). weight OIHW, bias may be null.
  GemmConv1x1(const ConvShape& shape, const IsaKernels& kernels, const float* weight, const float* bias);

  std::string name() const override { return "gemm 1x1"; }
  bool is_winograd() const override { return false; }
  size_t workspace_bytes() const override { return 0; }
  void run(const float* in, int batch, float* out, void* workspace, int threads) override;

 private:
  ConvShape m_shape;
  const IsaKernels& m_kernels;
  HostBuffer m_weight_t;  // [cin][cout]
  std::vector<float> m_bias;      // [cout], zeros when the layer has none
  IsaAct m_act;
};

IsaAct isa_act(Activation act);

}  // namespace resnetrs::cpu::fast
