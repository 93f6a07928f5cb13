// Rounding float32 values to a 16-bit storage type and back (issue 12 item 2: the CPU emulation
// of fp16/bf16 storage, which says what accuracy the GPU's 16-bit modes should reach).
// Round to nearest, ties to even, as the GPU's __float2half_rn / __float2bfloat16_rn do:
//   fp16: 11 significant bits, normal from 2^-14, subnormal quantum 2^-24, max 65504, above it
//         (from 65520) +-inf;
//   bf16: 8 significant bits, float32's exponent range (subnormal quantum 2^-133), max
//         (2 - 2^-7) * 2^127, above it +-inf.
// NaN stays NaN, +-inf and +-0 stay as they are. Plain C++ (no intrinsics, no tables).
#pragma once

#include <cstddef>

namespace resnetrs::cpu {

enum class StorageType { kFp32, kFp16, kBf16 };
const char* storage_type_name(StorageType t);

float round_to_fp16(float x);
float round_to_bf16(float x);
float round_to_storage(StorageType t, float x);

// Rounds n values in place (kFp32: unchanged).
void round_in_place(StorageType t, float* data, size_t n);

}  // namespace resnetrs::cpu
