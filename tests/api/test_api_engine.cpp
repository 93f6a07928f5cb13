// The C API's engines on the CPU backend: the info they report, outputs matching the C++ reference
// engine's, input layouts and weights files giving bit-identical logits, top-k, and create/destroy
// cycles that return their memory.
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "api_test_util.h"
#include "engine/engine.h"
#include "io/weights_file.h"
#include "model/fold.h"
#include "model/network.h"

using namespace resnetrs::apitest;

namespace {

resnetrs_engine_info_t info_of(const resnetrs_engine_t* e) {
  resnetrs_engine_info_t info{};
  info.struct_size = sizeof(info);
  REQUIRE(resnetrs_engine_get_info(e, &info) == RESNETRS_STATUS_OK);
  return info;
}

// The same network through the C++ reference engine (im2col + OpenBLAS, NCHW).
std::vector<float> cpp_logits(const resnetrs::FoldedWeights& folded, resnetrs::Layout layout, const std::vector<float>& input,
                              int batch) {
  resnetrs::EngineOptions o;
  o.backend = resnetrs::Backend::kCpu;
  o.max_batch = kMaxBatch;
  o.height = o.width = kRes;
  o.input_layout = layout;
  auto engine = resnetrs::make_cpu_reference_engine(folded, o);
  std::vector<float> logits(size_t(batch) * 1000);
  engine->run_host(input.data(), batch, logits.data());
  return logits;
}

// NCHW -> NHWC for [n, 3, h, w].
std::vector<float> to_nhwc(const std::vector<float>& nchw, int n, int h, int w) {
  std::vector<float> out(nchw.size());
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) out[((size_t(b) * h + y) * w + x) * 3 + c] = nchw[((size_t(b) * 3 + c) * h + y) * w + x];
  return out;
}

size_t heap_bytes_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;  // small blocks in all arenas + large mmapped blocks
}

}  // namespace

TEST_CASE("info describes the engine", "[api][engine]") {
  const resnetrs_engine_info_t info = info_of(shared_cpu_engine());
  CHECK(info.struct_size == sizeof(info));
  CHECK(info.depth == 50);
  CHECK(info.num_classes == 1000);
  CHECK(info.channels == 3);
  CHECK(info.height == kRes);
  CHECK(info.width == kRes);
  CHECK(info.input_layout == RESNETRS_LAYOUT_NCHW);
  CHECK(info.max_batch == kMaxBatch);
  CHECK(info.backend == RESNETRS_BACKEND_CPU);
  CHECK(info.precision == RESNETRS_PRECISION_FP32);
  CHECK(info.device == -1);
  CHECK(info.cuda_graph == 0);
  CHECK(info.trainable_params == 35691912);  // timm's count for resnetrs50
  const auto net = resnetrs::describe_network(resnetrs::config_for_depth(50), kRes, kRes);
  CHECK(info.macs_per_image == net.macs());
  CHECK(info.device_bytes == 0);
  CHECK(info.load_ms > 0);
  CHECK(info.build_ms >= 0);
  CHECK(info.tune_ms > 0);  // the CPU backend times its candidate algorithms per layer
  CHECK(info.tune_ms <= info.build_ms);
  CHECK(info.train_resolution == 0);  // synthetic weights: unknown
}

// Within one library, engines with the same weights and options run the same algorithms (the fast
// CPU engine remembers its choices per process, docs/cpu-engine.md): their logits are bit-identical.
// Against the reference engine, float32 with other summation orders: rel L2 <= 1e-5 and the same top-1.
void check_matches_reference(const std::vector<float>& got, const std::vector<float>& want, int batch) {
  double err2 = 0, ref2 = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err2 += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    ref2 += double(want[i]) * want[i];
  }
  INFO("rel L2 " << std::sqrt(err2 / ref2));
  CHECK(std::sqrt(err2 / ref2) <= 1e-5);
  for (int n = 0; n < batch; ++n) {
    const auto row = got.begin() + n * 1000, ref_row = want.begin() + n * 1000;
    CHECK(std::max_element(row, row + 1000) - row == std::max_element(ref_row, ref_row + 1000) - ref_row);
  }
}

TEST_CASE("C API logits match the C++ reference engine; layouts and files give the same bits", "[api][engine]") {
  const std::vector<float> input = pixels(image_floats() * kMaxBatch, 11);
  // Static: each SECTION re-enters the test case, the weights need generating once.
  static const resnetrs::FoldedWeights folded = resnetrs::fold_weights(resnetrs::synthetic_weights(kDepth, kSeed));
  std::vector<float> shared(size_t(kMaxBatch) * 1000);
  REQUIRE(resnetrs_engine_run_host(shared_cpu_engine(), input.data(), kMaxBatch, shared.data()) == RESNETRS_STATUS_OK);

  SECTION("synthetic weights, NCHW, against the reference engine") {
    check_matches_reference(shared, cpp_logits(folded, resnetrs::Layout::kNCHW, input, kMaxBatch), kMaxBatch);
    std::vector<float> one(1000);
    REQUIRE(resnetrs_engine_run_host(shared_cpu_engine(), input.data(), 1, one.data()) == RESNETRS_STATUS_OK);
    check_matches_reference(one, cpp_logits(folded, resnetrs::Layout::kNCHW, input, 1), 1);
  }
  SECTION("NHWC input gives the same logits as the same pixels in NCHW") {
    resnetrs_options_t o = cpu_options();
    o.input_layout = RESNETRS_LAYOUT_NHWC;
    EnginePtr e = make_synthetic(o);
    CHECK(info_of(e.get()).input_layout == RESNETRS_LAYOUT_NHWC);
    const std::vector<float> nhwc = to_nhwc(input, kMaxBatch, kRes, kRes);
    std::vector<float> got(size_t(kMaxBatch) * 1000);
    REQUIRE(resnetrs_engine_run_host(e.get(), nhwc.data(), kMaxBatch, got.data()) == RESNETRS_STATUS_OK);
    CHECK(std::memcmp(got.data(), shared.data(), got.size() * sizeof(float)) == 0);
  }
  SECTION("a weights file gives what its weights give") {
    TempDir dir("fromfile");
    const std::string path = dir.file("rs50.h5");
    resnetrs::save_weights(resnetrs::synthetic_weights(kDepth, kSeed), path);
    resnetrs_options_t o = cpu_options();
    o.tuning_cache_path = "unused-on-the-cpu.cache";  // accepted and copied, unused by the CPU backend
    resnetrs_engine_t* raw = nullptr;
    REQUIRE(resnetrs_engine_create_from_file(path.c_str(), &o, &raw) == RESNETRS_STATUS_OK);
    EnginePtr e(raw);
    std::vector<float> got(size_t(kMaxBatch) * 1000);
    REQUIRE(resnetrs_engine_run_host(e.get(), input.data(), kMaxBatch, got.data()) == RESNETRS_STATUS_OK);
    CHECK(std::memcmp(got.data(), shared.data(), got.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("topk returns the best classes with softmax probabilities", "[api][engine][leak]") {
  // Row 0: distinct values; row 1: ties, which keep the lower index first.
  const float logits[2 * 5] = {0.5f, 3.0f, -1.0f, 2.0f, 1.0f, /**/ 1.0f, 4.0f, 4.0f, 0.0f, 4.0f};
  int32_t idx[2 * 3];
  float probs[2 * 3];
  REQUIRE(resnetrs_topk(logits, 2, 5, 3, idx, probs) == RESNETRS_STATUS_OK);
  CHECK(idx[0] == 1);
  CHECK(idx[1] == 3);
  CHECK(idx[2] == 4);
  CHECK(idx[3] == 1);
  CHECK(idx[4] == 2);
  CHECK(idx[5] == 4);
  double denom = 0;
  for (int c = 0; c < 5; ++c) denom += std::exp(double(logits[c]));
  CHECK(probs[0] == Approx(std::exp(3.0) / denom).epsilon(1e-6));
  CHECK(probs[1] == Approx(std::exp(2.0) / denom).epsilon(1e-6));
  CHECK(probs[2] == Approx(std::exp(1.0) / denom).epsilon(1e-6));
  CHECK(probs[3] == Approx(probs[4]));
  // k = classes: the probabilities of a row sum to 1; NULL probabilities are allowed.
  float all[5];
  int32_t all_idx[5];
  REQUIRE(resnetrs_topk(logits, 1, 5, 5, all_idx, all) == RESNETRS_STATUS_OK);
  CHECK(std::accumulate(all, all + 5, 0.0) == Approx(1.0).epsilon(1e-6));
  REQUIRE(resnetrs_topk(logits, 1, 5, 2, all_idx, nullptr) == RESNETRS_STATUS_OK);
  CHECK(all_idx[0] == 1);
  // Large logits do not overflow.
  const float big[3] = {1000.0f, 999.0f, -1000.0f};
  REQUIRE(resnetrs_topk(big, 1, 3, 1, all_idx, all) == RESNETRS_STATUS_OK);
  CHECK(all[0] == Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-6));
}

TEST_CASE("one engine lifecycle: create, run, destroy", "[api][lifecycle]") {
  resnetrs_options_t o = cpu_options(1);
  EnginePtr e = make_synthetic(o);
  const std::vector<float> input = pixels(image_floats(), 5);
  std::vector<float> logits(1000);
  REQUIRE(resnetrs_engine_run_host(e.get(), input.data(), 1, logits.data()) == RESNETRS_STATUS_OK);
  int32_t top[5];
  REQUIRE(resnetrs_topk(logits.data(), 1, 1000, 5, top, nullptr) == RESNETRS_STATUS_OK);
  e.reset();
  // Failures on the way must not leak either: bad options, an unsupported depth.
  resnetrs_engine_t* none = nullptr;
  o.max_batch = 0;
  CHECK(resnetrs_engine_create_synthetic(50, 1, &o, &none) == RESNETRS_STATUS_INVALID_ARGUMENT);
  o.max_batch = 1;
  CHECK(resnetrs_engine_create_synthetic(77, 1, &o, &none) == RESNETRS_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("create/destroy in a loop returns its memory", "[api][lifecycle]") {
  const resnetrs_options_t o = cpu_options(1);
  const std::vector<float> input = pixels(image_floats(), 9);
  std::vector<float> logits(1000);
  auto cycle = [&] {
    EnginePtr e = make_synthetic(o);
    REQUIRE(resnetrs_engine_run_host(e.get(), input.data(), 1, logits.data()) == RESNETRS_STATUS_OK);
  };
  cycle();  // first use: one-time allocations (thread buffers, library globals) happen here
  const size_t before = heap_bytes_in_use();
  for (int i = 0; i < 3; ++i) cycle();
  const size_t after = heap_bytes_in_use();
  // One RS-50 engine holds ~290 MB of weights; a leak of any of them would show. 1 MiB of slack
  // covers allocator bookkeeping.
  INFO("heap in use before " << before << " B, after " << after << " B");
  CHECK(after <= before + (size_t(1) << 20));
}
