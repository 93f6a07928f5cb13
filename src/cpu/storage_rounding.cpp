#include "cpu/storage_rounding.h"

#include <algorithm>
#include <cmath>

namespace resnetrs::cpu {
namespace {

// x rounded to `bits` significant bits, with normal numbers from 2^min_exp and a subnormal
// quantum of 2^(min_exp - bits + 1) below it; `max` is the largest finite value. Scaling by
// powers of two (ldexp) is exact, and nearbyint rounds ties to even in the default rounding mode.
float round_significand(float x, int bits, int min_exp, float max) {
  if (!std::isfinite(x) || x == 0.0f) return x;
  const float a = std::fabs(x);
  int e = 0;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1): a's leading bit is 2^(e-1)
  const int lead = std::max(e - 1, min_exp);
  const int quantum = lead - (bits - 1);
  const float r = std::ldexp(std::nearbyint(std::ldexp(a, -quantum)), quantum);
  const float out = r > max ? INFINITY : r;
  return std::copysign(out, x);
}

}  // namespace

const char* storage_type_name(StorageType t) {
  switch (t) {
    case StorageType::kFp32: return "fp32";
    case StorageType::kFp16: return "fp16";
    case StorageType::kBf16: return "bf16";
  }
  return "?";
}

float round_to_fp16(float x) { return round_significand(x, 11, -14, 65504.0f); }

float round_to_bf16(float x) { return round_significand(x, 8, -126, std::ldexp(255.0f, 120)); }

float round_to_storage(StorageType t, float x) {
  switch (t) {
    case StorageType::kFp16: return round_to_fp16(x);
    case StorageType::kBf16: return round_to_bf16(x);
    case StorageType::kFp32: break;
  }
  return x;
}

void round_in_place(StorageType t, float* data, size_t n) {
  if (t == StorageType::kFp32) return;
  for (size_t i = 0; i < n; ++i) data[i] = round_to_storage(t, data[i]);
}

}  // namespace resnetrs::cpu
