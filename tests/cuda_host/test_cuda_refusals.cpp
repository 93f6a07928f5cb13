// Host-side refusals of the CUDA backend, checked through its real factory: they happen before any
// CUDA call, so they run (and must give the same answer) on machines with and without a GPU.
#include <catch2/catch.hpp>

#include <string>

#include "common/error.h"
#include "engine/engine.h"
#include "engine/gpu_gate.h"
#include "io/weights_file.h"

using namespace resnetrs;

TEST_CASE("a default build's CUDA factory refuses the Model Garden variant before touching the device",
          "[cuda-host][garden]") {
  if (unverified_gpu_enabled()) {
    SUCCEED("built with RESNETRS_UNVERIFIED_GPU=ON: the variant passes the factory (tests/gpu [garden] runs it)");
    return;
  }
  RawWeights raw = synthetic_weights(50, 3, 1001);
  raw.config.variant = model_garden_variant();
  const FoldedWeights folded = fold_weights(raw);
  EngineOptions o;
  o.backend = Backend::kCuda;
  o.height = o.width = 64;
  for (int via_create = 0; via_create < 2; ++via_create) {
    try {
      auto engine = via_create ? create_engine(folded, o) : make_cuda_engine(folded, o);
      FAIL("the CUDA backend accepted the Model Garden variant");
    } catch (const Error& e) {
      INFO("message: " << e.what());
      CHECK(e.status() == Status::kInvalidArgument);  // not NO_DEVICE, with or without a GPU
      const std::string m = e.what();
      CHECK(m.find("CUDA backend does not run this ResNet-RS variant") != std::string::npos);
      CHECK(m.find("activation swish") != std::string::npos);
      CHECK(m.find("Use the CPU backend") != std::string::npos);
      CHECK(m.find("RESNETRS_UNVERIFIED_GPU") != std::string::npos);
    }
  }
}

TEST_CASE("the CUDA factory refuses unverified precisions in a default build before touching the device",
          "[cuda-host][gpu-gate]") {
  if (unverified_gpu_enabled()) {
    SUCCEED("built with RESNETRS_UNVERIFIED_GPU=ON: the gate is open (tests/unit/test_gpu_gate.cpp checks that)");
    return;
  }
  const FoldedWeights folded = fold_weights(synthetic_weights(50, 3, 1000));
  for (Precision p : {Precision::kFp16, Precision::kBf16, Precision::kFp32x3}) {
    EngineOptions o;
    o.backend = Backend::kCuda;
    o.height = o.width = 64;
    o.precision = p;
    try {
      auto engine = make_cuda_engine(folded, o);
      FAIL("the CUDA backend accepted an unverified precision");
    } catch (const Error& e) {
      INFO("message: " << e.what());
      CHECK(e.status() == Status::kInvalidArgument);  // not NO_DEVICE: the gate answers first
      CHECK(std::string(e.what()).find("RESNETRS_UNVERIFIED_GPU") != std::string::npos);
    }
  }
}
