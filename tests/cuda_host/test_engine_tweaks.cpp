// The CUDA engine's construction tweaks for the arena and batch features: the gate refuses them in
// a default build before any CUDA call, and the environment forms parse. Host only.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "cuda/cuda_engine_info.h"
#include "engine/engine.h"
#include "engine/gpu_gate.h"
#include "io/weights_file.h"

using namespace resnetrs;

namespace {

struct EnvSet {
  const char* name;
  EnvSet(const char* n, const char* value) : name(n) { ::setenv(name, value, 1); }
  EnvSet(const EnvSet&) = delete;
  EnvSet& operator=(const EnvSet&) = delete;
  ~EnvSet() { ::unsetenv(name); }
};

struct Warnings {
  std::vector<std::string> list;
  WarningSink previous = set_warning_sink([this](const std::string& m) { list.push_back(m); });
  Warnings() = default;
  Warnings(const Warnings&) = delete;
  Warnings& operator=(const Warnings&) = delete;
  ~Warnings() { set_warning_sink(previous); }
};

Status build_status(const CudaEngineTweaks& t, Precision p, std::string* message) {
  static const FoldedWeights folded = fold_weights(synthetic_weights(50, 3, 1002));
  EngineOptions o;
  o.backend = Backend::kCuda;
  o.height = o.width = 64;
  o.precision = p;
  try {
    auto engine = make_cuda_engine_ex(folded, o, t);
    return Status::kOk;
  } catch (const Error& e) {
    *message = e.what();
    return e.status();
  }
}

}  // namespace

TEST_CASE("the liveness arena and per-batch tuning are refused by a default build before any CUDA call",
          "[cuda-host][gpu-gate][arena][batch]") {
  if (unverified_gpu_enabled()) {
    SUCCEED("built with RESNETRS_UNVERIFIED_GPU=ON: the gate is open; tests/gpu \"[arena]\" / \"[batch]\" run them");
    return;
  }
  std::string m;
  CudaEngineTweaks live;
  live.arena = CudaEngineTweaks::ArenaChoice::kLiveness;
  CHECK(build_status(live, Precision::kFp32, &m) == Status::kInvalidArgument);  // not NO_DEVICE: refused first
  CHECK(m.find("RESNETRS_UNVERIFIED_GPU") != std::string::npos);
  CHECK(m.find("liveness") != std::string::npos);

  CudaEngineTweaks each;
  each.batch_tuning = CudaEngineTweaks::BatchTuning::kEachBatch;
  CHECK(build_status(each, Precision::kFp32, &m) == Status::kInvalidArgument);
  CHECK(m.find("RESNETRS_UNVERIFIED_GPU") != std::string::npos);
  CHECK(m.find("per-batch") != std::string::npos);

  // The defaults and the explicit per-role / max-batch-only choices pass the host checks and
  // reach the device (NO_DEVICE here, a real engine on a GPU).
  for (const CudaEngineTweaks& t : {CudaEngineTweaks{}, [] {
                                      CudaEngineTweaks x;
                                      x.arena = CudaEngineTweaks::ArenaChoice::kPerRole;
                                      x.batch_tuning = CudaEngineTweaks::BatchTuning::kMaxBatchOnly;
                                      return x;
                                    }()}) {
    const Status s = build_status(t, Precision::kFp32, &m);
    INFO(m);
    CHECK((s == Status::kOk || s == Status::kNoDevice));
  }
}

TEST_CASE("RESNETRS_CUDA_ARENA and RESNETRS_CUDA_BATCHES parse; bad values warn and are ignored", "[cuda-host][arena][batch]") {
  {
    const EnvSet a("RESNETRS_CUDA_ARENA", "liveness");
    const EnvSet b("RESNETRS_CUDA_BATCHES", "1,8,,32");
    const CudaEngineTweaks t = cuda_tweaks_from_env();
    CHECK(t.arena == CudaEngineTweaks::ArenaChoice::kLiveness);
    CHECK(t.prepare_batches == std::vector<int>{1, 8, 32});
  }
  {
    const EnvSet a("RESNETRS_CUDA_ARENA", "role");
    CHECK(cuda_tweaks_from_env().arena == CudaEngineTweaks::ArenaChoice::kPerRole);
  }
  {
    Warnings w;
    const EnvSet a("RESNETRS_CUDA_ARENA", "tiny");
    const EnvSet b("RESNETRS_CUDA_BATCHES", "4,x,0,-2,7");
    const CudaEngineTweaks t = cuda_tweaks_from_env();
    CHECK(t.arena == CudaEngineTweaks::ArenaChoice::kAuto);
    CHECK(t.prepare_batches == std::vector<int>{4, 7});
    CHECK(w.list.size() == 4);  // the arena value and three batch items
  }
  CHECK(cuda_tweaks_from_env().prepare_batches.empty());
}
