// The CUDA engine's precision policy (src/cuda/precision_policy.h), its device refusals, the
// CUTLASS choice's text form and the 16-bit weight rounding: host only, no CUDA call.
#include <catch2/catch.hpp>

#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "cpu/storage_rounding.h"
#include "cuda/conv_choice.h"
#include "cuda/cutlass_conv.h"
#include "cuda/device_weights.h"
#include "cuda/precision_policy.h"
#include "model/config.h"
#include "model/network.h"

using namespace resnetrs;
using cuda::ConvMathRule;
using kernels::ActType;
using kernels::TensorLayout;

namespace {

Status status_of(Precision p, int major, int minor, std::string* message) {
  try {
    (void)cuda::select_precision_policy(p, major, minor);
    return Status::kOk;
  } catch (const Error& e) {
    *message = e.what();
    return e.status();
  }
}

}  // namespace

TEST_CASE("each precision maps to one policy; fp32 and tf32 keep their behaviour and cache keys", "[cuda-host][precision]") {
  const cuda::PrecisionPolicy fp32 = cuda::precision_policy(Precision::kFp32);
  CHECK(std::string(fp32.cache_name) == "fp32");
  CHECK(fp32.act == ActType::kF32);
  CHECK(fp32.act_bytes == 4);
  CHECK(fp32.conv_math == ConvMathRule::kStrictFma);
  CHECK_FALSE(fp32.cublas_tf32);
  CHECK_FALSE(fp32.cutlass_convs);
  CHECK(fp32.default_layout == TensorLayout::kNCHW);
  CHECK(fp32.min_sm == 0);

  const cuda::PrecisionPolicy tf32 = cuda::precision_policy(Precision::kTf32);
  CHECK(std::string(tf32.cache_name) == "tf32");
  CHECK(tf32.act == ActType::kF32);
  CHECK(tf32.conv_math == ConvMathRule::kTensorOp);
  CHECK(tf32.cublas_tf32);
  CHECK(tf32.default_layout == TensorLayout::kNHWC);
  CHECK(tf32.min_sm == 0);

  for (Precision p : {Precision::kFp16, Precision::kBf16}) {
    const cuda::PrecisionPolicy h = cuda::precision_policy(p);
    INFO(precision_name(p));
    CHECK(h.act == (p == Precision::kFp16 ? ActType::kF16 : ActType::kBF16));
    CHECK(h.act_bytes == 2);
    CHECK(kernels::act_type_bytes(h.act) == h.act_bytes);
    CHECK(h.conv_math == ConvMathRule::kTensorOp);
    CHECK_FALSE(h.cublas_tf32);  // logits carry only the storage error
    CHECK_FALSE(h.cutlass_convs);
    CHECK(h.default_layout == TensorLayout::kNHWC);
    CHECK(std::string(h.cache_name) == precision_name(p));
  }
  CHECK(cuda::precision_policy(Precision::kFp16).min_sm == 70);
  CHECK(cuda::precision_policy(Precision::kBf16).min_sm == 80);

  const cuda::PrecisionPolicy x3 = cuda::precision_policy(Precision::kFp32x3);
  CHECK(x3.act == ActType::kF32);
  CHECK(x3.cutlass_convs);
  CHECK(x3.conv_math == ConvMathRule::kStrictFma);  // the convolutions CUTLASS cannot run stay strict
  CHECK_FALSE(x3.cublas_tf32);
  CHECK(x3.default_layout == TensorLayout::kNHWC);
  CHECK_FALSE(x3.nchw_allowed);
  CHECK(x3.min_sm == 80);
  CHECK(std::string(x3.cache_name) == "fp32x3");

  CHECK_THROWS_AS(cuda::precision_policy(static_cast<Precision>(99)), Error);
}

TEST_CASE("precisions are refused on devices without the tensor cores they need", "[cuda-host][precision]") {
  std::string m;
  // bf16: refused on sm_70 and sm_75 with UNSUPPORTED_DEVICE naming the device's sm.
  CHECK(status_of(Precision::kBf16, 7, 0, &m) == Status::kUnsupportedDevice);
  CHECK(m.find("sm_70") != std::string::npos);
  CHECK(m.find("bf16") != std::string::npos);
  CHECK(status_of(Precision::kBf16, 7, 5, &m) == Status::kUnsupportedDevice);
  CHECK(m.find("sm_75") != std::string::npos);
  CHECK(status_of(Precision::kBf16, 8, 0, &m) == Status::kOk);
  CHECK(status_of(Precision::kBf16, 9, 0, &m) == Status::kOk);
  // fp16 runs on sm_70.
  CHECK(status_of(Precision::kFp16, 7, 0, &m) == Status::kOk);
  CHECK(status_of(Precision::kFp16, 6, 1, &m) == Status::kUnsupportedDevice);
  // fp32x3: sm_80 and newer.
  CHECK(status_of(Precision::kFp32x3, 7, 5, &m) == Status::kUnsupportedDevice);
  CHECK(m.find("fp32x3") != std::string::npos);
  CHECK(status_of(Precision::kFp32x3, 8, 6, &m) == Status::kOk);
  // fp32 and tf32: wherever the build runs.
  CHECK(status_of(Precision::kFp32, 7, 0, &m) == Status::kOk);
  CHECK(status_of(Precision::kTf32, 7, 0, &m) == Status::kOk);
}

TEST_CASE("the layout follows the policy; fp32x3 refuses NCHW", "[cuda-host][precision]") {
  using R = cuda::LayoutRequest;
  CHECK(cuda::choose_layout(cuda::precision_policy(Precision::kFp32), R::kAuto) == TensorLayout::kNCHW);
  CHECK(cuda::choose_layout(cuda::precision_policy(Precision::kTf32), R::kAuto) == TensorLayout::kNHWC);
  CHECK(cuda::choose_layout(cuda::precision_policy(Precision::kFp16), R::kAuto) == TensorLayout::kNHWC);
  CHECK(cuda::choose_layout(cuda::precision_policy(Precision::kFp32), R::kNHWC) == TensorLayout::kNHWC);
  CHECK(cuda::choose_layout(cuda::precision_policy(Precision::kBf16), R::kNCHW) == TensorLayout::kNCHW);
  const cuda::PrecisionPolicy x3 = cuda::precision_policy(Precision::kFp32x3);
  CHECK(cuda::choose_layout(x3, R::kNHWC) == TensorLayout::kNHWC);
  try {
    (void)cuda::choose_layout(x3, R::kNCHW);
    FAIL("fp32x3 accepted NCHW");
  } catch (const Error& e) {
    CHECK(e.status() == Status::kInvalidArgument);
    CHECK(std::string(e.what()).find("NHWC") != std::string::npos);
  }
}

TEST_CASE("a CUTLASS choice prints and parses; malformed ones are refused", "[cuda-host][precision]") {
  for (int t = 0; t < cuda::kCutlassTileCount; ++t) {
    cuda::ConvChoice c;
    c.mode = cuda::ConvMode::kCutlass;
    c.algo = t;
    c.ms = 0.25f;
    const std::string text = c.to_string();
    CHECK(text.rfind("cutlass ", 0) == 0);
    cuda::ConvChoice back;
    REQUIRE(cuda::parse_conv_choice(text, &back));
    CHECK(back.mode == cuda::ConvMode::kCutlass);
    CHECK(back.algo == t);
    CHECK(back.bias_in_conv());
  }
  cuda::ConvChoice out;
  CHECK_FALSE(cuda::parse_conv_choice("cutlass 32x32x8 3XTF32 0.1", &out));
  CHECK_FALSE(cuda::parse_conv_choice("cutlass 64x64x16 FMA 0.1", &out));
  CHECK_FALSE(cuda::parse_conv_choice("cutlass 64x64x16 3XTF32 -1", &out));
  // The cuDNN forms still parse as before.
  REQUIRE(cuda::parse_conv_choice("fused IMPLICIT_PRECOMP_GEMM FMA 0.1230", &out));
  CHECK(out.mode == cuda::ConvMode::kFused);
}

TEST_CASE("fp32x3 uses CUTLASS for every convolution but the 3-channel stem conv", "[cuda-host][precision][cutlass]") {
  if (!cuda::cutlass_convs_built()) {
    SUCCEED("SKIPPED: built without CUTLASS");
    std::printf("SKIPPED: fp32x3 CUTLASS coverage (built without CUTLASS)\n");
    return;
  }
  for (int depth : {50, 152}) {
    const NetworkDesc net = describe_network(config_for_depth(depth), 160, 160);
    for (int batch : {1, 128}) {
      CHECK_FALSE(cuda::cutlass_applies_any(net.stem[0], batch));  // 3 input channels: cuDNN strict
      for (int i = 1; i < 4; ++i) CHECK(cuda::cutlass_applies_any(net.stem[i], batch));
      for (const BlockShape& b : net.blocks) {
        CHECK(cuda::cutlass_applies_any(b.conv1, batch));
        CHECK(cuda::cutlass_applies_any(b.conv2, batch));
        CHECK(cuda::cutlass_applies_any(b.conv3, batch));
        if (b.has_projection) CHECK(cuda::cutlass_applies_any(b.shortcut, batch));
      }
    }
  }
}

TEST_CASE("16-bit weights are rounded once, as the CPU storage emulation rounds", "[cuda-host][precision]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> v;
  for (int i = 0; i < 4096; ++i) v.push_back(normal(rng));
  // Edge values: ties, subnormals, overflow, signed zero, infinities, NaN.
  for (float x : {0.0f, -0.0f, 1.0f, 1.0f + 1.0f / 2048.0f, 1.0f + 3.0f / 2048.0f, 65504.0f, 65520.0f, 1e-7f, -3e-8f, 3.0e38f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
    v.push_back(x);
  const std::vector<uint16_t> h = cuda::to_16bit(v, ActType::kF16);
  const std::vector<uint16_t> b = cuda::to_16bit(v, ActType::kBF16);
  REQUIRE(h.size() == v.size());
  REQUIRE(b.size() == v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("value " << v[i]);
    __half_raw raw;
    raw.x = h[i];
    const float hf = __half2float(__half(raw));
    const float want_h = cpu::round_to_fp16(v[i]);
    CHECK(std::memcmp(&hf, &want_h, 4) == 0);
    const uint32_t bits = uint32_t(b[i]) << 16;
    float bf;
    std::memcpy(&bf, &bits, 4);
    const float want_b = cpu::round_to_bf16(v[i]);
    CHECK(std::memcmp(&bf, &want_b, 4) == 0);
  }
  const std::vector<uint16_t> nan = cuda::to_16bit({std::nanf("")}, ActType::kF16);
  __half_raw raw_nan;
  raw_nan.x = nan[0];
  CHECK(std::isnan(__half2float(__half(raw_nan))));
  CHECK_THROWS_AS(cuda::to_16bit(v, ActType::kF32), Error);
}
