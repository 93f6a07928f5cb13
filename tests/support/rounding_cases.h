// fp32 values that exercise a rounding to fp16 / bf16 in every class: +-0, +-inf, NaNs (quiet,
// signalling, negative), fp32 subnormals, and for every fp32 exponent, kept mantissas with the
// dropped bits at 0, 1, just below, at and just above the halfway point (ties to even both ways)
// and all ones, for fp16's 13 and bf16's 16 dropped bits; fp16's and bf16's own boundaries
// (largest finite, overflow threshold, smallest normal and subnormal, halfway below them); then
// seeded random bit patterns. Shared by the host test of the conversion functions
// (tests/cuda_host) and the GPU test of the conversion kernels (tests/gpu), so both see the same
// values.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace resnetrs::test {

inline float float_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint32_t bits_from_float(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline std::vector<float> rounding_cases(size_t random_count = 200000) {
  std::vector<uint32_t> bits = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                                0xffc00000u, 0x7f800001u, 0x7fbfffffu, 0xff800001u, 0x00000001u,
                                0x80000001u, 0x007fffffu, 0x00400000u, 0x807fffffu, 0x7f7fffffu, 0xff7fffffu};
  const uint32_t kept[] = {0u, 1u, 2u, 3u, 0x155u, 0x2aau, 0x3feu, 0x3ffu, 0x7eu, 0x7fu};
  for (uint32_t sign : {0u, 0x80000000u}) {
    for (uint32_t e = 0; e < 255; ++e) {
      for (int type = 0; type < 2; ++type) {
        const int dropped = type == 0 ? 13 : 16;  // fp16 keeps 10 mantissa bits, bf16 7
        const uint32_t kept_max = type == 0 ? 0x3ffu : 0x7fu;
        const uint32_t half = 1u << (dropped - 1), all = (1u << dropped) - 1u;
        for (uint32_t k : kept) {
          if (k > kept_max) continue;
          for (uint32_t d : {0u, 1u, half - 1u, half, half + 1u, all}) {
            bits.push_back(sign | (e << 23) | (k << dropped) | d);
          }
        }
      }
    }
  }
  std::vector<float> v;
  v.reserve(bits.size() + 64 + random_count);
  for (uint32_t b : bits) v.push_back(float_from_bits(b));
  // Named boundaries (both signs).
  const float named[] = {65504.0f,
                         65519.0f,
                         std::nextafter(65520.0f, 0.0f),
                         65520.0f,
                         65536.0f,
                         1e10f,
                         std::ldexp(1.0f, -14),
                         std::nextafter(std::ldexp(1.0f, -14), 0.0f),
                         std::ldexp(1023.5f, -24),
                         std::ldexp(1.0f, -24),
                         std::ldexp(1.0f, -25),
                         std::nextafter(std::ldexp(1.0f, -25), 1.0f),
                         std::ldexp(1.5f, -24),
                         std::ldexp(2.5f, -24),
                         std::ldexp(3.0f, -26),
                         std::ldexp(255.0f, 120),
                         std::ldexp(255.5f, 120),
                         std::nextafter(std::ldexp(255.5f, 120), 0.0f),
                         std::ldexp(1.0f, -126),
                         std::ldexp(1.0f, -133),
                         std::ldexp(1.0f, -134),
                         std::ldexp(3.0f, -134),
                         std::ldexp(1.0f, -149),
                         1.0f + std::ldexp(1.0f, -11),
                         1.0f + std::ldexp(3.0f, -11),
                         1.0f + std::ldexp(1.0f, -8),
                         1.0f + std::ldexp(3.0f, -8),
                         0.1f,
                         1.0f / 3.0f};
  for (float f : named) {
    v.push_back(f);
    v.push_back(-f);
  }
  // Random bit patterns (every class in proportion to its share of the 2^32 codes), then random
  // values of activation magnitude.
  uint64_t s = 0x5eed1234abcdull;
  auto next = [&s] {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (size_t i = 0; i < random_count / 2; ++i) v.push_back(float_from_bits(uint32_t(next())));
  for (size_t i = 0; i < random_count - random_count / 2; ++i) {
    const double u = double(next() >> 11) * 0x1.0p-53;  // [0, 1)
    v.push_back(float((u * 2.0 - 1.0) * 16.0));
  }
  return v;
}

// The exact value of a 16-bit code, by the formats' definitions (independent of any conversion
// code): fp16 1-5-10, bias 15; bf16 1-8-7, bias 127; exponent all ones: inf / NaN.
inline double decode_fp16(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 31) return m ? std::nan("") : sign * INFINITY;
  return sign * (e == 0 ? std::ldexp(double(m), -24) : std::ldexp(double(1024 + m), e - 25));
}
inline double decode_bf16(uint16_t h) {
  const int e = (h >> 7) & 0xff, m = h & 0x7f;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 255) return m ? std::nan("") : sign * INFINITY;
  return sign * (e == 0 ? std::ldexp(double(m), -133) : std::ldexp(double(128 + m), e - 134));
}

}  // namespace resnetrs::test
