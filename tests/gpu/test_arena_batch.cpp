// The activation arena placed by liveness ("[arena]") and the per-batch-size tuning with
// run_host's whole-run graph ("[batch]"): both behind RESNETRS_UNVERIFIED_GPU (skipped with a
// printed line in a default build). docs/cuda-engine.md, "Memory" and "Batch sizes".
//   [arena]  the liveness engine gives the per-role engine's logits bitwise (same tuning cache,
//            so the same algorithms) in fp32 and fp16; with the zeroing of fused outputs off,
//            whether cuDNN reads z is printed; device memory taken by an engine (cudaMemGetInfo
//            around its construction, after a first engine warmed the context and libraries)
//            equals its allocations (weights, the plan's arena, workspaces; 2 MiB granularity)
//            plus the fixed cost of an engine measured on a small one, within 1 MiB; its arena
//            equals the plan's; running allocates nothing.
//   [batch]  an engine prepared for batches 1, 2 and 3 (max 8) with each batch tuned: for
//            batches 1, 2, 3, 5 and 8, the graph gives the eager engine's logits bitwise,
//            run_host gives run_device's bitwise, and the logits match the CPU engine (fp32,
//            rel. L2 <= 1e-4, same top-1).
#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cuda/activation_arena.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_engine_info.h"
#include "cuda/cuda_raii.h"
#include "cuda/engine_plan.h"
#include "engine/engine.h"
#include "engine/gpu_gate.h"
#include "gpu_test_support.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::test;

namespace {

bool gate_open(const char* what) {
  if (unverified_gpu_enabled()) return true;
  std::printf("SKIPPED [unverified]: %s (build with -DRESNETRS_UNVERIFIED_GPU=ON: scripts/device-pack)\n", what);
  SUCCEED("gate closed");
  return false;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

EngineOptions gpu_options(int res, int max_batch, Precision p) {
  EngineOptions o;
  o.backend = Backend::kCuda;
  o.max_batch = max_batch;
  o.height = o.width = res;
  o.precision = p;
  o.tuning_cache_path = shared_tuning_cache();
  return o;
}

std::vector<float> run_host(Engine& e, const std::vector<float>& pixels, int n) {
  std::vector<float> logits(size_t(n) * e.network().num_classes, NAN);
  e.run_host(pixels.data(), n, logits.data());
  return logits;
}

size_t free_bytes() {
  size_t free = 0, total = 0;
  RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
  RESNETRS_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return free;
}

}  // namespace

TEST_CASE("activations placed by liveness give the per-role logits bitwise", "[arena]") {
  if (!gate_open("activations placed by liveness")) return;
  for (Precision p : {Precision::kFp32, Precision::kFp16}) {
    const int res = 64, n = 3;
    const std::vector<float> pixels = random_floats(size_t(n) * 3 * res * res, 31, 0.0f, 255.0f);
    CudaEngineTweaks role, live, live_unzeroed;
    role.arena = CudaEngineTweaks::ArenaChoice::kPerRole;
    live.arena = CudaEngineTweaks::ArenaChoice::kLiveness;
    live_unzeroed = live;
    live_unzeroed.zero_fused_outputs = false;
    auto e_role = make_cuda_engine_ex(synthetic_folded(50), gpu_options(res, n, p), role);
    auto e_live = make_cuda_engine_ex(synthetic_folded(50), gpu_options(res, n, p), live);
    auto e_raw = make_cuda_engine_ex(synthetic_folded(50), gpu_options(res, n, p), live_unzeroed);
    const CudaEngineInfo* ir = cuda_engine_info(*e_role);
    const CudaEngineInfo* il = cuda_engine_info(*e_live);
    REQUIRE(ir);
    REQUIRE(il);
    CHECK_FALSE(ir->arena_by_liveness);
    CHECK(il->arena_by_liveness);
    CHECK(il->arena_bytes < ir->arena_bytes);
    for (size_t i = 0; i < ir->layers.size(); ++i) CHECK(ir->layers[i].choice == il->layers[i].choice);
    for (int b : {n, 1}) {
      const std::vector<float> a = run_host(*e_role, pixels, b);
      const std::vector<float> l = run_host(*e_live, pixels, b);
      const std::vector<float> r = run_host(*e_raw, pixels, b);
      std::printf("  %s b%d: per role %.1f MiB, liveness %.1f MiB; liveness == per role: %s; without zeroing fused outputs: %s "
                  "(%zu non-finite)\n",
                  precision_name(p), b, double(ir->arena_bytes) / (1 << 20), double(il->arena_bytes) / (1 << 20),
                  same_bits(a, l) ? "bitwise" : "DIFFERENT", same_bits(a, r) ? "bitwise (cuDNN did not read stale z)" : "DIFFERENT",
                  count_non_finite(r));
      CHECK(count_non_finite(l) == 0);
      CHECK(same_bits(a, l));
    }
  }
}

// What an engine's allocations take from the device: each cudaMalloc rounded up to the 2 MiB
// allocation granularity (weights, arena, cuDNN workspace, cuBLAS workspace).
double granular_bytes(const CudaEngineInfo& info) {
  const double g = double(2 << 20);
  auto up = [&](double b) { return std::ceil(b / g) * g; };
  const double cublas = double(size_t(32) << 20);
  return up(double(info.weight_bytes)) + up(double(info.arena_bytes)) + up(double(info.workspace_bytes) - cublas) + up(cublas);
}

TEST_CASE("an engine's device memory is its plan's within 1 MiB, and running allocates nothing", "[arena]") {
  if (!gate_open("activations placed by liveness")) return;
  CudaEngineTweaks live;
  live.arena = CudaEngineTweaks::ArenaChoice::kLiveness;
  {  // warm the context, cuDNN, cuBLAS and the kernel images once, so the measured engines pay only for themselves
    auto warm = make_cuda_engine_ex(synthetic_folded(50), gpu_options(64, 1, Precision::kFp32), live);
  }
  for (Precision p : {Precision::kFp32, Precision::kFp16}) {
    // The fixed cost of any engine (cuDNN and cuBLAS handles, stream, events, graph upload),
    // measured on a small engine of the same network and precision: taken minus its allocations.
    double fixed = 0;
    {
      const size_t before = free_bytes();
      auto small = make_cuda_engine_ex(synthetic_folded(50), gpu_options(64, 1, p), live);
      const size_t after = free_bytes();
      fixed = double(before - after) - granular_bytes(*cuda_engine_info(*small));
    }
    const int res = 160, n = 32;
    const size_t before = free_bytes();
    auto e = make_cuda_engine_ex(synthetic_folded(50), gpu_options(res, n, p), live);
    const size_t after_build = free_bytes();
    const CudaEngineInfo* info = cuda_engine_info(*e);
    REQUIRE(info);
    const NetworkDesc& net = e->network();
    const cuda::ArenaLayout plan = cuda::liveness_layout(net, cuda::make_engine_plan(net), n, p == Precision::kFp16 ? 2 : 4);
    const double used = double(before - after_build);
    const double expected = granular_bytes(*info) + fixed;
    const double mib = double(1 << 20);
    std::printf("  RS-50 @160 b%d %s: cudaMemGetInfo says %.2f MiB taken; planned %.2f MiB = allocations %.2f MiB (weights "
                "%.2f, arena %.2f = plan %.2f, workspaces %.2f; device_bytes() %.2f, 2 MiB granularity) + fixed cost %.2f MiB\n",
                n, precision_name(p), used / mib, expected / mib, granular_bytes(*info) / mib, double(info->weight_bytes) / mib,
                double(info->arena_bytes) / mib, double(plan.bytes) / mib, double(info->workspace_bytes) / mib,
                double(e->device_bytes()) / mib, fixed / mib);
    CHECK(info->arena_bytes == plan.bytes);
    CHECK(std::fabs(used - expected) <= mib);
    const std::vector<float> pixels = random_floats(size_t(n) * 3 * res * res, 41, 0.0f, 255.0f);
    (void)run_host(*e, pixels, n);
    (void)run_host(*e, pixels, 1);  // a new batch size: descriptors and graphs (host side and graph memory)
    const size_t after_first_runs = free_bytes();
    (void)run_host(*e, pixels, n);
    (void)run_host(*e, pixels, 1);
    CHECK(free_bytes() == after_first_runs);
  }
}

TEST_CASE("per-batch tuning and graphs: graph == eager, run_host == run_device, and the CPU engine's logits", "[batch]") {
  if (!gate_open("per-batch-size tuning and whole-run graphs")) return;
  const int res = 64, max_batch = 8, depth = 50;
  CudaEngineTweaks t;
  t.batch_tuning = CudaEngineTweaks::BatchTuning::kEachBatch;
  t.prepare_batches = {1, 2, 3};
  EngineOptions o = gpu_options(res, max_batch, Precision::kFp32);
  auto graphed = make_cuda_engine_ex(synthetic_folded(depth), o, t);
  EngineOptions eager_o = o;
  eager_o.cuda_graph = false;
  auto eager = make_cuda_engine_ex(synthetic_folded(depth), eager_o, t);  // same cache: same choices
  CudaEngineTweaks shared = t;
  shared.batch_tuning = CudaEngineTweaks::BatchTuning::kMaxBatchOnly;
  auto max_only = make_cuda_engine_ex(synthetic_folded(depth), o, shared);
  EngineOptions cpu_o;
  cpu_o.backend = Backend::kCpu;
  cpu_o.max_batch = max_batch;
  cpu_o.height = cpu_o.width = res;
  auto cpu = make_cpu_reference_engine(synthetic_folded(depth), cpu_o);
  const int classes = cpu->network().num_classes;
  const std::vector<float> pixels = random_floats(size_t(max_batch) * 3 * res * res, 53, 0.0f, 255.0f);
  const CudaEngineInfo* info = cuda_engine_info(*graphed);
  REQUIRE(info);
  std::printf("  prepared batches 1, 2, 3 at build: %d shapes timed, %d from cache, tuning %.0f ms\n", info->shapes_tuned,
              info->shapes_from_cache, info->tune_ms);
  cuda::UniqueStream stream = cuda::make_stream();
  for (int b : {1, 2, 3, 5, 8}) {
    INFO("batch " << b);
    const std::vector<float> g = run_host(*graphed, pixels, b);
    const std::vector<float> e = run_host(*eager, pixels, b);
    const std::vector<float> m = run_host(*max_only, pixels, b);
    const std::vector<float> ref = run_host(*cpu, pixels, b);
    DeviceArray d_in(std::vector<float>(pixels.begin(), pixels.begin() + size_t(b) * 3 * res * res));
    DeviceArray d_out(size_t(b) * classes);
    graphed->run_device(d_in.get(), b, d_out.get(), stream.get());
    RESNETRS_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
    const std::vector<float> dev = d_out.download();
    const double err = relative_l2(g, ref), err_max_only = relative_l2(m, ref);
    std::printf("  batch %d: graph == eager %s, run_host == run_device %s, rel L2 vs CPU %.3g (max-batch choices %.3g)\n", b,
                same_bits(g, e) ? "bitwise" : "DIFFERENT", same_bits(g, dev) ? "bitwise" : "DIFFERENT", err, err_max_only);
    CHECK(same_bits(g, e));
    CHECK(same_bits(g, dev));
    CHECK(d_out.guard_intact());
    CHECK(count_non_finite(g) == 0);
    CHECK(err <= 1e-4);
    CHECK(err_max_only <= 1e-4);
    CHECK(argmax_rows(g, b, classes) == argmax_rows(ref, b, classes));
  }
}
