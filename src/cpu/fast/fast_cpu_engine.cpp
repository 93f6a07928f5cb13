#include "cpu/fast/fast_cpu_engine.h"

#include <omp.h>

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <random>

#include "common/error.h"
#include "cpu/fast/cpu_isa.h"
#include "cpu/fast/gemm_conv1x1.h"
#include "cpu/fast/host_buffer.h"
#include "cpu/fast/omp_threads.h"
#include "cpu/fast/onednn_conv.h"

namespace resnetrs {
namespace cpu::fast {
namespace {

// Float storage sized once at build, page-aligned (host_buffer.h).
class AlignedFloats {
 public:
  void resize(size_t n) { m_buffer = HostBuffer(std::max<size_t>(n, 1) * sizeof(float)); }
  float* data() { return m_buffer.floats(); }
  const float* data() const { return m_buffer.floats(); }

 private:
  HostBuffer m_buffer;
};

constexpr int kRowChunk = 64;     // pixels per work item of the elementwise steps
constexpr int kChannelChunk = 64; // channels per work item of the channel sums
constexpr int kColumnChunk = 64;  // output columns per work item of the SE layers and the head

class FastCpuEngine final : public Engine {
 public:
  FastCpuEngine(const FoldedWeights& weights, const EngineOptions& options, const std::vector<std::string>& forced)
      : m_options(options), m_net(describe_network(weights.config, options.height, options.width)),
        m_mean(weights.input_mean), m_std(weights.input_std) {
    copy_small_weights(weights);
    const auto t0 = std::chrono::steady_clock::now();
    m_facts.threads = resolve_cpu_threads(options.cpu_threads);
    const CpuIsa isa = resolve_cpu_isa(options.cpu_isa);
    m_facts.onednn_isa = limit_onednn_isa(isa);
    m_facts.onednn_version = onednn_version();
    m_kernels = &isa_kernels(isa);
    m_facts.isa = m_kernels->name;
    ScopedOmpThreads scoped(m_facts.threads);

    const size_t act = size_t(m_net.max_activation_floats()) * options.max_batch;
    for (AlignedFloats* buf : {&m_x, &m_t1, &m_t2, &m_t3, &m_shortcut, &m_pooled_input}) buf->resize(act);
    const size_t vec = size_t(options.max_batch) * kFinalChannels;
    m_sums.resize(vec);
    m_gate.resize(vec);
    m_hidden.resize(vec);
    m_head.resize(vec);

    // Timing input: seeded values, like normalized activations.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uni(-1.0f, 2.0f);
    for (size_t i = 0; i < act; ++i) m_t2.data()[i] = uni(rng);

    ChoiceContext ctx;
    ctx.winograd = options.cpu_winograd;
    ctx.isa = isa;
    ctx.threads = m_facts.threads;
    ctx.max_batch = options.max_batch;
    ctx.tune_batch = std::min(options.max_batch, 8);
    ctx.scratch_in = m_t2.data();
    ctx.scratch_out = m_t3.data();
    ChoiceCacheFile cache = cpu_tuning_cache(options.tuning_cache_path);
    cache.load();
    ctx.cache = &cache;
    ctx.cache_machine = cpu_cache_machine(m_facts.onednn_version, m_facts.onednn_isa);
    std::vector<std::pair<const ConvShape*, const FoldedConv*>> layers;
    for (int i = 0; i < 4; ++i) layers.emplace_back(&m_net.stem[i], &weights.stem[i]);
    for (size_t i = 0; i < m_net.blocks.size(); ++i) {
      const BlockShape& b = m_net.blocks[i];
      const FoldedBlock& f = weights.blocks[i];
      layers.emplace_back(&b.conv1, &f.conv1);
      layers.emplace_back(&b.conv2, &f.conv2);
      layers.emplace_back(&b.conv3, &f.conv3);
      if (b.has_projection) layers.emplace_back(&b.shortcut, &f.shortcut);
    }
    RESNETRS_CHECK_ARG(forced.empty() || forced.size() == layers.size(),
                       "forced algorithms: " + std::to_string(forced.size()) + " given for " +
                           std::to_string(layers.size()) + " convolution layers");
    size_t workspace = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      ctx.forced = forced.empty() ? std::string() : forced[i];
      ConvChoice c = choose_conv(*layers[i].first, *layers[i].second, ctx);
      workspace = std::max(workspace, c.impl->workspace_bytes());
      m_facts.plan.push_back({layers[i].first->name, c.impl->name(), std::move(c.candidates)});
      m_convs.push_back(std::move(c.impl));
    }
    cache.save();
    m_workspace.resize(workspace / sizeof(float) + 16);
    m_tune_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  const NetworkDesc& network() const override { return m_net; }
  const EngineOptions& options() const override { return m_options; }
  double tune_ms() const override { return m_tune_ms; }
  int cpu_threads() const override { return m_facts.threads; }
  const FastEngineFacts& facts() const { return m_facts; }

  void run_device(const float*, int, float*, void*) override {
    throw_error(Status::kInvalidArgument, "run_device needs the CUDA backend; this engine runs on the CPU");
  }

  void run_host(const float* input, int batch, float* logits) override {
    check_run_arguments(m_options, input, batch, logits);
    ScopedOmpThreads scoped(m_facts.threads);
    normalize(input, batch);
    size_t layer = 0;
    conv(layer++, batch, m_x.data(), m_t1.data());
    conv(layer++, batch, m_t1.data(), m_x.data());
    conv(layer++, batch, m_x.data(), m_t1.data());
    conv(layer++, batch, m_t1.data(), m_x.data());
    for (size_t i = 0; i < m_net.blocks.size(); ++i) layer = run_block(m_net.blocks[i], m_se[i], layer, batch);
    head(batch, logits);
  }

 private:
  int threads() const { return m_facts.threads; }
  // The weights the engine reads itself (the convolutions keep theirs in their own layouts): each
  // block's SE weights and the dense layer, in one buffer.
  struct SeWeights {
    const float *w1t, *b1, *w2t, *b2;  // w1t [c][r], w2t [r][c]
  };
  void copy_small_weights(const FoldedWeights& w) {
    size_t floats = w.dense_weight.size() + w.dense_bias.size();
    for (const FoldedBlock& b : w.blocks) {
      floats += b.se_reduce_weight.size() + b.se_reduce_bias.size() + b.se_expand_weight.size() + b.se_expand_bias.size();
    }
    m_small = HostBuffer(floats * sizeof(float));
    float* at = m_small.floats();
    auto put = [&at](const std::vector<float>& v) {
      const float* start = at;
      at = std::copy(v.begin(), v.end(), at);
      return start;
    };
    // [rows][cols] stored as [cols][rows]: the kernels run along contiguous outputs (isa_kernels.h).
    auto put_transposed = [&at](const std::vector<float>& v, int rows, int cols) {
      const float* start = at;
      for (int j = 0; j < cols; ++j) {
        for (int i = 0; i < rows; ++i) *at++ = v[size_t(i) * cols + j];
      }
      return start;
    };
    m_dense_weight = put_transposed(w.dense_weight, m_net.num_classes, kFinalChannels);
    m_dense_bias = put(w.dense_bias);
    for (size_t i = 0; i < w.blocks.size(); ++i) {
      const FoldedBlock& b = w.blocks[i];
      const int c = m_net.blocks[i].cout, r = m_net.blocks[i].se_channels;
      const float* w1t = put_transposed(b.se_reduce_weight, r, c);
      const float* b1 = put(b.se_reduce_bias);
      const float* w2t = put_transposed(b.se_expand_weight, c, r);
      const float* b2 = put(b.se_expand_bias);
      m_se.push_back({w1t, b1, w2t, b2});
    }
  }

  void conv(size_t layer, int batch, const float* in, float* out) {
    m_convs[layer]->run(in, batch, out, m_workspace.data(), threads());
  }

  void normalize(const float* input, int batch) {
    const int h = m_net.height, w = m_net.width;
    const int chunks = (h + 7) / 8;
    const bool nhwc = m_options.input_layout == Layout::kNHWC;
#pragma omp parallel for num_threads(threads()) schedule(static)
    for (int item = 0; item < batch * chunks; ++item) {
      const int n = item / chunks, y0 = (item % chunks) * 8, y1 = std::min(h, y0 + 8);
      const size_t image = size_t(h) * w * 3;
      m_kernels->normalize_input(input + n * image, nhwc ? 1 : 0, h, w, m_mean.data(), m_std.data(), y0, y1, m_x.data() + n * image);
    }
  }

  // m_x holds the block input on entry and the block output on exit. Returns the next layer index.
  size_t run_block(const BlockShape& b, const SeWeights& f, size_t layer, int batch) {
    conv(layer++, batch, m_x.data(), m_t1.data());
    conv(layer++, batch, m_t1.data(), m_t2.data());
    conv(layer++, batch, m_t2.data(), m_t3.data());
    const size_t hw = size_t(b.h_out) * b.w_out;
    squeeze_excite(b, f, batch, hw);
    const float* shortcut = m_x.data();
    if (b.has_projection) {
      const float* src = m_x.data();
      if (b.pool_shortcut) {
        pool(b, batch);
        src = m_pooled_input.data();
      }
      conv(layer++, batch, src, m_shortcut.data());
      shortcut = m_shortcut.data();
    }
    tail(b, batch, hw, shortcut);
    return layer;
  }

  // gate[n] = SE(mean over pixels of t3[n]).
  void squeeze_excite(const BlockShape& b, const SeWeights& f, int batch, size_t hw) {
    const int c = b.cout, chunks = (c + kChannelChunk - 1) / kChannelChunk;
    const float inv = 1.0f / float(hw);
#pragma omp parallel num_threads(threads())
    {
#pragma omp for schedule(static)
      for (int item = 0; item < batch * chunks; ++item) {
        const int n = item / chunks, c0 = (item % chunks) * kChannelChunk, cc = std::min(kChannelChunk, c - c0);
        float* sum = m_sums.data() + size_t(n) * c + c0;
        m_kernels->channel_sum(m_t3.data() + n * hw * c + c0, hw, size_t(c), cc, sum);
        for (int i = 0; i < cc; ++i) sum[i] *= inv;
      }
    }
    const int r = b.se_channels;
    dense_columns(m_sums.data(), batch, c, f.w1t, f.b1, r, IsaAct::kRelu, m_hidden.data());
    dense_columns(m_hidden.data(), batch, r, f.w2t, f.b2, c, IsaAct::kSigmoid, m_gate.data());
  }

  // out [m][n] = act(a [m][k] x b [k][n] + bias): the SE layers and the head, as GEMMs over the whole
  // batch (each weight read once per run), the columns split into chunks over the threads; oneDNN's
  // sgemm runs single-threaded inside the parallel loop, so a chunk's values do not depend on the
  // thread count.
  void dense_columns(const float* a, int m, int k, const float* b, const float* bias, int n, IsaAct act, float* out) {
    const int chunks = (n + kColumnChunk - 1) / kColumnChunk;
    int failed = 0;
#pragma omp parallel for num_threads(threads()) schedule(static) reduction(max : failed)
    for (int item = 0; item < chunks; ++item) {
      const int j0 = item * kColumnChunk, nj = std::min(kColumnChunk, n - j0);
      if (dnnl_sgemm('N', 'N', m, nj, k, 1.0f, a, k, b + j0, n, 0.0f, out + j0, n) != dnnl_success) failed = 1;
      m_kernels->bias_act(out + j0, size_t(m), size_t(n), nj, bias + j0, act);
    }
    if (failed) throw_error(Status::kInternal, "oneDNN sgemm failed in a dense layer of the CPU engine");
  }

  void pool(const BlockShape& b, int batch) {
    const int rows = b.h_out;
    const size_t in_image = size_t(b.h_in) * b.w_in * b.cin, out_image = size_t(b.h_out) * b.w_out * b.cin;
#pragma omp parallel for num_threads(threads()) schedule(static)
    for (int item = 0; item < batch * rows; ++item) {
      const int n = item / rows, y = item % rows;
      m_kernels->avg_pool_2x2(m_x.data() + n * in_image, b.h_in, b.w_in, b.cin, b.pool_stride, y, y + 1,
                              m_pooled_input.data() + n * out_image);
    }
  }

  void tail(const BlockShape& b, int batch, size_t hw, const float* shortcut) {
    const int c = b.cout;
    const long chunks = long((hw + kRowChunk - 1) / kRowChunk);
    const IsaAct act = isa_act(b.act);
#pragma omp parallel for num_threads(threads()) schedule(static)
    for (long item = 0; item < batch * chunks; ++item) {
      const long n = item / chunks, p0 = (item % chunks) * kRowChunk;
      const size_t rows = std::min<size_t>(kRowChunk, hw - size_t(p0));
      const size_t o = (size_t(n) * hw + size_t(p0)) * c;
      m_kernels->excite_residual(m_t3.data() + o, m_gate.data() + size_t(n) * c, shortcut + o, rows, c, act,
                                 m_x.data() + o);
    }
  }

  void head(int batch, float* logits) {
    const size_t hw = size_t(m_net.final_h) * m_net.final_w;
    const int c = kFinalChannels, chunks = (c + kChannelChunk - 1) / kChannelChunk;
    const float inv = 1.0f / float(hw);
#pragma omp parallel for num_threads(threads()) schedule(static)
    for (int item = 0; item < batch * chunks; ++item) {
      const int n = item / chunks, c0 = (item % chunks) * kChannelChunk, cc = std::min(kChannelChunk, c - c0);
      float* mean = m_head.data() + size_t(n) * c + c0;
      m_kernels->channel_sum(m_x.data() + n * hw * c + c0, hw, size_t(c), cc, mean);
      for (int i = 0; i < cc; ++i) mean[i] *= inv;
    }
    dense_columns(m_head.data(), batch, c, m_dense_weight, m_dense_bias, m_net.num_classes, IsaAct::kNone, logits);
  }

  HostBuffer m_small;
  std::vector<SeWeights> m_se;
  const float* m_dense_weight = nullptr;
  const float* m_dense_bias = nullptr;
  EngineOptions m_options;
  NetworkDesc m_net;
  std::array<float, 3> m_mean, m_std;
  FastEngineFacts m_facts;
  const IsaKernels* m_kernels = nullptr;
  std::vector<std::unique_ptr<ConvImpl>> m_convs;
  AlignedFloats m_x, m_t1, m_t2, m_t3, m_shortcut, m_pooled_input, m_workspace;
  AlignedFloats m_sums, m_gate, m_hidden, m_head;
  double m_tune_ms = 0;
};

}  // namespace

std::unique_ptr<Engine> make_fast_engine(const FoldedWeights& weights, const EngineOptions& options,
                                         const std::vector<std::string>& forced_algorithms) {
  validate_engine_options(weights, options);
  return std::make_unique<FastCpuEngine>(weights, options, forced_algorithms);
}

const FastEngineFacts& fast_engine_facts(const Engine& engine) {
  const auto* fast = dynamic_cast<const FastCpuEngine*>(&engine);
  RESNETRS_CHECK_ARG(fast, "not an engine of the fast CPU backend");
  return fast->facts();
}

}  // namespace cpu::fast

std::unique_ptr<Engine> make_cpu_fast_engine(const FoldedWeights& weights, const EngineOptions& options) {
  return cpu::fast::make_fast_engine(weights, options);
}

}  // namespace resnetrs
