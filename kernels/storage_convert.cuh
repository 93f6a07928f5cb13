// fp32 <-> fp16 / bf16 bit conversions of the 16-bit storage kernels, round to nearest even as the
// CPU engine's storage emulation (src/cpu/storage_rounding.h): subnormals kept (no flush to zero),
// overflow to +-inf (fp16 from 65520 up; bf16 above (2 - 2^-7) * 2^127), +-inf and +-0 kept, a NaN
// stays a NaN (quiet; its payload is not preserved).
//
// __host__ __device__ and plain C++ when no CUDA compiler is involved, so a host test
// (tests/cuda_host/test_storage_convert.cpp) checks these very functions against
// storage_rounding for every value class:
//   bf16 both ways: the same integer code on host and device;
//   fp16 on the device: the hardware conversions (cvt.rn.f16.f32, IEEE round to nearest even with
//   subnormals, via __float2half_rn; cvt.f32.f16, exact), on every architecture; the integer
//   code on the host. The device side is checked bit for bit against storage_rounding by the GPU test
//   (tests/gpu/test_kernels_storage.cpp, launch_convert_from_f32 on the same value classes).
// No bf16 intrinsic is used: the integer code compiles for sm_70/sm_75, which lack cvt.bf16.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <cuda_fp16.h>
#define RESNETRS_HD __host__ __device__ __forceinline__
#else
#define RESNETRS_HD inline
#endif

namespace resnetrs::kernels {

RESNETRS_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

RESNETRS_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// bf16 keeps fp32's sign, exponent and the top 7 mantissa bits: adding 0x7fff plus the kept part's
// lowest bit rounds the 16 dropped bits to nearest even, a carry moving into the exponent (up to
// inf from the largest finite values) as it should; subnormals round the same way.
RESNETRS_HD uint16_t f32_to_bf16_bits(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x0040u);  // NaN: quiet, sign kept
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

RESNETRS_HD float bf16_bits_to_f32(uint16_t h) { return bits_float(uint32_t(h) << 16); }

// The integer fp32 -> fp16 rounding (the host's; the device uses the hardware conversion).
RESNETRS_HD uint16_t f32_to_f16_bits_soft(float f) {
  const uint32_t u = float_bits(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) return uint16_t(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));  // NaN, inf
  if (a >= 0x38800000u) {  // |f| >= 2^-14: a normal fp16 (or overflow to inf)
    // Rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even; a
    // carry into the exponent is right, and everything from 65520 up lands on or above 0x7c00.
    const uint32_t r = (a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u) >> 13;
    return uint16_t(sign | (r >= 0x7c00u ? 0x7c00u : r));
  }
  // Subnormal fp16 (quantum 2^-24) or zero: the fp32 significand (implicit bit included, 24 bits)
  // shifted right by 126 - e, rounded to nearest even on the dropped bits.
  const int e = int(a >> 23);
  const int shift = 126 - e;  // 14 .. 126 (e = 0: fp32 zero or subnormal, far below 2^-25)
  if (shift > 24) return sign;  // below 2^-25: rounds to 0
  const uint32_t m = (a & 0x7fffffu) | 0x800000u;
  const uint32_t kept = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
  const uint32_t r = kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
  return uint16_t(sign | r);  // r == 0x400 (rounded up to 2^-14) is the smallest normal: right
}

RESNETRS_HD uint16_t f32_to_f16_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __half_as_ushort(__float2half_rn(f));
#else
  return f32_to_f16_bits_soft(f);
#endif
}

RESNETRS_HD float f16_bits_to_f32(uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(h));  // exact (cvt.f32.f16)
#else
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return bits_float(sign | 0x7f800000u | (m << 13));  // inf, NaN
  if (e != 0) return bits_float(sign | ((e + 112u) << 23) | (m << 13));
  // Zero or subnormal: m * 2^-24, exact in fp32.
  const float mag = float(m) * 5.9604644775390625e-8f;  // 2^-24
  return sign ? -mag : mag;
#endif
}

}  // namespace resnetrs::kernels
