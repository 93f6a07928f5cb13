// The gate of GPU features no GPU has verified yet (engine/gpu_gate.h): what a default build
// refuses and with which words, and that a RESNETRS_UNVERIFIED_GPU=ON build lets the same through.
#include <catch2/catch.hpp>

#include <string>

#include "build_info.h"
#include "common/error.h"
#include "engine/gpu_gate.h"

using namespace resnetrs;

TEST_CASE("gpu gate: fp32 and tf32 always pass, fp16/bf16/fp32x3 only with the switch", "[gpu-gate]") {
  CHECK(unverified_gpu_enabled() == (RESNETRS_BUILD_UNVERIFIED_GPU != 0));
  CHECK_NOTHROW(require_cuda_precision_available(Precision::kFp32));
  CHECK_NOTHROW(require_cuda_precision_available(Precision::kTf32));
  CHECK_FALSE(precision_is_unverified_on_gpu(Precision::kFp32));
  CHECK_FALSE(precision_is_unverified_on_gpu(Precision::kTf32));
  for (Precision p : {Precision::kFp16, Precision::kBf16, Precision::kFp32x3}) {
    INFO(precision_name(p));
    CHECK(precision_is_unverified_on_gpu(p));
    if (unverified_gpu_enabled()) {
      CHECK_NOTHROW(require_cuda_precision_available(p));
      continue;
    }
    try {
      require_cuda_precision_available(p);
      FAIL("a default build offered an unverified precision");
    } catch (const Error& e) {
      const std::string m = e.what();
      INFO(m);
      CHECK(e.status() == Status::kInvalidArgument);
      CHECK(m.find(std::string("precision ") + precision_name(p) + " on the CUDA backend") == 0);
      CHECK(m.find("RESNETRS_UNVERIFIED_GPU") != std::string::npos);
      CHECK(m.find("docs/cuda-engine.md") != std::string::npos);
    }
  }
}

TEST_CASE("gpu gate: an out-of-range precision is refused by value", "[gpu-gate]") {
  try {
    require_cuda_precision_available(Precision(17));
    FAIL("precision 17 accepted");
  } catch (const Error& e) {
    CHECK(e.status() == Status::kInvalidArgument);
    CHECK(std::string(e.what()).find("unknown precision 17") != std::string::npos);
  }
}

TEST_CASE("gpu gate: precision names cover fp32x3", "[gpu-gate]") {
  CHECK(std::string(precision_name(Precision::kFp32x3)) == "fp32x3");
  CHECK(std::string(precision_name(Precision::kFp16)) == "fp16");
}
