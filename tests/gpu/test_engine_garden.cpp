// The TF2 Model Garden variant (swish epilogues, Keras 'same' stride-2 padding, the stage-1 2x2/1
// shortcut pool) on the CUDA engine against the CPU engine on the same weights, the Model Garden
// fixtures of the CPU tests (tests/unit/test_cpu_engine.cpp "[garden]": synthetic weights with
// model_garden_variant()). Strict fp32, batch 3 and batch 1 from one engine: relative L2 of the
// logits <= 1e-4 and identical top-1, as the TF1 network test ("[network]").
//   64x64: every stride-2 conv sees an even size (zero padding + unpadded conv at all five);
//   75x75: odd and even sizes mixed (stem conv1 on 75 pads symmetrically, stem conv4 on 38 and
//          the stage convs on 19 / 10 / 5 alternate);
//   NHWC activations, NHWC input, every layer fused / every layer plain (the swish epilogue after
//   a fused identity conv, and after a plain conv with the bias in the epilogue).
// Also in fp16 and bf16 ([needs_sm80] for bf16) against the CPU engine's 16-bit storage
// emulation, with the criteria of "[precision]" (rel. L2 vs fp32 <= 1e-3 / 1e-2, vs the emulation
// <= 3x the emulation's own error, same top-1 unless a numerical tie), and in TF32 ([needs_sm80],
// rel. L2 <= 1e-2).
// A default build (RESNETRS_UNVERIFIED_GPU=OFF) must refuse the variant instead: checked then.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_engine_info.h"
#include "engine/engine.h"
#include "engine/gpu_gate.h"
#include "gpu_test_support.h"
#include "io/weights_file.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::test;

namespace {

constexpr int kBatch = 3;

const FoldedWeights& garden_weights() {
  static const FoldedWeights fw = [] {
    RawWeights raw = synthetic_weights(50, 20260401u);
    raw.config.variant = model_garden_variant();
    return fold_weights(raw);
  }();
  return fw;
}

struct Case {
  const char* label;
  int res = 64;
  CudaEngineTweaks tweaks;
  Layout input_layout = Layout::kNCHW;
  Precision precision = Precision::kFp32;
};

bool gate_open() {
  if (unverified_gpu_enabled()) return true;
  std::printf("SKIPPED [garden]: built with RESNETRS_UNVERIFIED_GPU=OFF (the refusal is checked by the fp32 case)\n");
  return false;
}

void check_garden(const Case& c) {
  const FoldedWeights& fw = garden_weights();
  const std::vector<float> input = random_floats(size_t(kBatch) * 3 * c.res * c.res, 5000 + uint64_t(c.res), 0.0f, 255.0f);
  EngineOptions o;
  o.max_batch = kBatch;
  o.height = o.width = c.res;
  o.input_layout = c.input_layout;
  o.backend = Backend::kCpu;
  auto cpu = make_cpu_reference_engine(fw, o);
  const int classes = cpu->network().num_classes;
  std::vector<float> ref(size_t(kBatch) * classes);
  cpu->run_host(input.data(), kBatch, ref.data());
  const bool half = c.precision == Precision::kFp16 || c.precision == Precision::kBf16;
  std::vector<float> emulated;
  if (half) {
    auto emu = make_cpu_engine_emulating(fw, o, c.precision);
    emulated.resize(ref.size());
    emu->run_host(input.data(), kBatch, emulated.data());
  }

  o.backend = Backend::kCuda;
  o.precision = c.precision;
  o.tuning_cache_path = shared_tuning_cache();
  const std::string what = std::string("Model Garden RS-50 @") + std::to_string(c.res) + " " + c.label;
  INFO(what);
  std::unique_ptr<Engine> gpu;
  try {
    gpu = make_cuda_engine_ex(fw, o, c.tweaks);
  } catch (const Error& e) {
    FAIL(what << ": engine build failed: [" << status_name(e.status()) << "] " << e.what());
  }
  REQUIRE(gpu->network().config.variant == model_garden_variant());
  std::vector<float> got3(ref.size(), NAN), got1(size_t(classes), NAN);
  gpu->run_host(input.data(), kBatch, got3.data());
  gpu->run_host(input.data(), 1, got1.data());
  const std::vector<float> ref1(ref.begin(), ref.begin() + classes);
  const double limit = c.precision == Precision::kFp32 ? 1e-4 : c.precision == Precision::kFp16 ? 1e-3 : 1e-2;
  const double l2_3 = relative_l2(got3, ref), l2_1 = relative_l2(got1, ref1);
  std::printf("  %-52s rel L2 b3 %.3g b1 %.3g (limit %.0e)", what.c_str(), l2_3, l2_1, limit);
  CHECK(count_non_finite(got3) == 0);
  CHECK(count_non_finite(got1) == 0);
  CHECK(l2_3 <= limit);
  CHECK(l2_1 <= limit);
  if (half) {
    const double emu_err = relative_l2(emulated, ref), vs_emu = relative_l2(got3, emulated);
    std::printf(", emulation vs fp32 %.3g, gpu vs emulation %.3g (limit %.3g)", emu_err, vs_emu, 3 * emu_err);
    CHECK(vs_emu <= 3 * emu_err);
  }
  std::printf("\n");
  const bool allow_tie = c.precision != Precision::kFp32;
  check_top1(got3, ref, kBatch, classes, allow_tie, what + " batch 3");
  check_top1(got1, ref1, 1, classes, allow_tie, what + " batch 1");
}

}  // namespace

TEST_CASE("the Model Garden variant on the CUDA engine matches the CPU engine in strict fp32", "[garden][network]") {
  if (!unverified_gpu_enabled()) {
    EngineOptions o;
    o.backend = Backend::kCuda;
    o.height = o.width = 64;
    try {
      auto engine = make_cuda_engine(garden_weights(), o);
      FAIL("a default build (RESNETRS_UNVERIFIED_GPU=OFF) ran the Model Garden variant on the GPU");
    } catch (const Error& e) {
      CHECK(e.status() == Status::kInvalidArgument);
      CHECK(std::string(e.what()).find("RESNETRS_UNVERIFIED_GPU") != std::string::npos);
    }
    std::printf("SKIPPED [garden]: built with RESNETRS_UNVERIFIED_GPU=OFF: only the refusal is checked\n");
    return;
  }
  Case even;
  even.label = "fp32 NCHW";
  Case odd = even;
  odd.res = 75;
  Case nhwc;
  nhwc.label = "fp32 NHWC activations";
  nhwc.tweaks.layout = CudaEngineTweaks::LayoutChoice::kNHWC;
  Case nhwc_odd = nhwc;
  nhwc_odd.res = 75;
  Case nhwc_in;
  nhwc_in.label = "fp32 NCHW, NHWC input";
  nhwc_in.input_layout = Layout::kNHWC;
  Case fused;
  fused.label = "fp32 NCHW all fused";
  fused.tweaks.modes = CudaEngineTweaks::ModeChoice::kFusedOnly;
  Case plain;
  plain.label = "fp32 NCHW all plain";
  plain.tweaks.modes = CudaEngineTweaks::ModeChoice::kPlainOnly;
  Case plain_nhwc = plain;
  plain_nhwc.label = "fp32 NHWC all plain";
  plain_nhwc.tweaks.layout = CudaEngineTweaks::LayoutChoice::kNHWC;
  for (const Case& c : {even, odd, nhwc, nhwc_odd, nhwc_in, fused, plain, plain_nhwc}) check_garden(c);
}

TEST_CASE("the Model Garden variant in fp16 matches the 16-bit storage emulation", "[garden][precision][fp16]") {
  if (!gate_open()) return;
  for (int res : {64, 75}) {
    Case c;
    c.label = "fp16";
    c.res = res;
    c.precision = Precision::kFp16;
    check_garden(c);
  }
}

TEST_CASE("the Model Garden variant in bf16 and TF32", "[garden][precision][bf16][tf32][needs_sm80]") {
  if (!gate_open()) return;
  Case bf16;
  bf16.label = "bf16";
  bf16.precision = Precision::kBf16;
  check_garden(bf16);
  Case tf32;
  tf32.label = "tf32";
  tf32.precision = Precision::kTf32;
  check_garden(tf32);
}
