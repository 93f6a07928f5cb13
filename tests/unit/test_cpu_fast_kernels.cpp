// The fast CPU engine's building blocks against src/ref's float64 operators, on odd shapes: the
// oneDNN convolution and our 1x1 GEMM (every kernel size, stride, padding and channel count the
// network uses, odd sizes, batches that split into several oneDNN pieces), and our elementwise,
// pooling and head kernels in both instruction-set copies (generic always; avx2 where the
// processor has it, else a visible skip message).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>

#include "cpu/fast/cpu_isa.h"
#include "cpu/fast/gemm_conv1x1.h"
#include "cpu/fast/onednn_conv.h"
#include "ref/ref_ops.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::cpu::fast;

namespace {

std::vector<float> to_nhwc(const std::vector<float>& x, int n, int c, int h, int w) {
  std::vector<float> y(x.size());
  for (int b = 0; b < n; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int p = 0; p < h * w; ++p) y[(size_t(b) * h * w + p) * c + ch] = x[(size_t(b) * c + ch) * h * w + p];
  return y;
}

template <typename T>
std::vector<double> nchw_to_nhwc(const std::vector<T>& x, int n, int c, int h, int w) {
  std::vector<double> y(x.size());
  for (int b = 0; b < n; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int p = 0; p < h * w; ++p) y[(size_t(b) * h * w + p) * c + ch] = double(x[(size_t(b) * c + ch) * h * w + p]);
  return y;
}

std::vector<double> swish(std::vector<double> v) {
  for (double& x : v) x = x / (1.0 + std::exp(-x));
  return v;
}

struct ConvCase {
  int cin, cout, kernel, stride, h, w;
  bool tf_same;  // Keras 'same' padding (the Model Garden's stride-2 convolutions) instead of symmetric
  Activation act;
};

ConvShape shape_of(const ConvCase& c) {
  ConvShape s;
  s.name = "test";
  s.cin = c.cin;
  s.cout = c.cout;
  s.kernel = c.kernel;
  s.stride = c.stride;
  s.pad = c.kernel / 2;
  s.h_in = c.h;
  s.w_in = c.w;
  s.h_out = (c.h + 2 * s.pad - c.kernel) / c.stride + 1;
  s.w_out = (c.w + 2 * s.pad - c.kernel) / c.stride + 1;
  s.pad_top = s.pad_left = s.pad;
  if (c.tf_same) {
    s.pad_top = std::max((s.h_out - 1) * c.stride + c.kernel - c.h, 0) / 2;
    s.pad_left = std::max((s.w_out - 1) * c.stride + c.kernel - c.w, 0) / 2;
  }
  s.act = c.act;
  return s;
}

std::vector<double> reference_conv(const ConvCase& c, const std::vector<float>& x, int n, const std::vector<float>& w,
                                   const std::vector<float>& b) {
  if (c.tf_same) return ref::conv2d_tf_same(x, n, c.cin, c.h, c.w, w, b, c.cout, c.kernel, c.stride, int(c.act));
  std::vector<double> y = ref::conv2d(x, n, c.cin, c.h, c.w, w, b, c.cout, c.kernel, c.stride, c.kernel / 2,
                                      c.act == Activation::kRelu);
  return c.act == Activation::kSwish ? swish(std::move(y)) : y;
}

// in NCHW for the reference, NHWC for ours; tolerance: float32 accumulation over cin*k*k terms of
// size ~0.1, well inside 1e-4 absolute + relative; a wrong tap or padding is off by > 1e-2.
void check_conv(ConvImpl& impl, const ConvCase& c, int n, uint64_t seed) {
  const ConvShape s = shape_of(c);
  const auto x = test::random_floats(size_t(n) * c.cin * c.h * c.w, seed, -1.0f, 1.0f);
  const auto w = test::random_floats(size_t(c.cout) * c.cin * c.kernel * c.kernel, seed + 1, -0.3f, 0.3f);
  const auto b = test::random_floats(size_t(c.cout), seed + 2, -0.5f, 0.5f);
  const std::vector<double> want = nchw_to_nhwc(reference_conv(c, x, n, w, b), n, c.cout, s.h_out, s.w_out);
  const auto x_nhwc = to_nhwc(x, n, c.cin, c.h, c.w);
  std::vector<float> got(want.size(), NAN);
  std::vector<std::byte> ws(impl.workspace_bytes() + 64);
  impl.run(x_nhwc.data(), n, got.data(), ws.data(), 2);
  const auto cmp = test::compare(got, want, 1e-4, 1e-4);
  INFO(impl.name() << ": cin " << c.cin << " cout " << c.cout << " k " << c.kernel << " s " << c.stride << " " << c.h << "x"
                   << c.w << (c.tf_same ? " tf-same" : "") << " act " << int(c.act) << " batch " << n << cmp.report);
  CHECK(cmp.ok);
}

}  // namespace

TEST_CASE("oneDNN convolution: every layer kind of the network on odd shapes", "[cpu][fast][kernels]") {
  const std::vector<ConvCase> cases = {
      {3, 32, 3, 2, 13, 13, false, Activation::kRelu},     // stem conv1
      {32, 32, 3, 1, 7, 9, false, Activation::kRelu},      // stem conv2
      {32, 64, 3, 1, 5, 5, false, Activation::kSwish},     // stem conv3 (Model Garden)
      {64, 64, 3, 2, 7, 6, false, Activation::kRelu},      // stem conv4 / stride-2 conv2
      {64, 64, 3, 2, 8, 10, true, Activation::kSwish},     // Keras 'same' stride 2, even sizes
      {64, 64, 3, 2, 7, 7, true, Activation::kSwish},      // Keras 'same' stride 2, odd sizes
      {64, 256, 1, 1, 5, 3, false, Activation::kNone},     // conv3 / projection
      {256, 64, 1, 1, 1, 1, false, Activation::kRelu},     // conv1 at 1x1
      {13, 7, 3, 1, 6, 5, false, Activation::kRelu},       // odd channel counts
      {7, 13, 1, 1, 3, 7, false, Activation::kNone},
      {128, 128, 3, 1, 2, 2, false, Activation::kRelu},
  };
  for (const ConvCase& c : cases) {
    for (int n : {1, 3}) {  // 3 = pieces of 2 and 1
      const auto w = test::random_floats(size_t(c.cout) * c.cin * c.kernel * c.kernel, 40 + n + 1, -0.3f, 0.3f);
      const auto b = test::random_floats(size_t(c.cout), 40 + n + 2, -0.5f, 0.5f);
      auto conv = make_onednn_conv(shape_of(c), OneDnnAlgorithm::kDirect, 4, w.data(), b.data());
      REQUIRE(conv);
      check_conv(*conv, c, n, 40 + n);
    }
  }
}

TEST_CASE("GEMM 1x1 convolution: the network's 1x1 layers on odd shapes, both instruction sets", "[cpu][fast][kernels]") {
  const std::vector<ConvCase> cases = {
      {64, 256, 1, 1, 5, 3, false, Activation::kNone},
      {256, 64, 1, 1, 7, 7, false, Activation::kRelu},
      {512, 128, 1, 1, 1, 1, false, Activation::kSwish},
      {7, 13, 1, 1, 3, 5, false, Activation::kRelu},
  };
  std::vector<CpuIsa> isas = {CpuIsa::kGeneric};
  if (detect_cpu_isa() != CpuIsa::kGeneric) isas.push_back(CpuIsa::kAvx2);
  for (CpuIsa isa : isas) {
    for (const ConvCase& c : cases) {
      for (int n : {1, 5}) {
        const auto w = test::random_floats(size_t(c.cout) * c.cin, 60 + n + 1, -0.3f, 0.3f);
        const auto b = test::random_floats(size_t(c.cout), 60 + n + 2, -0.5f, 0.5f);
        GemmConv1x1 conv(shape_of(c), isa_kernels(isa), w.data(), b.data());
        check_conv(conv, c, n, 60 + n);
      }
    }
  }
  ConvCase strided{64, 64, 1, 2, 5, 5, false, Activation::kNone};
  CHECK_THROWS_WITH(GemmConv1x1(shape_of(strided), isa_kernels(CpuIsa::kGeneric), nullptr, nullptr),
                    Catch::Contains("not a 1x1 stride-1"));
}

TEST_CASE("our elementwise, pooling and head kernels match src/ref in each instruction set", "[cpu][fast][kernels]") {
  std::vector<CpuIsa> isas = {CpuIsa::kGeneric};
  if (detect_cpu_isa() != CpuIsa::kGeneric) isas.push_back(CpuIsa::kAvx2);
  else std::printf("SKIPPED: the avx2 kernels (this processor has no AVX2+FMA); the generic ones ran\n");
  for (CpuIsa isa : isas) {
    const IsaKernels& k = isa_kernels(isa);
    INFO("kernels " << k.name);
    const int n = 2, c = 37, h = 7, w = 5, hw = h * w;
    const auto x = test::random_floats(size_t(n) * c * hw, 1, -2.0f, 2.0f);  // NCHW
    const auto sc = test::random_floats(size_t(n) * c * hw, 2, -2.0f, 2.0f);
    const auto x_nhwc = to_nhwc(x, n, c, h, w), sc_nhwc = to_nhwc(sc, n, c, h, w);

    // channel sums (as the SE squeeze and the head use them) vs the global average pool
    const auto want_mean = ref::global_avg_pool(x, n, c, h, w);
    std::vector<float> mean(size_t(n) * c);
    for (int b = 0; b < n; ++b) {
      k.channel_sum(x_nhwc.data() + size_t(b) * hw * c, size_t(hw), size_t(c), c, mean.data() + size_t(b) * c);
      for (int i = 0; i < c; ++i) mean[size_t(b) * c + i] /= float(hw);
    }
    CHECK(test::compare(mean, want_mean, 1e-5, 1e-6).ok);

    // the SE gate values for the tail
    const auto gate = test::random_floats(size_t(n) * c, 5, 0.0f, 1.0f);

    // block tail, relu and swish
    for (IsaAct act : {IsaAct::kRelu, IsaAct::kSwish}) {
      const auto want = act == IsaAct::kRelu ? ref::excite_residual_relu(x, gate, sc, n, c, hw)
                                             : ref::excite_residual_swish(x, gate, sc, n, c, hw);
      std::vector<float> out(x.size());
      for (int b = 0; b < n; ++b) {
        const size_t o = size_t(b) * hw * c;
        k.excite_residual(x_nhwc.data() + o, gate.data() + size_t(b) * c, sc_nhwc.data() + o, size_t(hw), c, act, out.data() + o);
      }
      CHECK(test::compare(out, nchw_to_nhwc(want, n, c, h, w), 1e-5, 1e-6).ok);
    }

    // bias + activation
    const auto bias = test::random_floats(c, 7, -1.0f, 1.0f);
    std::vector<float> biased = x_nhwc;
    k.bias_act(biased.data(), size_t(n) * hw, size_t(c), c, bias.data(), IsaAct::kSwish);
    std::vector<double> want_biased(x_nhwc.size());
    for (size_t i = 0; i < x_nhwc.size(); ++i) {
      const double v = double(x_nhwc[i]) + bias[i % c];
      want_biased[i] = v / (1.0 + std::exp(-v));
    }
    CHECK(test::compare(biased, want_biased, 1e-5, 1e-6).ok);
    // a column range of rows (as the SE layers' chunks use it), sigmoid
    std::vector<float> cols = x_nhwc;
    k.bias_act(cols.data() + 5, size_t(n) * hw, size_t(c), 20, bias.data() + 5, IsaAct::kSigmoid);
    std::vector<double> want_cols(x_nhwc.begin(), x_nhwc.end());
    for (size_t p = 0; p < size_t(n) * hw; ++p) {
      for (int i = 5; i < 25; ++i) want_cols[p * c + i] = 1.0 / (1.0 + std::exp(-(double(x_nhwc[p * c + i]) + bias[i])));
    }
    CHECK(test::compare(cols, want_cols, 1e-6, 1e-7).ok);

    // 2x2 'same' pools, stride 2 and 1, odd sizes
    for (int stride : {2, 1}) {
      INFO("pool stride " << stride);
      const auto want = ref::avg_pool_2x2_tf_same(x, n, c, h, w, stride);
      const int ho = stride == 1 ? h : (h + 1) / 2, wo = stride == 1 ? w : (w + 1) / 2;
      std::vector<float> out(size_t(n) * ho * wo * c);
      for (int b = 0; b < n; ++b) {
        k.avg_pool_2x2(x_nhwc.data() + size_t(b) * hw * c, h, w, c, stride, 0, ho, out.data() + size_t(b) * ho * wo * c);
      }
      CHECK(test::compare(out, nchw_to_nhwc(want, n, c, ho, wo), 1e-5, 1e-6).ok);
    }

    // input normalization from NCHW and NHWC pixels
    const std::array<float, 3> mu = {123.7f, 116.3f, 103.5f}, sd = {58.4f, 57.1f, 57.4f};
    const auto px = test::random_floats(size_t(n) * 3 * hw, 8, 0.0f, 255.0f);
    for (bool nhwc : {false, true}) {
      const auto want = ref::normalize_input(px, nhwc, n, h, w, mu, sd);  // NCHW
      std::vector<float> out(px.size());
      for (int b = 0; b < n; ++b) {
        k.normalize_input(px.data() + size_t(b) * 3 * hw, nhwc ? 1 : 0, h, w, mu.data(), sd.data(), 0, h,
                          out.data() + size_t(b) * 3 * hw);
      }
      CHECK(test::compare(out, nchw_to_nhwc(want, n, 3, h, w), 1e-6, 1e-6).ok);
    }

  }
}

TEST_CASE("the instruction set and thread count resolve as documented", "[cpu][fast]") {
  CHECK(resolve_cpu_isa(CpuIsa::kGeneric) == CpuIsa::kGeneric);
  CHECK(std::string(isa_kernels(CpuIsa::kGeneric).name) == "generic");
  if (detect_cpu_isa() != CpuIsa::kGeneric) CHECK(std::string(isa_kernels(CpuIsa::kAvx512).name) == "avx2");
  if (detect_cpu_isa() != CpuIsa::kAvx512) {
    CHECK_THROWS_WITH(resolve_cpu_isa(CpuIsa::kAvx512), Catch::Contains("this processor runs at most"));
  }
  CHECK(resolve_cpu_threads(3) == 3);
  CHECK(resolve_cpu_threads(0) >= 1);
  CHECK_THROWS_WITH(resolve_cpu_threads(-2), Catch::Contains("cpu_threads"));
  CHECK_THROWS_WITH(resolve_cpu_threads(5000), Catch::Contains("cpu_threads"));
}
