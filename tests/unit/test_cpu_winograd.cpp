// The fast CPU engine's Winograd 3x3 stride-1 convolution (cpu/fast/winograd_conv.h) and the error
// probe its accuracy rule uses (cpu/fast/conv_error_probe.h), against src/ref's double-precision
// convolution on seeded random data: every channel count the network's 3x3 stride-1 layers have,
// odd channel counts (including ones across the transforms' 64-channel chunks), spatial sizes
// 1..13 and 40x40, non-square, batch 1-3, bias or none, no activation / relu / swish, and thread
// counts 1, 2, 3 bit-identical.
//
// Tolerances, as max |got - ref| / max |ref| over the output (the probe's metric). Measured on
// these cases (2026-12-07, AVX-512 machine, generic and avx2 transforms alike): F(2x2,3x3) at most
// 5.2e-7 (256 -> 256), F(4x4,3x3) at most 7.0e-6 (512 -> 512). Both grow with the channels (each
// output sums 9 cin rounded products) and with the transforms' coefficients: F(2x2)'s B^T and A^T
// rows sum to at most 2 and 3 in absolute value, F(4x4)'s to 10 and 19 and its G holds 1/6 and
// 1/24 that round, so the rounding of a transformed value is amplified an order of magnitude more
// (docs/cpu-winograd.md). The bounds leave 6x (F(2x2)) and 4x (F(4x4)) of margin over the largest
// measurement and sit far below the error of a wrong tap, a lost tile or a dropped bias (> 1e-2 on
// this data), so a broken transform cannot pass.
#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <vector>

#include "cpu/fast/conv_error_probe.h"
#include "cpu/fast/cpu_isa.h"
#include "cpu/fast/winograd_conv.h"
#include "ref/ref_ops.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::cpu::fast;
using test::random_floats;

namespace {

constexpr double kTolF2 = 3e-6, kTolF4 = 3e-5;

struct Case {
  int cin, cout, h, w, batch;
  bool bias;
  IsaAct act;
};

std::vector<float> nhwc_to_nchw(const std::vector<float>& x, int n, int c, int h, int w) {
  std::vector<float> y(x.size());
  for (int b = 0; b < n; ++b)
    for (int p = 0; p < h * w; ++p)
      for (int k = 0; k < c; ++k) y[(size_t(b) * c + k) * h * w + p] = x[(size_t(b) * h * w + p) * c + k];
  return y;
}

std::vector<double> nchw_to_nhwc(const std::vector<double>& x, int n, int c, int h, int w) {
  std::vector<double> y(x.size());
  for (int b = 0; b < n; ++b)
    for (int p = 0; p < h * w; ++p)
      for (int k = 0; k < c; ++k) y[(size_t(b) * h * w + p) * c + k] = x[(size_t(b) * c + k) * h * w + p];
  return y;
}

double relative_error(const std::vector<float>& got, const std::vector<double>& ref) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(double(got[i]) - ref[i]);
    worst = std::isfinite(d) ? std::max(worst, d) : std::numeric_limits<double>::infinity();
    scale = std::max(scale, std::fabs(ref[i]));
  }
  return worst / scale;
}

int act_code(IsaAct a) { return a == IsaAct::kRelu ? 1 : a == IsaAct::kSwish ? 2 : 0; }

// Builds the convolution for max_batch = c.batch + 1, runs c.batch images with 1, 2 and 3 threads,
// checks the three bit-identical and the result against the reference.
void check(WinogradTile tile, CpuIsa isa, const Case& c, uint64_t seed) {
  const size_t in_n = size_t(c.batch) * c.h * c.w * c.cin, out_n = size_t(c.batch) * c.h * c.w * c.cout;
  const auto x = random_floats(in_n, seed, -1.0f, 2.0f);
  const float wscale = 1.0f / std::sqrt(9.0f * c.cin);
  const auto wt = random_floats(size_t(c.cout) * c.cin * 9, seed + 1, -wscale, wscale);
  const auto b = c.bias ? random_floats(c.cout, seed + 2, -0.5f, 0.5f) : std::vector<float>();
  WinogradConv3x3 conv(tile, isa, c.cin, c.cout, c.h, c.w, c.batch + 1, wt.data(), c.bias ? b.data() : nullptr, c.act);
  std::vector<float> ws(conv.workspace_floats(3));
  std::vector<float> out[3];
  const int caller_threads = omp_get_max_threads();
  for (int t = 0; t < 3; ++t) {
    out[t].assign(out_n, std::numeric_limits<float>::quiet_NaN());
    conv.run(x.data(), c.batch, out[t].data(), ws.data(), t + 1);
  }
  // run() limits its own threads' OpenMP thread count (for oneDNN's sgemm), never the caller's.
  CHECK(omp_get_max_threads() == caller_threads);
  const auto ref = nchw_to_nhwc(ref::conv2d_tf_same(nhwc_to_nchw(x, c.batch, c.cin, c.h, c.w), c.batch, c.cin, c.h,
                                                    c.w, wt, b, c.cout, 3, 1, act_code(c.act)),
                                c.batch, c.cout, c.h, c.w);
  const double err = relative_error(out[0], ref);
  const double tol = tile == WinogradTile::kF2x2 ? kTolF2 : kTolF4;
  INFO(winograd_tile_name(tile) << " " << cpu_isa_name(isa) << ": " << c.batch << " x " << c.h << "x" << c.w << " x "
                                << c.cin << " -> " << c.cout << (c.bias ? " bias" : "") << " act "
                                << act_code(c.act) << ", blocks of " << conv.block_tiles(c.batch)
                                << " tiles: error " << err << " (bound " << tol << ")");
  CHECK(err <= tol);
  CHECK(std::memcmp(out[0].data(), out[1].data(), out_n * sizeof(float)) == 0);
  CHECK(std::memcmp(out[0].data(), out[2].data(), out_n * sizeof(float)) == 0);
}

const std::vector<Case>& cases() {
  static const std::vector<Case> list = {
      // The network's 3x3 stride-1 channel counts: stem 32->32, 32->64; blocks' conv2 64..512.
      {32, 32, 7, 5, 2, true, IsaAct::kRelu},
      {32, 64, 6, 7, 1, false, IsaAct::kSwish},
      {64, 64, 13, 6, 2, true, IsaAct::kRelu},
      {128, 128, 5, 7, 1, true, IsaAct::kNone},
      {256, 256, 5, 3, 2, false, IsaAct::kRelu},
      {512, 512, 5, 5, 1, true, IsaAct::kSwish},
      // Odd channel counts and spatial sizes 1, 2, 3, 5, 6, 7, 13.
      {1, 1, 1, 1, 1, true, IsaAct::kNone},
      {3, 7, 2, 2, 3, true, IsaAct::kRelu},
      {7, 3, 3, 5, 2, false, IsaAct::kNone},
      {13, 33, 6, 6, 1, true, IsaAct::kSwish},
      {33, 13, 7, 7, 2, true, IsaAct::kRelu},
      {1, 13, 13, 13, 1, false, IsaAct::kSwish},
      {3, 1, 5, 2, 3, true, IsaAct::kNone},
      {13, 7, 2, 7, 1, true, IsaAct::kRelu},
      {7, 1, 1, 6, 2, false, IsaAct::kRelu},
      // Across the transforms' 64-channel chunks.
      {100, 65, 6, 5, 1, true, IsaAct::kSwish},
      {65, 130, 3, 7, 2, false, IsaAct::kRelu},
      // 40x40: several blocks of tiles, threads owning blocks and sharing them.
      {7, 33, 40, 40, 1, true, IsaAct::kRelu},
      {33, 13, 40, 40, 2, false, IsaAct::kSwish},
  };
  return list;
}

void check_all(WinogradTile tile, CpuIsa isa) {
  uint64_t seed = 100;
  for (const Case& c : cases()) check(tile, isa, c, seed += 10);
}

}  // namespace

TEST_CASE("Winograd F(2x2,3x3) and F(4x4,3x3) generic transforms match the reference", "[winograd]") {
  check_all(WinogradTile::kF2x2, CpuIsa::kGeneric);
  check_all(WinogradTile::kF4x4, CpuIsa::kGeneric);
}

TEST_CASE("Winograd F(2x2,3x3) and F(4x4,3x3) avx2 transforms match the reference", "[winograd]") {
  if (detect_cpu_isa() == CpuIsa::kGeneric) {
    WARN("SKIP: this processor has no AVX2+FMA; the avx2 Winograd transforms were not run");
    return;
  }
  check_all(WinogradTile::kF2x2, CpuIsa::kAvx2);
  check_all(WinogradTile::kF4x4, CpuIsa::kAvx2);
}

TEST_CASE("Winograd convolution refuses bad geometry and batches past max_batch", "[winograd]") {
  const auto wt = random_floats(9 * 4 * 2, 7);
  CHECK_THROWS(WinogradConv3x3(WinogradTile::kF4x4, CpuIsa::kGeneric, 0, 4, 5, 5, 1, wt.data(), nullptr, IsaAct::kNone));
  CHECK_THROWS(WinogradConv3x3(WinogradTile::kF2x2, CpuIsa::kGeneric, 2, 4, 5, 0, 1, wt.data(), nullptr, IsaAct::kNone));
  CHECK_THROWS(WinogradConv3x3(WinogradTile::kF2x2, CpuIsa::kAuto, 2, 4, 5, 5, 1, wt.data(), nullptr, IsaAct::kNone));
  WinogradConv3x3 conv(WinogradTile::kF2x2, CpuIsa::kGeneric, 2, 4, 5, 5, 2, wt.data(), nullptr, IsaAct::kNone);
  std::vector<float> in(3 * 25 * 2, 1.0f), out(3 * 25 * 4), ws(conv.workspace_floats(1));
  CHECK_THROWS(conv.run(in.data(), 3, out.data(), ws.data(), 1));
  CHECK_THROWS(conv.run(in.data(), 1, out.data(), ws.data(), 0));
  CHECK(std::string(winograd_tile_name(WinogradTile::kF2x2)) == "F(2x2,3x3)");
  CHECK(std::string(winograd_tile_name(WinogradTile::kF4x4)) == "F(4x4,3x3)");
}

TEST_CASE("ConvErrorProbe's float64 convolution matches the reference (3x3 s1, 3x3 s2 'same', 1x1)", "[winograd]") {
  struct ProbeCase {
    cpu::ConvParams g;
    IsaAct act;
    bool bias;
  };
  std::vector<ProbeCase> list;
  cpu::ConvParams g;
  g = {2, 5, 7, 6, 9, 3, 1, 1, -1, -1};
  list.push_back({g, IsaAct::kSwish, true});
  g = {1, 3, 8, 10, 4, 3, 2, 1, 0, 0};  // Keras 'same' stride 2 on even sizes: the padded row after
  list.push_back({g, IsaAct::kRelu, false});
  g = {2, 6, 5, 3, 7, 1, 1, 0, -1, -1};
  list.push_back({g, IsaAct::kNone, true});
  uint64_t seed = 900;
  for (const auto& pc : list) {
    const cpu::ConvParams& q = pc.g;
    const auto wt = random_floats(size_t(q.cout) * q.cin * q.kernel * q.kernel, ++seed, -0.5f, 0.5f);
    const auto b = pc.bias ? random_floats(q.cout, ++seed) : std::vector<float>();
    ConvErrorProbe probe(q, wt.data(), pc.bias ? b.data() : nullptr, pc.act, 42);
    const std::vector<float> x(probe.input_nhwc(), probe.input_nhwc() + size_t(q.n) * q.h * q.w * q.cin);
    // Not constant: activation-like values over [-1, 2).
    CHECK(*std::min_element(x.begin(), x.end()) < -0.5f);
    CHECK(*std::max_element(x.begin(), x.end()) > 1.5f);
    const auto ref = nchw_to_nhwc(ref::conv2d_tf_same(nhwc_to_nchw(x, q.n, q.cin, q.h, q.w), q.n, q.cin, q.h, q.w,
                                                      wt, b, q.cout, q.kernel, q.stride, act_code(pc.act)),
                                  q.n, q.cout, q.h_out(), q.w_out());
    REQUIRE(probe.output_count() == ref.size());
    for (size_t i = 0; i < ref.size(); ++i) REQUIRE(probe.reference_nhwc()[i] == Approx(ref[i]).epsilon(1e-12).margin(1e-12));
  }
}

TEST_CASE("ConvErrorProbe accepts the float64-exact output and rejects wrong ones", "[winograd]") {
  const cpu::ConvParams g{2, 13, 9, 7, 11, 3, 1, 1, -1, -1};
  const auto wt = random_floats(size_t(g.cout) * g.cin * 9, 5, -0.3f, 0.3f);
  const auto b = random_floats(g.cout, 6);
  const ConvErrorProbe probe(g, wt.data(), b.data(), IsaAct::kRelu, 1234);
  const auto& ref = probe.reference_nhwc();
  double scale = 0;
  for (double v : ref) scale = std::max(scale, std::fabs(v));
  std::vector<float> exact(ref.begin(), ref.end());  // rounded once to float
  CHECK(probe.error(exact.data()) <= 0x1.0p-24);
  // One output off by 1e-3 of the scale.
  auto one_off = exact;
  one_off[ref.size() / 3] += float(1e-3 * scale);
  CHECK(probe.error(one_off.data()) == Approx(1e-3).epsilon(1e-3));
  // The convolution without its bias: a plausible bug, far off.
  const ConvErrorProbe no_bias(g, wt.data(), nullptr, IsaAct::kRelu, 1234);
  std::vector<float> wrong(no_bias.reference_nhwc().begin(), no_bias.reference_nhwc().end());
  CHECK(probe.error(wrong.data()) > 1e-2);
  // A NaN anywhere is an infinite error.
  auto nan = exact;
  nan.back() = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isinf(probe.error(nan.data())));
  // The input depends on the seed only.
  const ConvErrorProbe again(g, wt.data(), b.data(), IsaAct::kRelu, 1234), other(g, wt.data(), b.data(), IsaAct::kRelu, 1235);
  const size_t n = size_t(g.n) * g.h * g.w * g.cin;
  CHECK(std::memcmp(probe.input_nhwc(), again.input_nhwc(), n * sizeof(float)) == 0);
  CHECK(std::memcmp(probe.input_nhwc(), other.input_nhwc(), n * sizeof(float)) != 0);
  CHECK_THROWS(ConvErrorProbe(cpu::ConvParams{1, 0, 5, 5, 3, 3, 1, 1, -1, -1}, wt.data(), nullptr, IsaAct::kNone, 1));
}

TEST_CASE("ConvErrorProbe measures Winograd the way the engine's rule uses it", "[winograd]") {
  // A stage-1 conv2 cropped as the engine crops it: F(2x2) close to float64, F(4x4) an order of
  // magnitude further (docs/cpu-winograd.md), both well inside their bounds.
  cpu::ConvParams g;
  g.n = 1;
  g.cin = g.cout = 64;
  g.h = g.w = 12;
  g.kernel = 3;
  g.pad = 1;
  const auto wt = random_floats(size_t(64) * 64 * 9, 77, -0.05f, 0.05f);
  const auto b = random_floats(64, 78, -0.2f, 0.2f);
  const ConvErrorProbe probe(g, wt.data(), b.data(), IsaAct::kRelu, 2024);
  double err[2];
  const WinogradTile tiles[2] = {WinogradTile::kF2x2, WinogradTile::kF4x4};
  for (int k = 0; k < 2; ++k) {
    const WinogradConv3x3 conv(tiles[k], CpuIsa::kGeneric, 64, 64, 12, 12, 1, wt.data(), b.data(), IsaAct::kRelu);
    std::vector<float> out(probe.output_count()), ws(conv.workspace_floats(2));
    conv.run(probe.input_nhwc(), 1, out.data(), ws.data(), 2);
    err[k] = probe.error(out.data());
  }
  INFO("F(2x2) " << err[0] << ", F(4x4) " << err[1]);
  CHECK(err[0] > 0.0);
  CHECK(err[0] <= kTolF2);
  CHECK(err[1] <= kTolF4);
  CHECK(err[1] > 3 * err[0]);
}
