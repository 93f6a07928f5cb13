#include "common/error.h"

namespace resnetrs {

const char* status_name(Status s) noexcept {
  switch (s) {
    case Status::kOk: return "OK";
    case Status::kInvalidArgument: return "INVALID_ARGUMENT";
    case Status::kIoError: return "IO_ERROR";
    case Status::kWeightsInvalid: return "WEIGHTS_INVALID";
    case Status::kOutOfMemory: return "OUT_OF_MEMORY";
    case Status::kNoDevice: return "NO_DEVICE";
    case Status::kUnsupportedDevice: return "UNSUPPORTED_DEVICE";
    case Status::kCudaError: return "CUDA_ERROR";
    case Status::kCudnnError: return "CUDNN_ERROR";
    case Status::kCublasError: return "CUBLAS_ERROR";
    case Status::kInternal: return "INTERNAL";
    case Status::kImageInvalid: return "IMAGE_INVALID";
  }
  return "UNKNOWN";
}

}  // namespace resnetrs
