// Conversion of the C options struct into the C++ EngineOptions, with every check the C API
// promises (struct_size, API version, enum values, ranges) made before any weights are loaded.
#pragma once

#include "engine/engine.h"
#include "resnetrs/resnetrs.h"

namespace resnetrs::capi {

// The versions of the API a caller may have compiled against (only 1 so far).
constexpr uint32_t kOldestApiVersion = 1;

// Throws Error(kInvalidArgument) unless a header with `api_version` and a struct of
// `struct_size` bytes matches this library.
void check_options_abi(uint32_t api_version, size_t struct_size);

// Validates *options and converts it. Throws Error(kInvalidArgument) naming the field.
EngineOptions to_engine_options(const resnetrs_options_t* options);

}  // namespace resnetrs::capi
