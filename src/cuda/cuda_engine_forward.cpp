// CudaEngine's forward pass (cuda_engine.h): stem, blocks, head GEMM, on one stream; recorded
// into the per-batch CUDA graph, or run eagerly.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

#include "common/error.h"
#include "cuda/conv_tuner.h"
#include "cuda/cuda_engine.h"
#include "cuda/cutlass_conv.h"
#include "kernels/se_excite.cuh"

namespace resnetrs {

using cuda::ConvChoice;
using cuda::ConvGeometry;
using cuda::ConvMode;
using cuda::DeviceBuffer;
using cuda::LegacyConv;
using kernels::TensorLayout;

void CudaEngine::after_op(const std::string& what, cudaStream_t s) {
  if (!m_tweaks.sync_check) return;
  const cudaError_t err = cudaStreamSynchronize(s);
  const cudaError_t last = err != cudaSuccess ? err : cudaGetLastError();
  if (last != cudaSuccess) {
    throw_error(Status::kCudaError, "RESNETRS_SYNC_CHECK: " + what + " failed on the device: " + cudaGetErrorName(last) + " (" +
                                        cudaGetErrorString(last) + ")");
  }
}

void CudaEngine::forward(BatchState& st, cudaStream_t s) {
  bind_stream(s);
  const int n = st.batch;
  auto conv = [&](int layer, const cuda::DeviceConv& dc) -> bool {
    pad_conv_input(layer, n, s);
    const cuda::ConvLayer& l = m_plan.convs[size_t(layer)];
    ShapeState& ss = st.shapes[size_t(l.unique)];
    try {
      if (ss.choice.mode == cuda::ConvMode::kCutlass) {
        cuda::CutlassOperands ops;
        ops.x = at_f32(m_slots.convs[size_t(layer)].in);
        ops.w = static_cast<const float*>(dc.weight);
        ops.bias = dc.bias;
        ops.y = at_f32(m_slots.convs[size_t(layer)].out);
        cuda::run_cutlass_conv(ss.choice.algo, l.shape, n, ops, s);
      } else {
        void* y = at(m_slots.convs[size_t(layer)].out);
        if (ss.choice.mode == cuda::ConvMode::kFused && m_zero_fused_outputs) {
          // cuDNN's fused call is given z = y with alpha2 = 0; under the liveness placement y holds
          // another tensor's stale bytes, which must not reach it as NaN (0 * NaN = NaN).
          const cuda::ConvGeometry& g = ss.conv.geometry();
          RESNETRS_CUDA_CHECK(cudaMemsetAsync(y, 0, size_t(g.n) * g.cout * g.h_out() * g.w_out() * size_t(m_policy.act_bytes), s));
        }
        cuda::run_conv_choice(ss.conv, l.shape.relu(), ss.choice, at(m_slots.convs[size_t(layer)].in), dc.weight, dc.bias, y,
                              m_workspace.get(), m_workspace.bytes(), m_layout, s, dc.bias_conv);
      }
    } catch (const Error& e) {
      throw Error(e.status(), "layer " + l.shape.name + " (batch " + std::to_string(n) + ", " + ss.choice.to_string() +
                                  "): " + e.what());
    }
    after_op(l.shape.name, s);
    return conv_epilogue(layer, dc.bias, ss.choice.bias_in_conv(), n, s);
  };
  for (int i = 0; i < 4; ++i) conv(i, m_weights.stem[i]);

  for (size_t bi = 0; bi < m_net.blocks.size(); ++bi) {
    const BlockShape& b = m_net.blocks[bi];
    const cuda::BlockPlan& bp = m_plan.blocks[bi];
    const cuda::DeviceBlock& db = m_weights.blocks[bi];
    const int hw = b.h_out * b.w_out;
    const cuda::BlockSlots& bs = m_slots.blocks[bi];
    float* pooled = at_f32(bs.pooled);
    float* hidden = at_f32(bs.hidden);
    float* gate = at_f32(bs.gate);
    conv(bp.conv1, db.conv1);
    conv(bp.conv2, db.conv2);
    const bool b3_in_conv = conv(bp.conv3, db.conv3);
    const float* b3 = b3_in_conv ? nullptr : db.conv3.bias;
    try {
      cuda::act_global_avg_pool(at(bs.t3), b3, pooled, act(), n, b.cout, hw, s);
      kernels::launch_dense_act(pooled, db.se_w1, db.se_b1, hidden, n, b.cout, b.se_channels,
                                kernels::DenseActivation::kRelu, s);
      kernels::launch_dense_act(hidden, db.se_w2, db.se_b2, gate, n, b.se_channels, b.cout,
                                kernels::DenseActivation::kSigmoid, s);
    } catch (const Error& e) {
      throw Error(e.status(), b.name + "/se (batch " + std::to_string(n) + "): " + e.what());
    }
    after_op(b.name + "/se", s);
    const void* shortcut = at(bs.x_in);
    const float* bsc = nullptr;
    if (bp.shortcut >= 0) {
      if (b.pool_shortcut) {
        try {
          shortcut_pool(b, bs, n, s);
        } catch (const Error& e) {
          throw Error(e.status(), b.name + "/shortcut_pool (batch " + std::to_string(n) + "): " + e.what());
        }
        after_op(b.name + "/shortcut_pool", s);
      }
      const bool bsc_in_conv = conv(bp.shortcut, db.shortcut);
      shortcut = at(bs.sc);
      bsc = bsc_in_conv ? nullptr : db.shortcut.bias;
    }
    try {
      block_tail(b, bs, b3, shortcut, bsc, n, s);
    } catch (const Error& e) {
      throw Error(e.status(), b.name + "/tail (batch " + std::to_string(n) + "): " + e.what());
    }
    after_op(b.name + "/tail", s);
  }

  // Head: global average pool, then logits_raw[n, K] = pooled[n, 2048] . W[K, 2048]^T. Column-
  // major view for cuBLAS: C[K, n] = op(A)[K, 2048] * B[2048, n] with A = W viewed as [2048, K]
  // (lda 2048, transposed) and B = pooled viewed as [2048, n] (ldb 2048).
  try {
    cuda::act_global_avg_pool(at(m_slots.final_x), nullptr, at_f32(m_slots.head_pooled), act(), n, kFinalChannels,
                              m_net.final_h * m_net.final_w, s);
    const float alpha = 1.0f, beta = 0.0f;
    RESNETRS_CUBLAS_CHECK(cublasSgemm(m_cublas.get(), CUBLAS_OP_T, CUBLAS_OP_N, m_net.num_classes, n, kFinalChannels, &alpha,
                                      m_weights.dense_weight, kFinalChannels, at_f32(m_slots.head_pooled), kFinalChannels, &beta,
                                      at_f32(m_slots.logits_raw), m_net.num_classes));
  } catch (const Error& e) {
    throw Error(e.status(), "head (batch " + std::to_string(n) + "): " + e.what());
  }
  after_op("head", s);
}

}  // namespace resnetrs
