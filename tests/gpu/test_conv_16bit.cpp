// 16-bit convolutions (precision fp16 / bf16; behind RESNETRS_UNVERIFIED_GPU with the precisions)
// through LegacyConv and the tuner exactly as the engine runs them: x and w rounded to the type on
// the host (cuda::to_16bit), the fused call's bias in the type, the plain path's epilogue
// (bias_act) in the type. Every candidate the tuner keeps for fused-only, plain-only and the
// timed pick, NHWC and NCHW, on the cases of test_conv_paths.cpp (the 3-channel stem conv
// included: cuDNN may refuse tensor-op paths there; what runs must be right).
// Reference: the double convolution of the ROUNDED inputs (ref::conv2d), with the bias in fp32 for
// the plain path and rounded to the type for the fused one, then compared after our output's
// conversion back to fp32: rel L2 <= 1e-3 (fp16) / 8e-3 (bf16): one rounding of the output
// (2^-11 / 2^-8 relative at most) plus fp32 accumulation.
#include <catch2/catch.hpp>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cuda/conv_tuner.h"
#include "cuda/cuda_raii.h"
#include "cuda/cudnn_legacy_conv.h"
#include "cuda/device_weights.h"
#include "engine/gpu_gate.h"
#include "gpu_test_support.h"
#include "ref/ref_ops.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::cuda;
using namespace resnetrs::test;
using kernels::ActType;

namespace {

constexpr size_t kWorkspaceCap = size_t(256) << 20;

struct Case {
  const char* name;
  int n, cin, h, w, cout, k, stride;
};
const Case kCases[] = {{"3x3 s1", 3, 64, 13, 13, 64, 3, 1},
                       {"3x3 s2 odd", 3, 128, 15, 15, 128, 3, 2},
                       {"1x1", 3, 1024, 6, 6, 256, 1, 1},
                       {"stem 3ch 3x3 s2", 3, 3, 33, 33, 32, 3, 2},
                       {"3x3 s1 batch 1", 1, 32, 20, 20, 32, 3, 1}};

float decode(uint16_t bits, ActType t) {
  if (t == ActType::kBF16) {
    const uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  __half_raw r;
  r.x = bits;
  return __half2float(__half(r));
}

std::vector<float> rounded(const std::vector<float>& v, ActType t) {
  const std::vector<uint16_t> bits = to_16bit(v, t);
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = decode(bits[i], t);
  return out;
}

struct Dev16 {
  DeviceBuffer buf;
  size_t count = 0;
  Dev16(const std::vector<float>& host, ActType t) : buf(std::max<size_t>(host.size(), 1) * 2, "test 16-bit"), count(host.size()) {
    const std::vector<uint16_t> bits = to_16bit(host, t);
    RESNETRS_CUDA_CHECK(cudaMemcpy(buf.get(), bits.data(), bits.size() * 2, cudaMemcpyHostToDevice));
  }
  explicit Dev16(size_t n) : buf(std::max<size_t>(n, 1) * 2, "test 16-bit out"), count(n) {}
  std::vector<float> download(ActType t) const {
    std::vector<uint16_t> bits(count);
    RESNETRS_CUDA_CHECK(cudaMemcpy(bits.data(), buf.get(), count * 2, cudaMemcpyDeviceToHost));
    std::vector<float> out(count);
    for (size_t i = 0; i < count; ++i) out[i] = decode(bits[i], t);
    return out;
  }
  void poison() { RESNETRS_CUDA_CHECK(cudaMemset(buf.get(), 0xFF, count * 2)); }  // NaN in both types
  void zero() { RESNETRS_CUDA_CHECK(cudaMemset(buf.get(), 0, count * 2)); }
};

void run_16bit(ActType t) {
  const double limit = t == ActType::kF16 ? 1e-3 : 8e-3;
  UniqueCudnn handle = make_cudnn();
  UniqueStream stream = make_stream();
  RESNETRS_CUDNN_CHECK(cudnnSetStream(handle.get(), stream.get()));
  DeviceArray ws(kWorkspaceCap / sizeof(float));
  for (const Case& c : kCases) {
    for (bool nhwc : {true, false}) {
      ConvGeometry g;
      g.n = c.n;
      g.cin = c.cin;
      g.h = c.h;
      g.w = c.w;
      g.cout = c.cout;
      g.kernel = c.k;
      g.stride = c.stride;
      g.pad = c.k / 2;
      g.nhwc = nhwc;
      const float scale = 1.0f / std::sqrt(float(c.cin * c.k * c.k));
      const std::vector<float> x = rounded(random_floats(size_t(c.n) * c.cin * c.h * c.w, 201 + c.cin + c.h), t);
      const std::vector<float> w = rounded(random_floats(size_t(c.cout) * c.cin * c.k * c.k, 202 + c.cout, -2 * scale, 2 * scale), t);
      const std::vector<float> bias = random_floats(size_t(c.cout), 203 + c.cout, -0.3f, 0.3f);
      const std::vector<float> bias_r = rounded(bias, t);
      // NCHW double references: plain path (fp32 bias) and fused path (bias rounded to the type).
      const std::vector<double> ref_plain_relu = ref::conv2d(x, c.n, c.cin, c.h, c.w, w, bias, c.cout, c.k, c.stride, g.pad, true);
      const std::vector<double> ref_fused_relu = ref::conv2d(x, c.n, c.cin, c.h, c.w, w, bias_r, c.cout, c.k, c.stride, g.pad, true);
      const std::vector<double> ref_fused_lin = ref::conv2d(x, c.n, c.cin, c.h, c.w, w, bias_r, c.cout, c.k, c.stride, g.pad, false);
      const std::vector<double> ref_nobias = ref::conv2d(x, c.n, c.cin, c.h, c.w, w, {}, c.cout, c.k, c.stride, g.pad, false);
      const std::vector<float> x_dev = nhwc ? nchw_to_nhwc(x, c.n, c.cin, c.h, c.w) : x;
      const std::vector<float> w_dev = nhwc ? oihw_to_ohwi(w, c.cout, c.cin, c.k) : w;
      Dev16 dx(x_dev, t), dw(w_dev, t), db16(bias, t), dy(size_t(c.n) * c.cout * g.h_out() * g.w_out());
      DeviceArray dbias(bias);
      LegacyConv conv(handle.get(), g, ConvMathRule::kTensorOp, t);
      CHECK(conv.data_type() == t);
      const std::string tag = std::string(c.name) + " [" + g.describe() + " " + kernels::act_type_name(t) + "]";
      std::string summary;
      for (bool relu : {true, false}) {
        for (ConvPolicy policy : {ConvPolicy::kFusedOnly, ConvPolicy::kPlainOnly, ConvPolicy::kTimed}) {
          TuneBuffers tb;
          tb.x = dx.buf.get();
          tb.w = dw.buf.get();
          tb.bias = dbias.get();
          tb.bias_conv = db16.buf.get();
          tb.y = dy.buf.get();
          tb.workspace = ws.get();
          tb.workspace_bytes = kWorkspaceCap;
          TuneOutcome outcome;
          try {
            outcome = tune_conv(conv, relu, tb, nhwc ? kernels::TensorLayout::kNHWC : kernels::TensorLayout::kNCHW,
                                stream.get(), policy);
          } catch (const Error& e) {
            FAIL(tag << ": tuning failed: " << e.what());
          }
          const ConvChoice& best = outcome.best;
          // Fused outputs start at zero (the engine's arena is zeroed, or zeroed per call under
          // the liveness placement); plain ones poisoned (beta = 0: never read).
          if (best.mode == ConvMode::kFused) {
            dy.zero();
          } else {
            dy.poison();
          }
          run_conv_choice(conv, relu, best, dx.buf.get(), dw.buf.get(), dbias.get(), dy.buf.get(), ws.get(), kWorkspaceCap,
                          nhwc ? kernels::TensorLayout::kNHWC : kernels::TensorLayout::kNCHW, stream.get(), db16.buf.get());
          RESNETRS_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
          std::vector<float> got = dy.download(t);
          if (nhwc) got = nhwc_to_nchw(got, c.n, c.cout, g.h_out(), g.w_out());
          const std::vector<double>& ref = best.mode == ConvMode::kFused ? (relu ? ref_fused_relu : ref_fused_lin)
                                           : relu                       ? ref_plain_relu
                                                                        : ref_nobias;
          const double l2 = relative_l2(got, ref);
          summary += std::string(" ") + (relu ? "relu/" : "lin/") +
                     (policy == ConvPolicy::kFusedOnly ? "fused-only" : policy == ConvPolicy::kPlainOnly ? "plain-only" : "timed") +
                     "=" + best.to_string() + " (" + std::to_string(l2) + ")";
          INFO(tag << (relu ? " relu " : " linear ") << best.to_string() << ": rel L2 " << l2);
          CHECK(count_non_finite(got) == 0);
          CHECK(l2 <= limit);
        }
      }
      std::printf("  conv16 %-16s %-44s%s\n", c.name, g.describe().c_str(), summary.c_str());
    }
  }
}

}  // namespace

TEST_CASE("fp16 convolutions: every tuned path matches the double reference", "[precision][conv16][fp16]") {
  if (!unverified_gpu_enabled()) {
    std::printf("SKIPPED [unverified]: fp16 convolutions (build with -DRESNETRS_UNVERIFIED_GPU=ON)\n");
    return;
  }
  run_16bit(ActType::kF16);
}

TEST_CASE("bf16 convolutions: every tuned path matches the double reference", "[precision][conv16][bf16][needs_sm80]") {
  if (!unverified_gpu_enabled()) {
    std::printf("SKIPPED [unverified]: bf16 convolutions (build with -DRESNETRS_UNVERIFIED_GPU=ON)\n");
    return;
  }
  run_16bit(ActType::kBF16);
}
