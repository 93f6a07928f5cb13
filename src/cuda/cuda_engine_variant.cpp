// CudaEngine's steps that differ between the network variants (cuda_engine.h), as the plan
// (engine_plan.h) describes them: the explicit zero padding of a Keras 'same' stride-2 conv, a
// conv's activation epilogue (swish: cuDNN's fused call has none), the shortcut pool (2x2 with
// stride 2, or stride 1 in the Model Garden's stage 1) and the block tail with the block's
// activation. The TF1 release runs exactly the kernels it ran before: no padding, ReLU fused or in
// bias_relu, the stride-2 pool, the ReLU tail.
#include <cuda_runtime_api.h>

#include <string>

#include "common/error.h"
#include "cuda/cuda_engine.h"
#include "kernels/avg_pool_2x2.cuh"
#include "kernels/bias_relu.cuh"
#include "kernels/block_tail.cuh"
#include "kernels/zero_pad.cuh"

namespace resnetrs {
namespace {

kernels::PointwiseAct pointwise(Activation a) {
  switch (a) {
    case Activation::kNone: return kernels::PointwiseAct::kIdentity;
    case Activation::kRelu: return kernels::PointwiseAct::kRelu;
    case Activation::kSwish: return kernels::PointwiseAct::kSwish;
  }
  throw_error(Status::kInternal, "unknown activation " + std::to_string(int(a)));
}

}  // namespace

void CudaEngine::pad_conv_input(int layer, int batch, cudaStream_t s) {
  const cuda::ConvLayer& l = m_plan.convs[size_t(layer)];
  if (!l.pad.active) return;
  const cuda::ConvPad& p = l.pad;
  const cuda::ConvSlots& cs = m_slots.convs[size_t(layer)];
  try {
    kernels::launch_zero_pad(at(cs.src), at(cs.in), m_policy.act, batch, l.shape.cin, p.h, p.w, p.top, p.bottom, p.left,
                             p.right, m_layout, s);
  } catch (const Error& e) {
    throw Error(e.status(), "layer " + l.shape.name + "/zero_pad (batch " + std::to_string(batch) + "): " + e.what());
  }
  after_op(l.shape.name + "/zero_pad", s);
}

bool CudaEngine::conv_epilogue(int layer, const float* bias, bool bias_in_conv, int batch, cudaStream_t s) {
  const cuda::ConvLayer& l = m_plan.convs[size_t(layer)];
  switch (l.act) {
    case Activation::kRelu: return true;  // fused, or bias_relu inside run_conv_choice
    case Activation::kNone: return bias_in_conv;
    case Activation::kSwish: break;
  }
  try {
    kernels::launch_bias_act(at(m_slots.convs[size_t(layer)].out), m_policy.act, bias_in_conv ? nullptr : bias, batch,
                             l.shape.cout, l.shape.h_out * l.shape.w_out, m_layout, kernels::PointwiseAct::kSwish, s);
  } catch (const Error& e) {
    throw Error(e.status(), "layer " + l.shape.name + "/swish (batch " + std::to_string(batch) + "): " + e.what());
  }
  after_op(l.shape.name + "/swish", s);
  return true;
}

void CudaEngine::shortcut_pool(const BlockShape& b, const cuda::BlockSlots& bs, int batch, cudaStream_t s) {
  if (b.pool_stride == 1) {
    kernels::launch_avg_pool_2x2_s1_same(at(bs.x_in), at(bs.pi), m_policy.act, batch, b.cin, b.h_in, b.w_in, m_layout, s);
  } else {
    kernels::launch_avg_pool_2x2_same(at(bs.x_in), at(bs.pi), m_policy.act, batch, b.cin, b.h_in, b.w_in, m_layout, s);
  }
}

void CudaEngine::block_tail(const BlockShape& b, const cuda::BlockSlots& bs, const float* x_bias, const void* shortcut,
                            const float* shortcut_bias, int batch, cudaStream_t s) {
  kernels::launch_block_tail(at(bs.t3), x_bias, at_f32(bs.gate), shortcut, shortcut_bias, at(bs.out), m_policy.act, batch,
                             b.cout, b.h_out * b.w_out, m_layout, pointwise(b.act), s);
}

}  // namespace resnetrs
