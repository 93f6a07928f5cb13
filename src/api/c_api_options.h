// Conversion of the C options struct into the C++ EngineOptions, with every check the C API
// promises (struct_size, API version, enum values, ranges) made before any weights are loaded.
#pragma once

#include <cstddef>

#include "engine/engine.h"
#include "resnetrs/resnetrs.h"

namespace resnetrs::capi {

// The oldest API version a caller may have compiled against.
constexpr uint32_t kOldestApiVersion = 1;
// API version 4 appended cpu_threads and cpu_winograd to resnetrs_options_t; versions 1-3 share
// the struct that ends before them.
constexpr uint32_t kCpuOptionsApiVersion = 4;
constexpr size_t kOptionsSizeV1 = offsetof(resnetrs_options_t, cpu_threads);

// The sizeof(resnetrs_options_t) of a header with `api_version` (kOldestApiVersion..RESNETRS_API_VERSION).
size_t options_size_of_api(uint32_t api_version);

// Throws Error(kInvalidArgument) unless a header with `api_version` and a struct of
// `struct_size` bytes matches this library.
void check_options_abi(uint32_t api_version, size_t struct_size);

// Validates *options and converts it. Throws Error(kInvalidArgument) naming the field.
EngineOptions to_engine_options(const resnetrs_options_t* options);

}  // namespace resnetrs::capi
