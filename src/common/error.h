// Error type used inside the library: every failure is thrown as resnetrs::Error carrying a
// Status (the same categories the C API returns) and a message that names what was wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace resnetrs {

// Mirrors resnetrs_status_t of the C API (same order, same meaning).
enum class Status {
  kOk = 0,
  kInvalidArgument,
  kIoError,
  kWeightsInvalid,
  kOutOfMemory,
  kNoDevice,
  kUnsupportedDevice,
  kCudaError,
  kCudnnError,
  kCublasError,
  kInternal,
  kImageInvalid,  // an image that cannot be decoded or is out of the accepted limits
};

const char* status_name(Status s) noexcept;

class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message) : std::runtime_error(message), m_status(status) {}
  Status status() const noexcept { return m_status; }

 private:
  Status m_status;
};

[[noreturn]] inline void throw_error(Status status, const std::string& message) { throw Error(status, message); }

// Argument check that throws kInvalidArgument naming the failed condition and a message.
#define RESNETRS_CHECK_ARG(cond, msg)                                                              \
  do {                                                                                             \
    if (!(cond)) ::resnetrs::throw_error(::resnetrs::Status::kInvalidArgument, std::string(msg)); \
  } while (0)

}  // namespace resnetrs
