// Engine-level invariants on RS-50 at 64x64 (max_batch 3, strict fp32 unless stated):
// graph replay equals eager bit for bit, repeated runs are bit-identical, batch 3 equals three
// runs of batch 1 within tolerance, the tuning cache reproduces the plan, a caller's stream
// works, run allocates nothing, argument and option errors carry the right status, the
// zero-workspace cap still builds a correct engine, and the info the benchmark reads is sane.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/log.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_engine_info.h"
#include "cuda/cuda_raii.h"
#include "engine/engine.h"
#include "gpu_test_support.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::test;

namespace {

constexpr int kDepth = 50;
constexpr int kRes = 64;
constexpr int kMaxBatch = 3;

EngineOptions base_options() {
  EngineOptions o;
  o.backend = Backend::kCuda;
  o.max_batch = kMaxBatch;
  o.height = o.width = kRes;
  o.tuning_cache_path = shared_tuning_cache();
  return o;
}

std::vector<float> test_input(int batch, uint64_t seed = 5) {
  return random_floats(size_t(batch) * 3 * kRes * kRes, seed, 0.0f, 255.0f);
}

std::vector<float> run(Engine& e, const std::vector<float>& input, int batch) {
  std::vector<float> logits(size_t(batch) * e.network().num_classes, NAN);
  e.run_host(input.data(), batch, logits.data());
  return logits;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<std::string> choices(const Engine& e) {
  std::vector<std::string> out;
  for (const CudaLayerInfo& l : cuda_engine_info(e)->layers) out.push_back(l.layer + ": " + l.choice);
  return out;
}

Status status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.status();
  }
  return Status::kOk;
}

}  // namespace

TEST_CASE("graph replay equals eager execution bit for bit, and runs are reproducible", "[engine][graph]") {
  const FoldedWeights& fw = synthetic_folded(kDepth);
  EngineOptions og = base_options();
  auto graph = make_cuda_engine_ex(fw, og, {});
  EngineOptions oe = og;
  oe.cuda_graph = false;
  auto eager = make_cuda_engine_ex(fw, oe, {});
  CudaEngineTweaks sync;
  sync.sync_check = true;
  auto checked = make_cuda_engine_ex(fw, og, sync);
  const CudaEngineInfo* gi = cuda_engine_info(*graph);
  INFO("graph note: " << gi->graph_note);
  REQUIRE(gi->graph_used);
  CHECK_FALSE(cuda_engine_info(*eager)->graph_used);
  CHECK_FALSE(cuda_engine_info(*checked)->graph_used);
  // Same plan (the second and third engines read the first one's tuning cache).
  REQUIRE(choices(*graph) == choices(*eager));
  REQUIRE(choices(*graph) == choices(*checked));

  for (int batch : {kMaxBatch, 1, 2}) {
    INFO("batch " << batch);
    const std::vector<float> input = test_input(batch, 7 + uint64_t(batch));
    const std::vector<float> a = run(*graph, input, batch);
    const std::vector<float> b = run(*graph, input, batch);
    const std::vector<float> c = run(*eager, input, batch);
    const std::vector<float> d = run(*checked, input, batch);
    CHECK(count_non_finite(a) == 0);
    CHECK(bitwise_equal(a, b));
    CHECK(bitwise_equal(a, c));
    CHECK(bitwise_equal(a, d));
  }
}

TEST_CASE("batch 3 equals three runs of batch 1 within tolerance", "[engine][batch]") {
  auto e = make_cuda_engine_ex(synthetic_folded(kDepth), base_options(), {});
  const int classes = e->network().num_classes;
  const std::vector<float> input = test_input(kMaxBatch, 11);
  const std::vector<float> all = run(*e, input, kMaxBatch);
  const size_t image = size_t(3) * kRes * kRes;
  for (int i = 0; i < kMaxBatch; ++i) {
    const std::vector<float> one_in(input.begin() + long(i * image), input.begin() + long((i + 1) * image));
    const std::vector<float> one = run(*e, one_in, 1);
    const std::vector<float> row(all.begin() + long(i) * classes, all.begin() + long(i + 1) * classes);
    const double l2 = relative_l2(one, row);
    INFO("image " << i << " rel L2 " << l2);
    // Different batch sizes may run different cuDNN/cuBLAS kernels: fp32 rounding differences only.
    CHECK(l2 <= 1e-4);
    CHECK(argmax_rows(one, 1, classes) == argmax_rows(row, 1, classes));
  }
}

TEST_CASE("a tuning cache written by one engine reproduces the plan in the next", "[engine][cache]") {
  const FoldedWeights& fw = synthetic_folded(kDepth);
  EngineOptions o = base_options();
  o.tuning_cache_path = fresh_tuning_cache("reuse");
  auto first = make_cuda_engine_ex(fw, o, {});
  const CudaEngineInfo* a = cuda_engine_info(*first);
  CHECK(a->shapes_tuned == a->unique_shapes);
  CHECK(a->shapes_from_cache == 0);
  REQUIRE(std::ifstream(o.tuning_cache_path).good());

  auto second = make_cuda_engine_ex(fw, o, {});
  const CudaEngineInfo* b = cuda_engine_info(*second);
  CHECK(b->shapes_tuned == 0);
  CHECK(b->shapes_from_cache == b->unique_shapes);
  CHECK(choices(*first) == choices(*second));
  const std::vector<float> input = test_input(kMaxBatch);
  CHECK(bitwise_equal(run(*first, input, kMaxBatch), run(*second, input, kMaxBatch)));

  // A damaged line is reported and ignored; the rest of the cache still applies.
  {
    std::ofstream f(o.tuning_cache_path, std::ios::app);
    f << "v1|garbage line without a tab\n";
  }
  std::vector<std::string> warnings;
  const WarningSink previous = set_warning_sink([&](const std::string& m) { warnings.push_back(m); });
  auto third = make_cuda_engine_ex(fw, o, {});
  set_warning_sink(previous);
  CHECK(cuda_engine_info(*third)->shapes_from_cache == cuda_engine_info(*third)->unique_shapes);
  CHECK(choices(*third) == choices(*first));
  bool reported = false;
  for (const std::string& w : warnings) reported |= w.find("malformed") != std::string::npos;
  CHECK(reported);
}

TEST_CASE("a caller's stream works and run allocates no device memory", "[engine][stream][memory]") {
  auto e = make_cuda_engine_ex(synthetic_folded(kDepth), base_options(), {});
  const int classes = e->network().num_classes;
  for (int batch : {kMaxBatch, 1}) {
    INFO("batch " << batch);
    const std::vector<float> input = test_input(batch, 21);
    const std::vector<float> want = run(*e, input, batch);  // also warms this batch size up

    DeviceArray d_in(input), d_out(size_t(batch) * classes);
    cuda::UniqueStream stream = cuda::make_stream();
    e->run_device(d_in.get(), batch, d_out.get(), stream.get());
    RESNETRS_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
    CHECK(bitwise_equal(d_out.download(), want));
    CHECK(d_out.guard_intact());

    size_t free_before = 0, free_after = 0, total = 0;
    RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
    RESNETRS_CUDA_CHECK(cudaMemGetInfo(&free_before, &total));
    for (int i = 0; i < 5; ++i) {
      e->run_device(d_in.get(), batch, d_out.get(), stream.get());
      e->run_device(d_in.get(), batch, d_out.get(), nullptr);  // the engine's own stream, alternating
    }
    std::vector<float> host(want.size());
    e->run_host(input.data(), batch, host.data());
    RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
    RESNETRS_CUDA_CHECK(cudaMemGetInfo(&free_after, &total));
    CHECK(free_before == free_after);
    CHECK(bitwise_equal(d_out.download(), want));
    CHECK(bitwise_equal(host, want));
  }
}

TEST_CASE("argument and option errors carry the right status", "[engine][errors]") {
  const FoldedWeights& fw = synthetic_folded(kDepth);
  auto e = make_cuda_engine_ex(fw, base_options(), {});
  const std::vector<float> input = test_input(kMaxBatch);
  std::vector<float> logits(size_t(kMaxBatch) * 1000);
  CHECK(status_of([&] { e->run_host(input.data(), 0, logits.data()); }) == Status::kInvalidArgument);
  CHECK(status_of([&] { e->run_host(input.data(), kMaxBatch + 1, logits.data()); }) == Status::kInvalidArgument);
  CHECK(status_of([&] { e->run_host(nullptr, 1, logits.data()); }) == Status::kInvalidArgument);
  // Host memory handed to run_device is refused before any kernel could fault on it.
  CHECK(status_of([&] { e->run_device(input.data(), 1, logits.data(), nullptr); }) == Status::kInvalidArgument);
  // The engine still works after the refusals.
  CHECK(count_non_finite(run(*e, input, kMaxBatch)) == 0);

  EngineOptions o = base_options();
  o.precision = Precision::kFp16;
  CHECK(status_of([&] { make_cuda_engine_ex(fw, o, {}); }) == Status::kInvalidArgument);
  o.precision = Precision::kBf16;
  CHECK(status_of([&] { make_cuda_engine_ex(fw, o, {}); }) == Status::kInvalidArgument);
  o = base_options();
  o.device = 1000;
  CHECK(status_of([&] { make_cuda_engine_ex(fw, o, {}); }) == Status::kInvalidArgument);
  o = base_options();
  o.max_batch = 0;
  CHECK(status_of([&] { make_cuda_engine_ex(fw, o, {}); }) == Status::kInvalidArgument);
}

TEST_CASE("a zero workspace cap still gives a correct engine", "[engine][workspace]") {
  const FoldedWeights& fw = synthetic_folded(kDepth);
  EngineOptions o = base_options();
  o.workspace_cap_bytes = 0;
  auto zero = make_cuda_engine_ex(fw, o, {});
  auto normal = make_cuda_engine_ex(fw, base_options(), {});
  const CudaEngineInfo* zi = cuda_engine_info(*zero);
  for (const CudaLayerInfo& l : zi->layers) CHECK(l.workspace == 0);
  const std::vector<float> input = test_input(kMaxBatch, 31);
  const double l2 = relative_l2(run(*zero, input, kMaxBatch), run(*normal, input, kMaxBatch));
  INFO("rel L2 zero-workspace vs default plan " << l2);
  CHECK(l2 <= 1e-4);
}

TEST_CASE("engine info reports memory, timing, per-layer choices and graph use", "[engine][info]") {
  auto e = make_cuda_engine_ex(synthetic_folded(kDepth), base_options(), {});
  const CudaEngineInfo* info = cuda_engine_info(*e);
  REQUIRE(info);
  const NetworkDesc& net = e->network();
  size_t convs = 4;
  for (const BlockShape& b : net.blocks) convs += b.has_projection ? 4 : 3;
  CHECK(info->layers.size() == convs);
  CHECK(info->weight_bytes >= size_t(net.trainable_params()) * sizeof(float) / 2);
  CHECK(info->arena_bytes > 0);
  CHECK(info->total_device_bytes() == info->weight_bytes + info->arena_bytes + info->workspace_bytes);
  CHECK(info->build_ms > 0);
  CHECK(info->unique_shapes > 0);
  CHECK(info->unique_shapes < int(convs));
  CHECK(info->precision == Precision::kFp32);
  CHECK(info->activation_layout == Layout::kNCHW);
  for (const CudaLayerInfo& l : info->layers) {
    INFO(l.layer << " " << l.choice);
    CHECK(l.choice.find(" FMA ") != std::string::npos);  // strict fp32: every convolution FMA-only
  }
  const std::string text = info->format();
  CHECK(text.find("stage4/block2/conv3") != std::string::npos);
  std::printf("%s", text.c_str());  // the RS-50 @64 plan, for the device log

  // A non-CUDA engine has no CUDA info.
  EngineOptions o = base_options();
  o.backend = Backend::kCpu;
  auto cpu = make_cpu_reference_engine(synthetic_folded(kDepth), o);
  CHECK(cuda_engine_info(*cpu) == nullptr);
}

TEST_CASE("TF32 engines run in NHWC with tensor-op math", "[engine][tf32][needs_sm80]") {
  EngineOptions o = base_options();
  o.precision = Precision::kTf32;
  auto e = make_cuda_engine_ex(synthetic_folded(kDepth), o, {});
  const CudaEngineInfo* info = cuda_engine_info(*e);
  CHECK(info->activation_layout == Layout::kNHWC);
  CHECK(info->precision == Precision::kTf32);
  const std::vector<float> input = test_input(kMaxBatch);
  CHECK(bitwise_equal(run(*e, input, kMaxBatch), run(*e, input, kMaxBatch)));
}
