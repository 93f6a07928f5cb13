// Every kernel of ours against its naive double reference (src/ref) on seeded random data, at real
// ResNet-RS shapes and awkward ones (odd sizes, channels not multiple of 4, batch 1 and 3, a
// misaligned pointer that forces the scalar path), in NCHW and NHWC. Outputs are poisoned with
// NaN before each launch (so any element left unwritten fails the comparison) and followed by a
// NaN guard zone that must stay untouched.
//
// Tolerance: |gpu - ref| <= kAtol + kRtol |ref| with kRtol = 1e-5 and kAtol = 1e-6 (data are of
// order 1; the absolute term covers float accumulation when a mean or dot product cancels to
// nearly 0). Kernels whose arithmetic is the CPU operator's exact float sequence (normalize,
// 2x2 pool, logits bias) are also required to equal the float CPU operator bit for bit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/cpu_ops.h"
#include "gpu_test_support.h"
#include "kernels/avg_pool_2x2.cuh"
#include "kernels/bias_add.cuh"
#include "kernels/bias_relu.cuh"
#include "kernels/block_tail.cuh"
#include "kernels/global_avg_pool.cuh"
#include "kernels/normalize_input.cuh"
#include "kernels/se_excite.cuh"
#include "ref/ref_ops.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::test;
using kernels::TensorLayout;

namespace {

constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-6;

struct Shape4 {
  int n, c, h, w;
};

std::string describe(const Shape4& s, TensorLayout l) {
  return "n" + std::to_string(s.n) + " c" + std::to_string(s.c) + " " + std::to_string(s.h) + "x" + std::to_string(s.w) +
         " " + kernels::tensor_layout_name(l);
}

// Uploads an NCHW host tensor in `layout`.
std::vector<float> in_layout(const std::vector<float>& nchw, const Shape4& s, TensorLayout l) {
  return l == TensorLayout::kNHWC ? nchw_to_nhwc(nchw, s.n, s.c, s.h, s.w) : nchw;
}
std::vector<float> from_layout(const std::vector<float>& v, const Shape4& s, TensorLayout l) {
  return l == TensorLayout::kNHWC ? nhwc_to_nchw(v, s.n, s.c, s.h, s.w) : v;
}

void check_close(const std::vector<float>& got, const std::vector<double>& ref, const std::string& what) {
  const CompareResult r = compare(got, ref, kRtol, kAtol);
  INFO(what << "\n" << r.report);
  CHECK(r.ok);
}

const TensorLayout kLayouts[] = {TensorLayout::kNCHW, TensorLayout::kNHWC};

}  // namespace

TEST_CASE("normalize_input matches the reference and the CPU operator bit for bit", "[kernels][normalize]") {
  const std::array<float, 3> mean = {123.675f, 116.28f, 103.53f}, stdv = {58.395f, 57.12f, 57.375f};
  kernels::NormalizeParams p{};
  for (int c = 0; c < 3; ++c) {
    p.mean[c] = mean[c];
    p.inv_std[c] = 1.0f / stdv[c];
  }
  struct Case {
    int n, h, w;
    bool misalign;
  };
  const Case cases[] = {{3, 160, 160, false}, {1, 64, 64, false}, {1, 33, 31, false}, {3, 7, 5, false}, {3, 32, 32, true}};
  for (const Case& cs : cases) {
    for (TensorLayout in_l : kLayouts) {
      for (TensorLayout out_l : kLayouts) {
        const Shape4 s{cs.n, 3, cs.h, cs.w};
        const std::string what = "in " + describe(s, in_l) + " -> " + kernels::tensor_layout_name(out_l) +
                                 (cs.misalign ? " (misaligned: scalar path)" : "");
        INFO(what);
        const size_t count = size_t(s.n) * 3 * s.h * s.w;
        const std::vector<float> pixels_nchw = random_floats(count, 11 + cs.h, 0.0f, 255.0f);
        const std::vector<float> pixels = in_layout(pixels_nchw, s, in_l);
        // The misaligned case offsets both pointers by one float.
        const size_t off = cs.misalign ? 1 : 0;
        std::vector<float> padded(count + off, 0.0f);
        std::copy(pixels.begin(), pixels.end(), padded.begin() + long(off));
        DeviceArray in(padded);
        DeviceArray out(count + off);
        kernels::launch_normalize_input(in.get() + off, in_l, out.get() + off, out_l, s.n, s.h, s.w, p, nullptr);
        std::vector<float> got_all = out.download();
        std::vector<float> got(got_all.begin() + long(off), got_all.end());
        got = from_layout(got, s, out_l);
        CHECK(out.guard_intact());
        check_close(got, ref::normalize_input(pixels, in_l == TensorLayout::kNHWC, s.n, s.h, s.w, mean, stdv), what);
        std::vector<float> cpu(count);
        cpu::normalize_input(pixels.data(), in_l == TensorLayout::kNHWC, s.n, s.h, s.w, mean, stdv, cpu.data());
        CHECK(std::memcmp(cpu.data(), got.data(), count * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("bias_relu matches the reference", "[kernels][bias_relu]") {
  const Shape4 shapes[] = {{3, 64, 40, 40}, {1, 32, 80, 80}, {3, 512, 5, 5}, {1, 37, 9, 7}, {3, 6, 5, 5}, {3, 8, 3, 3}};
  for (const Shape4& s : shapes) {
    for (TensorLayout l : kLayouts) {
      const std::string what = describe(s, l);
      INFO(what);
      const size_t count = size_t(s.n) * s.c * s.h * s.w;
      const std::vector<float> x = random_floats(count, 21 + s.c);
      const std::vector<float> bias = random_floats(size_t(s.c), 22 + s.c, -0.5f, 0.5f);
      DeviceArray data(in_layout(x, s, l));
      DeviceArray b(bias);
      kernels::launch_bias_relu(data.get(), b.get(), s.n, s.c, s.h * s.w, l, nullptr);
      const std::vector<float> got = from_layout(data.download(), s, l);
      CHECK(data.guard_intact());
      std::vector<double> ref(count);
      for (size_t i = 0; i < count; ++i) {
        const int ch = int((i / (size_t(s.h) * s.w)) % s.c);
        ref[i] = std::max(double(x[i]) + double(bias[size_t(ch)]), 0.0);
      }
      check_close(got, ref, what);
    }
  }
}

TEST_CASE("2x2 'same' average pool matches the reference and the CPU operator bit for bit", "[kernels][pool]") {
  // 40x40x256: stage-2 input at 160; 75x75: stage-2 input at 300 (odd); 10x10x1024: stage-4 input
  // at 320; 7x8 (w % 4 == 0, h odd: vector path with a missing last row).
  const Shape4 shapes[] = {{3, 256, 40, 40}, {1, 1024, 10, 10}, {3, 7, 75, 75}, {1, 5, 9, 7},
                           {2, 8, 7, 8},     {3, 6, 1, 1},      {1, 12, 2, 3}};
  for (const Shape4& s : shapes) {
    for (TensorLayout l : kLayouts) {
      const std::string what = describe(s, l);
      INFO(what);
      const int ho = (s.h + 1) / 2, wo = (s.w + 1) / 2;
      const std::vector<float> x = random_floats(size_t(s.n) * s.c * s.h * s.w, 31 + s.h);
      DeviceArray in(in_layout(x, s, l));
      const Shape4 so{s.n, s.c, ho, wo};
      DeviceArray out(size_t(s.n) * s.c * ho * wo);
      kernels::launch_avg_pool_2x2_same(in.get(), out.get(), s.n, s.c, s.h, s.w, l, nullptr);
      const std::vector<float> got = from_layout(out.download(), so, l);
      CHECK(out.guard_intact());
      check_close(got, ref::avg_pool_2x2_same(x, s.n, s.c, s.h, s.w), what);
      std::vector<float> cpu(got.size());
      cpu::avg_pool_2x2_same(x.data(), s.n, s.c, s.h, s.w, cpu.data());
      CHECK(std::memcmp(cpu.data(), got.data(), got.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("global average pool (SE squeeze, head pool) matches the reference", "[kernels][squeeze]") {
  const Shape4 shapes[] = {{3, 256, 40, 40}, {1, 64, 80, 80}, {3, 2048, 5, 5}, {1, 2048, 10, 10},
                           {3, 37, 9, 7},    {1, 6, 1, 1},    {3, 36, 3, 3},   {2, 1000, 7, 7}};
  for (const Shape4& s : shapes) {
    for (TensorLayout l : kLayouts) {
      for (bool with_bias : {false, true}) {
        const std::string what = describe(s, l) + (with_bias ? " with bias" : " no bias");
        INFO(what);
        const std::vector<float> x = random_floats(size_t(s.n) * s.c * s.h * s.w, 41 + s.c);
        const std::vector<float> bias = random_floats(size_t(s.c), 42 + s.c, -0.5f, 0.5f);
        DeviceArray in(in_layout(x, s, l));
        DeviceArray b(bias);
        DeviceArray out(size_t(s.n) * s.c);
        kernels::launch_global_avg_pool(in.get(), with_bias ? b.get() : nullptr, out.get(), s.n, s.c, s.h * s.w, l, nullptr);
        const std::vector<float> got = out.download();
        CHECK(out.guard_intact());
        std::vector<double> ref = ref::global_avg_pool(x, s.n, s.c, s.h, s.w);
        if (with_bias) {
          for (size_t i = 0; i < ref.size(); ++i) ref[i] += bias[i % size_t(s.c)];
        }
        check_close(got, ref, what);
      }
    }
  }
}

TEST_CASE("SE excitation dense layers (ReLU, sigmoid) match the reference", "[kernels][excite]") {
  struct Case {
    int n, in, out;
  };
  // Real SE shapes (C -> r, r -> C for stages 1 and 4), partial image tiles (n = 9, 17), odd sizes.
  const Case cases[] = {{3, 2048, 512}, {3, 512, 2048}, {1, 256, 64}, {1, 64, 256},
                        {9, 1024, 256}, {17, 37, 5},    {1, 6, 37},   {3, 3, 3}};
  for (const Case& cs : cases) {
    for (kernels::DenseActivation act : {kernels::DenseActivation::kRelu, kernels::DenseActivation::kSigmoid}) {
      for (bool misalign : {false, true}) {
        const bool relu = act == kernels::DenseActivation::kRelu;
        const std::string what = "n" + std::to_string(cs.n) + " " + std::to_string(cs.in) + "->" + std::to_string(cs.out) +
                                 (relu ? " relu" : " sigmoid") + (misalign ? " misaligned x (scalar path)" : "");
        INFO(what);
        const float scale = 1.0f / std::sqrt(float(cs.in));
        const std::vector<float> x = random_floats(size_t(cs.n) * cs.in, 51 + cs.in);
        const std::vector<float> w = random_floats(size_t(cs.out) * cs.in, 52 + cs.out, -scale, scale);
        const std::vector<float> b = random_floats(size_t(cs.out), 53 + cs.out, -0.5f, 0.5f);
        const size_t off = misalign ? 1 : 0;
        std::vector<float> xp(x.size() + off, 0.0f);
        std::copy(x.begin(), x.end(), xp.begin() + long(off));
        DeviceArray dx(xp), dw(w), db(b);
        DeviceArray out(size_t(cs.n) * cs.out);
        kernels::launch_dense_act(dx.get() + off, dw.get(), db.get(), out.get(), cs.n, cs.in, cs.out, act, nullptr);
        const std::vector<float> got = out.download();
        CHECK(out.guard_intact());
        std::vector<double> ref = ref::dense(x, cs.n, cs.in, cs.out, w, b);
        for (double& v : ref) v = relu ? std::max(v, 0.0) : 1.0 / (1.0 + std::exp(-v));
        check_close(got, ref, what);
      }
    }
  }
}

TEST_CASE("block tail (SE scale + residual + ReLU, optional biases) matches the reference", "[kernels][tail]") {
  const Shape4 shapes[] = {{3, 256, 40, 40}, {1, 2048, 5, 5}, {3, 1024, 10, 10}, {1, 37, 9, 7}, {3, 6, 5, 5}, {3, 12, 3, 3}};
  enum class Alias { kNone, kX, kShortcut };
  for (const Shape4& s : shapes) {
    for (TensorLayout l : kLayouts) {
      for (int biases = 0; biases < 4; ++biases) {
        for (Alias alias : {Alias::kNone, Alias::kX, Alias::kShortcut}) {
          const bool xb_on = biases & 1, sb_on = biases & 2;
          const std::string what = describe(s, l) + (xb_on ? " +x_bias" : "") + (sb_on ? " +shortcut_bias" : "") +
                                   (alias == Alias::kX ? " out=x" : alias == Alias::kShortcut ? " out=shortcut" : "");
          INFO(what);
          const size_t count = size_t(s.n) * s.c * s.h * s.w;
          const std::vector<float> x = random_floats(count, 61 + s.c);
          const std::vector<float> sc = random_floats(count, 62 + s.c);
          const std::vector<float> gate = random_floats(size_t(s.n) * s.c, 63 + s.c, 0.0f, 1.0f);
          const std::vector<float> xb = random_floats(size_t(s.c), 64 + s.c, -0.5f, 0.5f);
          const std::vector<float> sb = random_floats(size_t(s.c), 65 + s.c, -0.5f, 0.5f);
          DeviceArray dx(in_layout(x, s, l)), dsc(in_layout(sc, s, l)), dg(gate), dxb(xb), dsb(sb);
          DeviceArray out(count);
          float* dst = alias == Alias::kX ? dx.get() : alias == Alias::kShortcut ? dsc.get() : out.get();
          kernels::launch_block_tail(dx.get(), xb_on ? dxb.get() : nullptr, dg.get(), dsc.get(), sb_on ? dsb.get() : nullptr,
                                     dst, s.n, s.c, s.h * s.w, l, nullptr);
          const DeviceArray& result = alias == Alias::kX ? dx : alias == Alias::kShortcut ? dsc : out;
          const std::vector<float> got = from_layout(result.download(), s, l);
          CHECK(result.guard_intact());
          // Reference: relu((x + xb) * g + (s + sb)), with the two bias sums rounded to float as
          // the kernel does (x + b is one float add in both).
          std::vector<float> xr(count), sr(count);
          for (size_t i = 0; i < count; ++i) {
            const size_t ch = (i / (size_t(s.h) * s.w)) % size_t(s.c);
            xr[i] = xb_on ? x[i] + xb[ch] : x[i];
            sr[i] = sb_on ? sc[i] + sb[ch] : sc[i];
          }
          check_close(got, ref::excite_residual_relu(xr, gate, sr, s.n, s.c, s.h * s.w), what);
        }
      }
    }
  }
}

TEST_CASE("logits bias add equals the float CPU computation bit for bit", "[kernels][bias_add]") {
  struct Case {
    int n, k;
  };
  for (const Case& cs : {Case{3, 1000}, Case{1, 7}, Case{5, 1001}}) {
    INFO("n" << cs.n << " k" << cs.k);
    const std::vector<float> raw = random_floats(size_t(cs.n) * cs.k, 71 + cs.k);
    const std::vector<float> bias = random_floats(size_t(cs.k), 72 + cs.k);
    DeviceArray dr(raw), db(bias), out(raw.size());
    kernels::launch_bias_add_rows(dr.get(), db.get(), out.get(), cs.n, cs.k, nullptr);
    const std::vector<float> got = out.download();
    CHECK(out.guard_intact());
    std::vector<float> want(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) want[i] = raw[i] + bias[i % size_t(cs.k)];
    CHECK(std::memcmp(want.data(), got.data(), got.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("kernel launchers reject bad arguments", "[kernels][errors]") {
  DeviceArray a(16), b(16);
  CHECK_THROWS_AS(kernels::launch_bias_relu(nullptr, b.get(), 1, 4, 4, TensorLayout::kNCHW, nullptr), Error);
  CHECK_THROWS_AS(kernels::launch_bias_relu(a.get(), b.get(), 0, 4, 4, TensorLayout::kNCHW, nullptr), Error);
  CHECK_THROWS_AS(kernels::launch_global_avg_pool(a.get(), nullptr, b.get(), 1, 0, 4, TensorLayout::kNHWC, nullptr), Error);
  CHECK_THROWS_AS(kernels::launch_dense_act(a.get(), nullptr, b.get(), b.get(), 1, 4, 4, kernels::DenseActivation::kRelu,
                                            nullptr),
                  Error);
}
