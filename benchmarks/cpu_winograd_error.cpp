// resnetrs-winograd-error: for every distinct 3x3 stride-1 layer of ResNet-RS-50 @160 and
// ResNet-RS-152 @256 (the stem's 3x3 stride-1 convs and the blocks' conv2 where stride 1), the
// error against a float64 convolution (ConvErrorProbe: max |got - ref| / max |ref|, relu, seeded
// random input in [-1, 2), weights uniform with He-like scale, random bias) of
//   - im2col: the reference CPU engine's fp32 convolution (cpu::conv2d, NCHW, im2col + OpenBLAS),
//   - onednn: oneDNN's fp32 direct convolution (NHWC, weights in the layout it picks),
//   - F(2x2,3x3) and F(4x4,3x3): WinogradConv3x3 (NHWC),
// each Winograd error also as a ratio to the direct ones, and the median time of each.
// docs/cpu-winograd.md shows its table. Usage: resnetrs-winograd-error [--threads N] [--batch N]
//   [--reps N] [--isa generic|avx2] [--only-rs50] [--only HxWxCIN->COUT] [--cpu-time] [--min] [--crop N]
// (--crop N: every layer cropped to at most N x N, the size the engine's accuracy probe uses).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <oneapi/dnnl/dnnl.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cpu/cpu_ops.h"
#include "cpu/fast/conv_error_probe.h"
#include "cpu/fast/cpu_isa.h"
#include "cpu/fast/winograd_conv.h"
#include "model/config.h"
#include "model/network.h"

// OpenBLAS's (CMake finds OpenBLAS: BLA_VENDOR); declared here in case cblas.h is another vendor's.
extern "C" void openblas_set_num_threads(int num_threads);

using namespace resnetrs;
using namespace resnetrs::cpu::fast;

namespace {

std::vector<float> uniform(size_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(n);
  for (auto& x : v) {
    uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    x = lo + (hi - lo) * float(double(z >> 11) * 0x1.0p-53);
  }
  return v;
}

// Wall time, or with --cpu-time the process's CPU time (all threads summed: with --threads 1 a
// measure that other processes on a shared machine disturb much less).
bool g_cpu_time = false;
bool g_min = false;  // --min: the fastest run instead of the median (wall time on a busy machine)

double now_ms() {
  timespec ts;
  clock_gettime(g_cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

double median_ms(const std::function<void()>& fn, int reps) {
  fn();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double a = now_ms();
    fn();
    t.push_back(now_ms() - a);
  }
  std::sort(t.begin(), t.end());
  return g_min ? t.front() : t[t.size() / 2];
}

// oneDNN's direct convolution, 3x3 stride 1 pad 1, NHWC in and out, bias and relu fused.
struct OnednnConv {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::convolution_forward prim;
  dnnl::memory src, wei, bia, dst;
  OnednnConv(int n, int cin, int cout, int h, int w, const float* weight, const float* bias, float* in, float* out) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    const dnnl::memory::desc src_md({n, cin, h, w}, dt::f32, tag::nhwc), dst_md({n, cout, h, w}, dt::f32, tag::nhwc),
        wei_any({cout, cin, 3, 3}, dt::f32, tag::any), bia_md({cout}, dt::f32, tag::a);
    dnnl::post_ops po;
    dnnl::primitive_attr attr;
#if DNNL_VERSION_MAJOR >= 3
    po.append_eltwise(dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
    const dnnl::convolution_forward::primitive_desc pd(eng, dnnl::prop_kind::forward_inference,
                                                       dnnl::algorithm::convolution_direct, src_md, wei_any, bia_md,
                                                       dst_md, {1, 1}, {1, 1}, {1, 1}, attr);
#else
    po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
    const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                            src_md, wei_any, bia_md, dst_md, {1, 1}, {1, 1}, {1, 1});
    const dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
#endif
    prim = dnnl::convolution_forward(pd);
    src = dnnl::memory(src_md, eng, in);
    dst = dnnl::memory(dst_md, eng, out);
    bia = dnnl::memory(bia_md, eng, const_cast<float*>(bias));
    dnnl::memory wei_user({{cout, cin, 3, 3}, dt::f32, tag::oihw}, eng, const_cast<float*>(weight));
    wei = dnnl::memory(pd.weights_desc(), eng);
    dnnl::reorder(wei_user, wei).execute(strm, wei_user, wei);
    strm.wait();
  }
  void run() {
    prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_BIAS, bia}, {DNNL_ARG_DST, dst}});
    strm.wait();
  }
};

struct Layer {
  std::string where;
  int cin, cout, h, w;
};

std::vector<Layer> layers(bool only_rs50) {
  std::vector<Layer> out;
  std::set<std::tuple<int, int, int, int>> seen;
  const int nets[2][2] = {{50, 160}, {152, 256}};
  for (int k = 0; k < (only_rs50 ? 1 : 2); ++k) {
    const NetworkDesc net = describe_network(config_for_depth(nets[k][0]), nets[k][1], nets[k][1]);
    const std::string tag = "RS-" + std::to_string(nets[k][0]) + "@" + std::to_string(nets[k][1]);
    std::vector<const ConvShape*> convs;
    for (const ConvShape& s : net.stem) convs.push_back(&s);
    for (const BlockShape& b : net.blocks) convs.push_back(&b.conv2);
    for (const ConvShape* s : convs) {
      if (s->kernel != 3 || s->stride != 1) continue;
      if (!seen.insert({s->cin, s->cout, s->h_in, s->w_in}).second) continue;
      out.push_back({tag + " " + s->name, s->cin, s->cout, s->h_in, s->w_in});
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, batch = 1, reps = 9;
  bool only_rs50 = false;
  std::string only;  // a shape like 40x40x64->64: that layer alone
  int crop = 0;      // > 0: every layer on min(h, crop) x min(w, crop), as the engine's probe sees it
  CpuIsa isa = resolve_cpu_isa(CpuIsa::kAuto);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--batch" && i + 1 < argc) batch = std::atoi(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--isa" && i + 1 < argc) {
      const std::string v = argv[++i];
      isa = resolve_cpu_isa(v == "generic" ? CpuIsa::kGeneric : v == "avx2" ? CpuIsa::kAvx2 : CpuIsa::kAvx512);
    } else if (a == "--only-rs50") only_rs50 = true;
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--cpu-time") g_cpu_time = true;
    else if (a == "--min") g_min = true;
    else if (a == "--crop" && i + 1 < argc) crop = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--batch N] [--reps N] [--isa generic|avx2] [--only-rs50] [--only HxWxCIN->COUT] [--cpu-time] [--min] [--crop N]\n", argv[0]);
      return 2;
    }
  }
  if (threads < 1 || batch < 1 || reps < 1) {
    std::fprintf(stderr, "--threads, --batch and --reps must be >= 1\n");
    return 2;
  }
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
  std::printf("threads %d, batch %d%s, transforms %s, %s %s of %d runs; error = max|got - ref| / max|ref| vs float64\n\n",
              threads, batch, crop > 0 ? (", cropped to " + std::to_string(crop)).c_str() : "", winograd_kernels(isa).name, g_min ? "fastest" : "median", g_cpu_time ? "CPU time" : "wall time", reps);
  std::printf("| layer | shape | err im2col | err oneDNN | err F(2x2) (x im2col, x oneDNN) | err F(4x4) (x im2col, x oneDNN) "
              "| ms im2col | ms oneDNN | ms F(2x2) | ms F(4x4) |\n|---|---|---|---|---|---|---|---|---|---|\n");
  uint64_t seed = 1;
  for (Layer l : layers(only_rs50)) {
    if (crop > 0) {
      l.h = std::min(l.h, crop);
      l.w = std::min(l.w, crop);
    }
    const std::string shape = std::to_string(l.h) + "x" + std::to_string(l.w) + "x" + std::to_string(l.cin) + "->" +
                              std::to_string(l.cout);
    if (!only.empty() && shape != only) continue;
    const float wscale = std::sqrt(6.0f / (9.0f * l.cin));
    const auto wt = uniform(size_t(l.cout) * l.cin * 9, ++seed, -wscale, wscale);
    const auto bias = uniform(l.cout, ++seed, -0.2f, 0.2f);
    cpu::ConvParams g;
    g.n = batch;
    g.kernel = 3;
    g.pad = 1;
    g.cin = l.cin;
    g.cout = l.cout;
    g.h = l.h;
    g.w = l.w;
    const ConvErrorProbe probe(g, wt.data(), bias.data(), IsaAct::kRelu, ++seed);
    const size_t in_n = size_t(batch) * l.h * l.w * l.cin, out_n = probe.output_count();
    std::vector<float> in(probe.input_nhwc(), probe.input_nhwc() + in_n), out(out_n);

    // im2col on NCHW (layouts converted outside the timed call).
    std::vector<float> in_nchw(in_n), out_nchw(out_n), back(out_n);
    const int hw = l.h * l.w;
    for (int n = 0; n < batch; ++n)
      for (int p = 0; p < hw; ++p)
        for (int c = 0; c < l.cin; ++c) in_nchw[(size_t(n) * l.cin + c) * hw + p] = in[(size_t(n) * hw + p) * l.cin + c];
    cpu::ConvParams p;
    p.n = batch;
    p.cin = l.cin;
    p.h = l.h;
    p.w = l.w;
    p.cout = l.cout;
    p.kernel = 3;
    p.stride = 1;
    p.pad = 1;
    std::vector<float> ws_im2col(std::max<size_t>(p.workspace_floats(), 1));
    auto im2col = [&] { cpu::conv2d(p, in_nchw.data(), wt.data(), bias.data(), Activation::kRelu, out_nchw.data(), ws_im2col.data()); };
    const double t_im2col = median_ms(im2col, reps);
    for (int n = 0; n < batch; ++n)
      for (int q = 0; q < hw; ++q)
        for (int c = 0; c < l.cout; ++c) back[(size_t(n) * hw + q) * l.cout + c] = out_nchw[(size_t(n) * l.cout + c) * hw + q];
    const double e_im2col = probe.error(back.data());

    OnednnConv dn(batch, l.cin, l.cout, l.h, l.w, wt.data(), bias.data(), in.data(), out.data());
    const double t_dnnl = median_ms([&] { dn.run(); }, reps);
    const double e_dnnl = probe.error(out.data());

    double e_w[2], t_w[2];
    const WinogradTile tiles[2] = {WinogradTile::kF2x2, WinogradTile::kF4x4};
    for (int k = 0; k < 2; ++k) {
      const WinogradConv3x3 conv(tiles[k], isa, l.cin, l.cout, l.h, l.w, batch, wt.data(), bias.data(), IsaAct::kRelu);
      std::vector<float> ws(conv.workspace_floats(threads));
      std::fill(out.begin(), out.end(), 0.0f);
      t_w[k] = median_ms([&] { conv.run(in.data(), batch, out.data(), ws.data(), threads); }, reps);
      e_w[k] = probe.error(out.data());
    }
    std::printf("| %s | %dx%dx%d->%d | %.2e | %.2e | %.2e (%.1f, %.1f) | %.2e (%.1f, %.1f) | %.3f | %.3f | %.3f | %.3f |\n",
                l.where.c_str(), l.h, l.w, l.cin, l.cout, e_im2col, e_dnnl, e_w[0], e_w[0] / e_im2col, e_w[0] / e_dnnl,
                e_w[1], e_w[1] / e_im2col, e_w[1] / e_dnnl, t_im2col, t_dnnl, t_w[0], t_w[1]);
    std::fflush(stdout);
  }
  return 0;
}
