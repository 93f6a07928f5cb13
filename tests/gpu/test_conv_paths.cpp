// Every convolution path the planner can choose, against the naive double reference convolution:
//   fused conv+bias+ReLU with each algorithm cudnnFind returns,
//   plain conv with each algorithm (+ our bias_relu epilogue for ReLU layers, or bias left out for
//   the conv3/shortcut layers whose bias the tail adds),
//   fused conv+bias with identity activation (IMPLICIT_PRECOMP_GEMM),
//   and the tuner's pick (run through run_conv_choice, as the engine does),
// on a 3x3 stride 1, a 3x3 stride 2 of odd size, a 1x1, and the 3-channel stem conv, in NCHW and
// NHWC, batch 3 and 1. A path cuDNN refuses (status NOT_SUPPORTED / BAD_PARAM) is reported in the
// printed summary line, not failed: the tuner drops such candidates the same way.
//
// Tolerances: strict fp32 |gpu - ref| <= 2e-5 + 1e-4 |ref| elementwise and relative L2 <= 1e-5
// (FFT and Winograd algorithms round differently from a direct sum; outputs are of order 1).
// TF32 ([needs_sm80]): relative L2 <= 5e-3 (10-bit mantissa products).
// Outputs are poisoned before each call: NaN for plain calls (beta = 0: cuDNN never reads y); a
// finite sentinel (-1e30) for the fused call, which is given z = y with alpha2 = 0 (the engine's
// buffers are zeroed at build, so y never holds a NaN there either). The result must not contain
// the sentinel or any non-finite value.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/conv_tuner.h"
#include "cuda/cuda_raii.h"
#include "cuda/cudnn_legacy_conv.h"
#include "cuda/device_weights.h"
#include "gpu_test_support.h"
#include "kernels/bias_relu.cuh"
#include "ref/ref_ops.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::cuda;
using namespace resnetrs::test;

namespace {

constexpr float kSentinel = -1e30f;
constexpr size_t kWorkspaceCap = size_t(256) << 20;

struct ConvCase {
  const char* name;
  int n, cin, h, w, cout, k, stride;
};

// 3x3 s1 (stage-1 conv2 at a small input), 3x3 s2 odd (stage-2 conv2 with an odd map), 1x1
// (stage-3 conv1, 1024 -> 256), the stem's first conv (3 channels, stride 2, odd), and batch 1.
const ConvCase kCases[] = {
    {"3x3 s1", 3, 64, 13, 13, 64, 3, 1},        {"3x3 s2 odd", 3, 128, 15, 15, 128, 3, 2},
    {"1x1", 3, 1024, 6, 6, 256, 1, 1},          {"stem 3ch 3x3 s2", 3, 3, 33, 33, 32, 3, 2},
    {"3x3 s1 batch 1", 1, 32, 20, 20, 32, 3, 1}};

struct Tolerance {
  bool strict;
  double atol, rtol, rel_l2;
};

struct Prepared {
  ConvGeometry g;
  std::vector<float> x, w, bias;                 // NCHW / OIHW host data
  std::vector<double> ref_relu, ref_lin, ref_nobias;  // NCHW
};

Prepared prepare(const ConvCase& c, bool nhwc) {
  Prepared p;
  p.g.n = c.n;
  p.g.cin = c.cin;
  p.g.h = c.h;
  p.g.w = c.w;
  p.g.cout = c.cout;
  p.g.kernel = c.k;
  p.g.stride = c.stride;
  p.g.pad = c.k / 2;
  p.g.nhwc = nhwc;
  const float scale = 1.0f / std::sqrt(float(c.cin * c.k * c.k));
  p.x = random_floats(size_t(c.n) * c.cin * c.h * c.w, 101 + c.cin + c.h);
  p.w = random_floats(size_t(c.cout) * c.cin * c.k * c.k, 102 + c.cout, -2 * scale, 2 * scale);
  p.bias = random_floats(size_t(c.cout), 103 + c.cout, -0.3f, 0.3f);
  p.ref_relu = ref::conv2d(p.x, c.n, c.cin, c.h, c.w, p.w, p.bias, c.cout, c.k, c.stride, p.g.pad, true);
  p.ref_lin = ref::conv2d(p.x, c.n, c.cin, c.h, c.w, p.w, p.bias, c.cout, c.k, c.stride, p.g.pad, false);
  p.ref_nobias = ref::conv2d(p.x, c.n, c.cin, c.h, c.w, p.w, {}, c.cout, c.k, c.stride, p.g.pad, false);
  return p;
}

bool check_output(const Prepared& p, const DeviceArray& y, const std::vector<double>& ref, const Tolerance& tol,
                  const std::string& what) {
  std::vector<float> got = y.download();
  if (p.g.nhwc) got = nhwc_to_nchw(got, p.g.n, p.g.cout, p.g.h_out(), p.g.w_out());
  size_t sentinels = 0;
  for (float v : got) sentinels += v == kSentinel ? 1 : 0;
  const CompareResult r = compare(got, ref, tol.strict ? tol.rtol : 1.0, tol.strict ? tol.atol : 1e30);
  const double l2 = relative_l2(got, ref);
  INFO(what << "\n" << r.report << "\n  relative L2 " << l2 << ", non-finite " << count_non_finite(got) << ", sentinels "
            << sentinels);
  const bool ok = r.ok && l2 <= tol.rel_l2 && count_non_finite(got) == 0 && sentinels == 0 && y.guard_intact();
  CHECK(ok);
  return ok;
}

void run_all_paths(bool strict, const Tolerance& tol) {
  UniqueCudnn handle = make_cudnn();
  UniqueStream stream = make_stream();
  RESNETRS_CUDNN_CHECK(cudnnSetStream(handle.get(), stream.get()));
  DeviceArray ws(kWorkspaceCap / sizeof(float));
  for (const ConvCase& c : kCases) {
    for (bool nhwc : {false, true}) {
      const Prepared p = prepare(c, nhwc);
      const std::string tag = std::string(c.name) + " [" + p.g.describe() + (strict ? " fp32]" : " tf32]");
      INFO(tag);
      DeviceArray x(nhwc ? nchw_to_nhwc(p.x, c.n, c.cin, c.h, c.w) : p.x);
      DeviceArray w(nhwc ? oihw_to_ohwi(p.w, c.cout, c.cin, c.k) : p.w);
      DeviceArray bias(p.bias);
      DeviceArray y(size_t(c.n) * c.cout * p.g.h_out() * p.g.w_out());
      const auto layout = nhwc ? kernels::TensorLayout::kNHWC : kernels::TensorLayout::kNCHW;

      LegacyConv conv(handle.get(), p.g, strict);
      const std::vector<ConvAlgoPerf> algos = conv.find(x.get(), w.get(), y.get(), ws.get(), kWorkspaceCap);
      REQUIRE(!algos.empty());
      std::string fused_ok, plain_ok, refused;
      int fused_count = 0;
      for (const ConvAlgoPerf& a : algos) {
        const std::string name = std::string(conv_algo_name(a.algo)) + "/" + conv_math_name(a.math);
        if (strict) CHECK(a.math == ConvMath::kFma);
        // Fused conv + bias + ReLU.
        y.fill(kSentinel);
        cudnnStatus_t st = conv.try_forward_fused(a.algo, a.math, true, x.get(), w.get(), bias.get(), y.get(), ws.get(),
                                                  kWorkspaceCap);
        if (st == CUDNN_STATUS_SUCCESS) {
          if (check_output(p, y, p.ref_relu, tol, tag + " fused ReLU " + name)) fused_ok += " " + name;
          ++fused_count;
        } else {
          refused += " fused:" + name + "(" + cudnnGetErrorString(st) + ")";
        }
        // Plain conv + our bias_relu epilogue; plain conv alone (bias left to the tail).
        y.poison();
        st = conv.try_forward(a.algo, a.math, x.get(), w.get(), y.get(), ws.get(), kWorkspaceCap);
        if (st == CUDNN_STATUS_SUCCESS) {
          check_output(p, y, p.ref_nobias, tol, tag + " plain (no bias) " + name);
          kernels::launch_bias_relu(y.get(), bias.get(), c.n, c.cout, p.g.h_out() * p.g.w_out(), layout, stream.get());
          RESNETRS_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
          if (check_output(p, y, p.ref_relu, tol, tag + " plain + bias_relu " + name)) plain_ok += " " + name;
        } else {
          refused += " plain:" + name + "(" + cudnnGetErrorString(st) + ")";
        }
      }
      CHECK(fused_count > 0);
      // Fused conv + bias with identity activation: IMPLICIT_PRECOMP_GEMM only.
      y.fill(kSentinel);
      const cudnnStatus_t st = conv.try_forward_fused(kAlgoImplicitPrecompGemm, conv.default_math(), false, x.get(), w.get(),
                                                      bias.get(), y.get(), ws.get(), kWorkspaceCap);
      INFO("fused identity IMPLICIT_PRECOMP_GEMM status " << cudnnGetErrorString(st));
      CHECK(st == CUDNN_STATUS_SUCCESS);
      if (st == CUDNN_STATUS_SUCCESS) check_output(p, y, p.ref_lin, tol, tag + " fused identity PRECOMP");
      // Identity with any other algorithm is refused by our wrapper, never sent to cuDNN.
      CHECK(conv.try_forward_fused(kAlgoImplicitGemm, conv.default_math(), false, x.get(), w.get(), bias.get(), y.get(),
                                   ws.get(), kWorkspaceCap) == CUDNN_STATUS_NOT_SUPPORTED);

      // The tuner's pick, for a ReLU layer and for a no-ReLU layer, run as the engine runs it.
      for (bool relu : {true, false}) {
        TuneBuffers tb;
        tb.x = x.get();
        tb.w = w.get();
        tb.bias = bias.get();
        tb.y = y.get();
        tb.workspace = ws.get();
        tb.workspace_bytes = kWorkspaceCap;
        const TuneOutcome outcome = tune_conv(conv, relu, tb, layout, stream.get());
        y.poison();
        if (outcome.best.mode == ConvMode::kFused) y.fill(kSentinel);
        run_conv_choice(conv, relu, outcome.best, x.get(), w.get(), bias.get(), y.get(), ws.get(), kWorkspaceCap, layout,
                        stream.get());
        const std::vector<double>& ref = relu ? p.ref_relu : outcome.best.bias_in_conv() ? p.ref_lin : p.ref_nobias;
        check_output(p, y, ref, tol, tag + (relu ? " tuned ReLU " : " tuned linear ") + outcome.best.to_string());
        std::printf("  conv %-16s %-40s %s: tuned %s -> %s\n", c.name, p.g.describe().c_str(), strict ? "fp32" : "tf32",
                    relu ? "relu  " : "linear", outcome.best.to_string().c_str());
      }
      std::printf("  conv %-16s %-40s %s: fused ok:%s | plain ok:%s | refused:%s\n", c.name, p.g.describe().c_str(),
                  strict ? "fp32" : "tf32", fused_ok.c_str(), plain_ok.c_str(), refused.empty() ? " none" : refused.c_str());
    }
  }
}

}  // namespace

TEST_CASE("every strict-fp32 convolution path matches the reference convolution", "[conv]") {
  run_all_paths(true, Tolerance{true, 2e-5, 1e-4, 1e-5});
}

TEST_CASE("every TF32 convolution path is within TF32 accuracy of the reference", "[conv][tf32][needs_sm80]") {
  run_all_paths(false, Tolerance{false, 0, 0, 5e-3});
}

TEST_CASE("LegacyConv rejects invalid geometry and strict mode refuses non-FMA math", "[conv][errors]") {
  UniqueCudnn handle = make_cudnn();
  ConvGeometry g;
  g.n = 1;
  g.cin = 4;
  g.h = 2;
  g.w = 2;
  g.cout = 4;
  g.kernel = 3;
  g.stride = 1;
  g.pad = 0;  // 2x2 input, 3x3 kernel, no padding: empty output
  CHECK_THROWS_AS(LegacyConv(handle.get(), g, true), Error);
  g.pad = 1;
  LegacyConv conv(handle.get(), g, true);
  size_t bytes = 0;
  CHECK(conv.workspace_size(kAlgoImplicitGemm, ConvMath::kTensorOp, &bytes) == CUDNN_STATUS_NOT_SUPPORTED);
  CHECK(conv.workspace_size(kAlgoImplicitGemm, ConvMath::kFma, &bytes) == CUDNN_STATUS_SUCCESS);
}
