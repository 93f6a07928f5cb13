#include "engine/gpu_gate.h"

#include "build_info.h"
#include "common/error.h"

namespace resnetrs {

bool unverified_gpu_enabled() noexcept { return RESNETRS_BUILD_UNVERIFIED_GPU != 0; }

void require_unverified_gpu(const std::string& feature) {
  if (unverified_gpu_enabled()) return;
  throw_error(Status::kInvalidArgument,
              feature + " is written but has not yet passed its check on a GPU, so this libresnetrs does not offer it "
                        "(it was built with RESNETRS_UNVERIFIED_GPU=OFF, the default; a build configured with "
                        "-DRESNETRS_UNVERIFIED_GPU=ON runs it unverified: docs/cuda-engine.md, \"Unverified GPU features\")");
}

bool precision_is_unverified_on_gpu(Precision precision) noexcept {
  return precision == Precision::kFp16 || precision == Precision::kBf16 || precision == Precision::kFp32x3;
}

void require_cuda_precision_available(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
    case Precision::kTf32: return;
    case Precision::kFp16:
    case Precision::kBf16:
    case Precision::kFp32x3:
      require_unverified_gpu(std::string("precision ") + precision_name(precision) + " on the CUDA backend");
      return;
  }
  throw_error(Status::kInvalidArgument, "unknown precision " + std::to_string(int(precision)));
}

}  // namespace resnetrs
