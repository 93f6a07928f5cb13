// Status strings and the thread-local last error of the C API.
#include <cstdio>
#include <string>

#include "c_api_internal.h"
#include "common/utf8_text.h"

namespace resnetrs::capi {
namespace {

// One message per thread: calls on different threads never see each other's errors.
thread_local std::string t_last_error;
// Used when storing the real message failed (out of memory): always valid, never freed.
thread_local const char* t_fixed_error = nullptr;

}  // namespace

// The C enum and resnetrs::Status must stay in the same order (error.h says so; check it here).
static_assert(int(Status::kOk) == RESNETRS_STATUS_OK, "status order");
static_assert(int(Status::kInvalidArgument) == RESNETRS_STATUS_INVALID_ARGUMENT, "status order");
static_assert(int(Status::kIoError) == RESNETRS_STATUS_IO_ERROR, "status order");
static_assert(int(Status::kWeightsInvalid) == RESNETRS_STATUS_WEIGHTS_INVALID, "status order");
static_assert(int(Status::kOutOfMemory) == RESNETRS_STATUS_OUT_OF_MEMORY, "status order");
static_assert(int(Status::kNoDevice) == RESNETRS_STATUS_NO_DEVICE, "status order");
static_assert(int(Status::kUnsupportedDevice) == RESNETRS_STATUS_UNSUPPORTED_DEVICE, "status order");
static_assert(int(Status::kCudaError) == RESNETRS_STATUS_CUDA_ERROR, "status order");
static_assert(int(Status::kCudnnError) == RESNETRS_STATUS_CUDNN_ERROR, "status order");
static_assert(int(Status::kCublasError) == RESNETRS_STATUS_CUBLAS_ERROR, "status order");
static_assert(int(Status::kInternal) == RESNETRS_STATUS_INTERNAL, "status order");
static_assert(int(Status::kImageInvalid) == RESNETRS_STATUS_IMAGE_INVALID, "status order");

void clear_last_error() noexcept {
  t_last_error.clear();  // clear() keeps the capacity: no allocation, cannot throw
  t_fixed_error = nullptr;
}

resnetrs_status_t fail(const char* function, resnetrs_status_t status, const char* message) noexcept {
  try {
    // Messages quote paths and bytes of files: a caller decoding it as UTF-8 (Python) must be able to.
    t_last_error = valid_utf8(std::string(function) + ": " + (message ? message : ""));
    t_fixed_error = nullptr;
  } catch (...) {
    t_fixed_error = "out of host memory while recording the error message";
  }
  return status;
}

resnetrs_status_t to_c_status(Status status) noexcept {
  const int s = int(status);
  return s >= RESNETRS_STATUS_OK && s <= RESNETRS_STATUS_IMAGE_INVALID ? resnetrs_status_t(s) : RESNETRS_STATUS_INTERNAL;
}

const char* backend_c_name(int32_t backend) noexcept {
  return backend == RESNETRS_BACKEND_CPU ? "RESNETRS_BACKEND_CPU" : "RESNETRS_BACKEND_CUDA";
}

}  // namespace resnetrs::capi

const char* resnetrs_status_string(resnetrs_status_t status) {
  const int s = int(status);
  if (s < RESNETRS_STATUS_OK || s > RESNETRS_STATUS_IMAGE_INVALID) return "UNKNOWN_STATUS";
  return resnetrs::status_name(resnetrs::Status(s));
}

const char* resnetrs_last_error(void) {
  using namespace resnetrs::capi;
  return t_fixed_error ? t_fixed_error : t_last_error.c_str();
}
