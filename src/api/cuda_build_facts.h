// The CUDA, cuDNN and cuBLAS versions of resnetrs_get_build_info: from the libraries in a CUDA
// build (cuda_build_facts.cpp), all 0 in a CPU-only build (no_cuda.cpp).
#pragma once

#include "resnetrs/resnetrs.h"

namespace resnetrs::capi {

// Sets cuda_runtime_version, cuda_driver_version, cudnn_version_compiled, cudnn_version_runtime
// and cublas_version_runtime. Never throws; needs no GPU.
void fill_cuda_build_facts(resnetrs_build_info_t& b) noexcept;

}  // namespace resnetrs::capi
