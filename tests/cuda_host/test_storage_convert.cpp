// The fp32 <-> fp16 / bf16 conversions of the 16-bit storage kernels (kernels/storage_convert.cuh),
// compiled for the host, against the CPU engine's storage emulation (src/cpu/storage_rounding):
// the same rounded value, bit for bit, on every value class (support/rounding_cases.h), and the
// 16 -> 32 bit decoders against the formats' definitions on all 65536 codes. On the device, bf16
// runs this very code; fp16 runs the hardware conversions, checked on the same values by the GPU
// test "[kernels16][convert]".
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include "cpu/storage_rounding.h"
#include "kernels/storage_convert.cuh"
#include "support/rounding_cases.h"

using namespace resnetrs;
using namespace resnetrs::test;

namespace {

// Same value: equal bits (so +0 != -0), or both NaN.
bool same_value(float a, float b) { return (std::isnan(a) && std::isnan(b)) || bits_from_float(a) == bits_from_float(b); }

std::string hex(float f) {
  std::ostringstream os;
  os << std::hexfloat << f << " (0x" << std::hex << bits_from_float(f) << ")";
  return os.str();
}

}  // namespace

TEST_CASE("fp32 -> fp16 / bf16 rounding equals the CPU storage emulation on every value class",
          "[cuda-host][kernels16][convert]") {
  const std::vector<float> cases = rounding_cases();
  REQUIRE(cases.size() > 100000);
  size_t bad16 = 0, badbf = 0, nan_kept = 0;
  for (float x : cases) {
    const float want16 = cpu::round_to_fp16(x), wantbf = cpu::round_to_bf16(x);
    const float got16 = kernels::f16_bits_to_f32(kernels::f32_to_f16_bits(x));
    const float gotbf = kernels::bf16_bits_to_f32(kernels::f32_to_bf16_bits(x));
    if (!same_value(got16, want16) && bad16++ < 10) {
      FAIL_CHECK("fp16: " << hex(x) << " -> " << hex(got16) << ", storage_rounding gives " << hex(want16));
    }
    if (!same_value(gotbf, wantbf) && badbf++ < 10) {
      FAIL_CHECK("bf16: " << hex(x) << " -> " << hex(gotbf) << ", storage_rounding gives " << hex(wantbf));
    }
    if (std::isnan(x)) {
      nan_kept += std::isnan(got16) && std::isnan(gotbf);
      // The sign of a NaN survives, and the result is a quiet NaN.
      CHECK((kernels::f32_to_bf16_bits(x) & 0x8000u) == ((bits_from_float(x) >> 16) & 0x8000u));
      CHECK((kernels::f32_to_bf16_bits(x) & 0x0040u) != 0u);
    }
  }
  CHECK(bad16 == 0);
  CHECK(badbf == 0);
  CHECK(nan_kept > 0);
}

TEST_CASE("fp16 / bf16 -> fp32 decoding is exact on all 65536 codes and round-trips", "[cuda-host][kernels16][convert]") {
  size_t bad = 0;
  for (uint32_t c = 0; c < 65536u; ++c) {
    const uint16_t h = uint16_t(c);
    const float f16 = kernels::f16_bits_to_f32(h), fbf = kernels::bf16_bits_to_f32(h);
    const double want16 = decode_fp16(h), wantbf = decode_bf16(h);
    const bool ok16 = std::isnan(want16) ? std::isnan(f16) : (double(f16) == want16 && std::signbit(f16) == bool(h & 0x8000));
    const bool okbf = std::isnan(wantbf) ? std::isnan(fbf) : (double(fbf) == wantbf && std::signbit(fbf) == bool(h & 0x8000));
    // Every non-NaN code converts back to itself.
    const bool rt16 = std::isnan(want16) || kernels::f32_to_f16_bits(f16) == h;
    const bool rtbf = std::isnan(wantbf) || kernels::f32_to_bf16_bits(fbf) == h;
    if (!(ok16 && okbf && rt16 && rtbf) && bad++ < 10) {
      FAIL_CHECK("code 0x" << std::hex << c << ": fp16 " << hex(f16) << " (want " << want16 << ", round trip " << rt16
                           << "), bf16 " << hex(fbf) << " (want " << wantbf << ", round trip " << rtbf << ")");
    }
  }
  CHECK(bad == 0);
}
