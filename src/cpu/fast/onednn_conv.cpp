#include "cpu/fast/onednn_conv.h"

#include <algorithm>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "common/error.h"
#include "cpu/fast/omp_threads.h"

namespace resnetrs::cpu::fast {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// The process's CPU engine for oneDNN (oneDNN engines are cheap handles; one is enough).
const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct Unimplemented {};

std::string isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other (" + std::to_string(int(isa)) + ")";
  }
}

}  // namespace

std::string onednn_effective_isa() { return isa_name(dnnl::get_effective_cpu_isa()); }

std::string limit_onednn_isa(CpuIsa isa) {
  const dnnl::cpu_isa limit = isa == CpuIsa::kGeneric ? dnnl::cpu_isa::sse41
                              : isa == CpuIsa::kAvx2  ? dnnl::cpu_isa::avx2
                                                      : dnnl::cpu_isa::all;
  // Fails (and changes nothing) once oneDNN has dispatched its first kernel: the limit is per process.
  (void)dnnl::set_max_cpu_isa(limit);
  return onednn_effective_isa();
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

// One primitive for one batch size, with its memory objects bound at run time by set_data_handle.
struct OneDnnConv::Piece {
  int batch = 0;
  dnnl::convolution_forward conv;
  memory src, dst, weights, bias, scratch;
  std::unordered_map<int, memory> args;
};

OneDnnConv::OneDnnConv(const ConvShape& s, OneDnnAlgorithm algorithm, int max_batch, const float* weight,
                       const float* bias)
    : m_shape(s), m_algorithm(algorithm) {
  const dnnl::engine& eng = cpu_engine();
  m_stream = std::make_unique<dnnl::stream>(eng);
  dnnl::stream& stream = *m_stream;
  const memory::dims strides = {s.stride, s.stride};
  const memory::dims pad_l = {s.pad_top, s.pad_left};
  // The bottom/right padding that gives the network's output size (rows past the input read zeros).
  const memory::dims pad_r = {(s.h_out - 1) * s.stride + s.kernel - s.h_in - s.pad_top,
                              (s.w_out - 1) * s.stride + s.kernel - s.w_in - s.pad_left};
  dnnl::post_ops ops;
  if (s.act == Activation::kRelu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  if (s.act == Activation::kSwish) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  const memory::desc user_w_md({s.cout, s.cin, s.kernel, s.kernel}, dt::f32, tag::oihw);
  memory user_w(user_w_md, eng, const_cast<float*>(weight));
  const memory::desc bias_md({s.cout}, dt::f32, tag::a);
  std::vector<float> zero_bias;
  if (!bias) zero_bias.assign(size_t(s.cout), 0.0f);
  memory bias_mem(bias_md, eng);
  std::copy(bias ? bias : zero_bias.data(), (bias ? bias : zero_bias.data()) + s.cout,
            static_cast<float*>(bias_mem.get_data_handle()));

  std::vector<memory> packed_weights;  // one per distinct weights layout the pieces want
  for (int b = 1; b <= max_batch; b *= 2) {
    auto piece = std::make_unique<Piece>();
    piece->batch = b;
    const memory::desc src_md({b, s.cin, s.h_in, s.w_in}, dt::f32, tag::nhwc);
    const memory::desc dst_md({b, s.cout, s.h_out, s.w_out}, dt::f32, tag::nhwc);
    const memory::desc w_md({s.cout, s.cin, s.kernel, s.kernel}, dt::f32, tag::any);
    dnnl::convolution_forward::primitive_desc pd;
    try {
      const dnnl::convolution_forward::desc d(
          dnnl::prop_kind::forward_inference,
          algorithm == OneDnnAlgorithm::kWinograd ? dnnl::algorithm::convolution_winograd
                                                  : dnnl::algorithm::convolution_direct,
          src_md, w_md, bias_md, dst_md, strides, pad_l, pad_r);
      pd = dnnl::convolution_forward::primitive_desc(d, attr, eng);
    } catch (const dnnl::error& e) {
      if (e.status == dnnl_unimplemented) throw Unimplemented{};
      throw_error(Status::kInternal, "oneDNN refused the convolution " + s.name + ": " + e.what());
    }
    if (m_impl.empty()) m_impl = pd.impl_info_str();
    piece->conv = dnnl::convolution_forward(pd);
    // Weights in the layout this implementation wants, shared between pieces that want the same.
    for (const memory& w : packed_weights) {
      if (w.get_desc() == pd.weights_desc()) piece->weights = w;
    }
    if (!piece->weights) {
      m_weight_storage.emplace_back(pd.weights_desc().get_size());
      piece->weights = memory(pd.weights_desc(), eng, m_weight_storage.back().data());
      dnnl::reorder(user_w, piece->weights).execute(stream, user_w, piece->weights);
      stream.wait();
      packed_weights.push_back(piece->weights);
    }
    piece->bias = bias_mem;
    piece->src = memory(src_md, eng, DNNL_MEMORY_NONE);
    piece->dst = memory(dst_md, eng, DNNL_MEMORY_NONE);
    piece->scratch = memory(pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    m_workspace_bytes = std::max(m_workspace_bytes, pd.scratchpad_desc().get_size());
    piece->args = {{DNNL_ARG_SRC, piece->src},
                   {DNNL_ARG_WEIGHTS, piece->weights},
                   {DNNL_ARG_BIAS, piece->bias},
                   {DNNL_ARG_DST, piece->dst},
                   {DNNL_ARG_SCRATCHPAD, piece->scratch}};
    m_pieces.push_back(std::move(piece));
    if (b > max_batch / 2) break;
  }
  std::reverse(m_pieces.begin(), m_pieces.end());
}

OneDnnConv::~OneDnnConv() = default;

std::string OneDnnConv::name() const {
  return std::string("onednn ") + (m_algorithm == OneDnnAlgorithm::kWinograd ? "winograd" : "direct") + " (" + m_impl + ")";
}

void OneDnnConv::run(const float* in, int batch, float* out, void* workspace, int /*threads: the OpenMP setting*/) {
  const size_t in_image = size_t(m_shape.h_in) * m_shape.w_in * m_shape.cin;
  const size_t out_image = size_t(m_shape.h_out) * m_shape.w_out * m_shape.cout;
  dnnl::stream& stream = *m_stream;
  int done = 0;
  for (const auto& piece : m_pieces) {
    while (batch - done >= piece->batch) {
      piece->src.set_data_handle(const_cast<float*>(in) + done * in_image);
      piece->dst.set_data_handle(out + done * out_image);
      piece->scratch.set_data_handle(workspace);
      piece->conv.execute(stream, piece->args);
      done += piece->batch;
    }
  }
  stream.wait();
}

std::unique_ptr<OneDnnConv> make_onednn_conv(const ConvShape& shape, OneDnnAlgorithm algorithm, int max_batch,
                                             const float* weight, const float* bias) {
  try {
    return std::make_unique<OneDnnConv>(shape, algorithm, max_batch, weight, bias);
  } catch (const Unimplemented&) {
    return nullptr;
  }
}

}  // namespace resnetrs::cpu::fast
