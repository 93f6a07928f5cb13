// The whole network on the GPU against the CPU engine (make_cpu_reference_engine) on the same synthetic
// weights: every depth at 64x64 and 160x160, batch 3 and batch 1 (one engine built for
// max_batch 3 runs both), strict fp32: relative L2 of the logits <= 1e-4 and identical top-1.
// Also: fp32 with NHWC activations, NHWC input pixels, every layer forced fused / forced plain
// (both bias placements of conv3 and the projection), and TF32 ([needs_sm80]) for two depths:
// relative L2 <= 1e-2, top-1 identical unless the CPU's top-2 margin is within the observed error.
// All engines share one tuning cache (tests/gpu/gpu_test_support.h), so each resolution is tuned
// once per precision and layout. One line per comparison is printed for the device log.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "cuda/cuda_engine_info.h"
#include "engine/engine.h"
#include "gpu_test_support.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::test;

namespace {

constexpr int kBatch = 3;

struct Variant {
  const char* label;
  Precision precision = Precision::kFp32;
  CudaEngineTweaks tweaks;
  Layout input_layout = Layout::kNCHW;
  double max_rel_l2 = 1e-4;
};

std::vector<float> input_for(int depth, int res) {
  return random_floats(size_t(kBatch) * 3 * res * res, uint64_t(depth) * 1000 + uint64_t(res), 0.0f, 255.0f);
}

// CPU logits for (depth, res, input layout), computed once.
const std::vector<float>& cpu_logits(int depth, int res, Layout input_layout) {
  static std::map<std::tuple<int, int, int>, std::vector<float>> cache;
  const auto key = std::make_tuple(depth, res, int(input_layout));
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  EngineOptions o;
  o.backend = Backend::kCpu;
  o.max_batch = kBatch;
  o.height = o.width = res;
  o.input_layout = input_layout;
  auto cpu = make_cpu_reference_engine(synthetic_folded(depth), o);
  std::vector<float> logits(size_t(kBatch) * cpu->network().num_classes);
  cpu->run_host(input_for(depth, res).data(), kBatch, logits.data());
  return cache.emplace(key, std::move(logits)).first->second;
}

void check_network(int depth, int res, const Variant& v) {
  const FoldedWeights& fw = synthetic_folded(depth);
  const std::vector<float>& ref = cpu_logits(depth, res, v.input_layout);
  const std::vector<float> input = input_for(depth, res);
  EngineOptions o;
  o.backend = Backend::kCuda;
  o.max_batch = kBatch;
  o.height = o.width = res;
  o.precision = v.precision;
  o.input_layout = v.input_layout;
  o.tuning_cache_path = shared_tuning_cache();
  const std::string what = "RS-" + std::to_string(depth) + " @" + std::to_string(res) + " " + v.label;
  INFO(what);
  std::unique_ptr<Engine> gpu;
  try {
    gpu = make_cuda_engine_ex(fw, o, v.tweaks);
  } catch (const Error& e) {
    FAIL(what << ": engine build failed: [" << status_name(e.status()) << "] " << e.what());
  }
  const CudaEngineInfo* info = cuda_engine_info(*gpu);
  REQUIRE(info);
  const int classes = gpu->network().num_classes;
  std::vector<float> got3(size_t(kBatch) * classes, NAN), got1(size_t(classes), NAN);
  gpu->run_host(input.data(), kBatch, got3.data());
  // Batch 1 on the first image (the input layout puts image 0 first in both layouts).
  gpu->run_host(input.data(), 1, got1.data());
  const std::vector<float> ref1(ref.begin(), ref.begin() + classes);
  const double l2_3 = relative_l2(got3, ref), l2_1 = relative_l2(got1, ref1);
  std::printf("  %-44s rel L2 b3 %.3g b1 %.3g (limit %.0e)  build %.0f ms (tune %.0f ms, %d timed, %d cached), graph %s\n",
              what.c_str(), l2_3, l2_1, v.max_rel_l2, info->build_ms, info->tune_ms, info->shapes_tuned,
              info->shapes_from_cache, info->graph_used ? "yes" : "NO");
  CHECK(count_non_finite(got3) == 0);
  CHECK(count_non_finite(got1) == 0);
  CHECK(l2_3 <= v.max_rel_l2);
  CHECK(l2_1 <= v.max_rel_l2);
  const bool allow_tie = v.precision != Precision::kFp32;
  check_top1(got3, ref, kBatch, classes, allow_tie, what + " batch 3");
  check_top1(got1, ref1, 1, classes, allow_tie, what + " batch 1");
  CHECK(info->graph_used == o.cuda_graph);
}

Variant fp32_nchw() {
  Variant v;
  v.label = "fp32 NCHW";
  return v;
}

void check_depth(int depth) {
  for (int res : {64, 160}) check_network(depth, res, fp32_nchw());
}

}  // namespace

TEST_CASE("RS-50 matches the CPU engine in strict fp32", "[network][rs50]") { check_depth(50); }
TEST_CASE("RS-101 matches the CPU engine in strict fp32", "[network][rs101]") { check_depth(101); }
TEST_CASE("RS-152 matches the CPU engine in strict fp32", "[network][rs152]") { check_depth(152); }
TEST_CASE("RS-200 matches the CPU engine in strict fp32", "[network][rs200]") { check_depth(200); }
TEST_CASE("RS-270 matches the CPU engine in strict fp32", "[network][rs270]") { check_depth(270); }
TEST_CASE("RS-350 matches the CPU engine in strict fp32", "[network][rs350]") { check_depth(350); }
TEST_CASE("RS-420 matches the CPU engine in strict fp32", "[network][rs420]") { check_depth(420); }

TEST_CASE("RS-50 variants: NHWC activations, NHWC input, all-fused and all-plain plans", "[network][variants]") {
  Variant nhwc;
  nhwc.label = "fp32 NHWC activations";
  nhwc.tweaks.layout = CudaEngineTweaks::LayoutChoice::kNHWC;
  Variant nhwc_in;
  nhwc_in.label = "fp32 NCHW, NHWC input";
  nhwc_in.input_layout = Layout::kNHWC;
  Variant fused;
  fused.label = "fp32 NCHW all fused";
  fused.tweaks.modes = CudaEngineTweaks::ModeChoice::kFusedOnly;
  Variant plain;
  plain.label = "fp32 NCHW all plain";
  plain.tweaks.modes = CudaEngineTweaks::ModeChoice::kPlainOnly;
  Variant plain_nhwc = plain;
  plain_nhwc.label = "fp32 NHWC all plain";
  plain_nhwc.tweaks.layout = CudaEngineTweaks::LayoutChoice::kNHWC;
  for (int res : {64, 160}) check_network(50, res, nhwc);
  check_network(50, 64, nhwc_in);
  check_network(50, 64, fused);
  check_network(50, 64, plain);
  check_network(50, 64, plain_nhwc);
}

TEST_CASE("TF32 stays within 1e-2 of the CPU engine", "[network][tf32][needs_sm80]") {
  Variant tf32;
  tf32.label = "tf32 NHWC";
  tf32.precision = Precision::kTf32;
  tf32.max_rel_l2 = 1e-2;
  Variant tf32_nchw = tf32;
  tf32_nchw.label = "tf32 NCHW";
  tf32_nchw.tweaks.layout = CudaEngineTweaks::LayoutChoice::kNCHW;
  for (int res : {64, 160}) check_network(50, res, tf32);
  check_network(50, 64, tf32_nchw);
  for (int res : {64, 160}) check_network(152, res, tf32);
}
