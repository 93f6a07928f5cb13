// The CPU backend: runs the whole network in float32 from folded weights, NCHW inside, with the
// operators of cpu_ops. All buffers are sized from the network description at construction.
// Optionally it emulates 16-bit storage (make_cpu_engine_emulating, engine.h): convolution
// weights rounded once, every stored activation rounded after the op that writes it.
#include <algorithm>
#include <vector>

#include "common/error.h"
#include "cpu/cpu_ops.h"
#include "cpu/storage_rounding.h"
#include "engine/engine.h"

namespace resnetrs {
namespace {

class CpuEngine final : public Engine {
 public:
  CpuEngine(const FoldedWeights& weights, const EngineOptions& options, cpu::StorageType storage = cpu::StorageType::kFp32)
      : m_weights(weights), m_options(options), m_net(describe_network(weights.config, options.height, options.width)),
        m_storage(storage) {
    // Emulation: the convolution weights in the storage type (biases, SE and dense stay fp32).
    auto round_conv = [&](FoldedConv& c) { cpu::round_in_place(m_storage, c.weight.data(), c.weight.size()); };
    for (FoldedConv& c : m_weights.stem) round_conv(c);
    for (FoldedBlock& b : m_weights.blocks) {
      round_conv(b.conv1);
      round_conv(b.conv2);
      round_conv(b.conv3);
      if (b.has_shortcut) round_conv(b.shortcut);
    }
    const size_t act = size_t(m_net.max_activation_floats()) * options.max_batch;
    for (auto* buf : {&m_x, &m_t1, &m_t2, &m_t3, &m_shortcut, &m_pooled_input}) buf->resize(act);
    size_t ws = 0;
    for (const ConvShape& s : m_net.stem) ws = std::max(ws, params(s, 1).workspace_floats());
    for (const BlockShape& b : m_net.blocks) {
      ws = std::max({ws, params(b.conv1, 1).workspace_floats(), params(b.conv2, 1).workspace_floats()});
    }
    m_workspace.resize(std::max<size_t>(ws, 1));
    const size_t vec = size_t(options.max_batch) * kFinalChannels;
    m_pooled.resize(vec);
    m_gate.resize(vec);
    m_hidden.resize(vec);
  }

  const NetworkDesc& network() const override { return m_net; }
  const EngineOptions& options() const override { return m_options; }

  void run_device(const float*, int, float*, void*) override {
    throw_error(Status::kInvalidArgument, "run_device needs the CUDA backend; this engine runs on the CPU");
  }

  void run_host(const float* input, int batch, float* logits) override {
    check_run_arguments(m_options, input, batch, logits);
    cpu::normalize_input(input, m_options.input_layout == Layout::kNHWC, batch, m_net.height, m_net.width, m_weights.input_mean,
                         m_weights.input_std, m_x.data());
    stored(m_x.data(), size_t(batch) * 3 * m_net.height * m_net.width);
    // Stem: ping-pong X -> T1 -> X -> T1 -> X; an even number of convs ends in m_x, the blocks' input.
    conv(m_net.stem[0], m_weights.stem[0], batch, m_x.data(), m_t1.data());
    conv(m_net.stem[1], m_weights.stem[1], batch, m_t1.data(), m_x.data());
    conv(m_net.stem[2], m_weights.stem[2], batch, m_x.data(), m_t1.data());
    conv(m_net.stem[3], m_weights.stem[3], batch, m_t1.data(), m_x.data());

    for (size_t i = 0; i < m_net.blocks.size(); ++i) run_block(m_net.blocks[i], m_weights.blocks[i], batch);

    cpu::global_avg_pool(m_x.data(), batch, kFinalChannels, m_net.final_h, m_net.final_w, m_pooled.data());
    cpu::dense(m_pooled.data(), batch, kFinalChannels, m_net.num_classes, m_weights.dense_weight.data(),
               m_weights.dense_bias.data(), logits);
  }

 private:
  static cpu::ConvParams params(const ConvShape& s, int batch) { return cpu::conv_params(s, batch); }

  void conv(const ConvShape& s, const FoldedConv& f, int batch, const float* in, float* out) {
    cpu::conv2d(params(s, batch), in, f.weight.data(), f.bias.data(), s.act, out, m_workspace.data());
    stored(out, size_t(batch) * s.cout * s.h_out * s.w_out);
  }

  // An activation is written to memory: in the storage type when emulating.
  void stored(float* data, size_t n) const { cpu::round_in_place(m_storage, data, n); }

  // m_x holds the block input on entry and the block output on exit.
  void run_block(const BlockShape& b, const FoldedBlock& f, int batch) {
    conv(b.conv1, f.conv1, batch, m_x.data(), m_t1.data());
    conv(b.conv2, f.conv2, batch, m_t1.data(), m_t2.data());
    conv(b.conv3, f.conv3, batch, m_t2.data(), m_t3.data());
    const int hw = b.h_out * b.w_out;
    cpu::global_avg_pool(m_t3.data(), batch, b.cout, b.h_out, b.w_out, m_pooled.data());
    cpu::se_gate(m_pooled.data(), batch, b.cout, b.se_channels, f.se_reduce_weight.data(), f.se_reduce_bias.data(),
                 f.se_expand_weight.data(), f.se_expand_bias.data(), m_hidden.data(), m_gate.data());
    const float* shortcut = m_x.data();
    if (b.has_projection) {
      const float* src = m_x.data();
      if (b.pool_shortcut) {
        cpu::avg_pool_2x2_same(m_x.data(), batch, b.cin, b.h_in, b.w_in, b.pool_stride, m_pooled_input.data());
        stored(m_pooled_input.data(), size_t(batch) * b.cin * b.h_out * b.w_out);
        src = m_pooled_input.data();
      }
      conv(b.shortcut, f.shortcut, batch, src, m_shortcut.data());
      shortcut = m_shortcut.data();
    }
    cpu::excite_residual(m_t3.data(), m_gate.data(), shortcut, batch, b.cout, hw, b.act, m_x.data());
    stored(m_x.data(), size_t(batch) * b.cout * hw);
  }

  FoldedWeights m_weights;
  EngineOptions m_options;
  NetworkDesc m_net;
  cpu::StorageType m_storage = cpu::StorageType::kFp32;
  std::vector<float> m_x, m_t1, m_t2, m_t3, m_shortcut, m_pooled_input, m_workspace;
  std::vector<float> m_pooled, m_gate, m_hidden;
};

}  // namespace

std::unique_ptr<Engine> make_cpu_reference_engine(const FoldedWeights& weights, const EngineOptions& options) {
  validate_engine_options(weights, options);
  return std::make_unique<CpuEngine>(weights, options);
}

std::unique_ptr<Engine> make_cpu_engine_emulating(const FoldedWeights& weights, const EngineOptions& options, Precision storage) {
  validate_engine_options(weights, options);
  RESNETRS_CHECK_ARG(storage == Precision::kFp16 || storage == Precision::kBf16 || storage == Precision::kFp32,
                     std::string("the CPU engine emulates fp16 and bf16 storage only, not ") + precision_name(storage));
  const cpu::StorageType t = storage == Precision::kFp16   ? cpu::StorageType::kFp16
                             : storage == Precision::kBf16 ? cpu::StorageType::kBf16
                                                           : cpu::StorageType::kFp32;
  return std::make_unique<CpuEngine>(weights, options, t);
}

}  // namespace resnetrs
