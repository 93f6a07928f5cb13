#include "triton_errors.h"

namespace resnetrs_triton {

TRITONSERVER_Error* BackendError::to_triton() const {
  return TRITONSERVER_ErrorNew(code_, ("resnetrs backend: " + message_).c_str());
}

void throw_if_error(TRITONSERVER_Error* err, const char* what) {
  if (err == nullptr) return;
  const TRITONSERVER_Error_Code code = TRITONSERVER_ErrorCode(err);
  std::string message = std::string(what) + ": " + TRITONSERVER_ErrorMessage(err);
  TRITONSERVER_ErrorDelete(err);
  throw BackendError(code, std::move(message));
}

void log(TRITONSERVER_LogLevel level, const char* file, int line, const std::string& message) {
  TRITONSERVER_Error* err = TRITONSERVER_LogMessage(level, file, line, message.c_str());
  if (err != nullptr) TRITONSERVER_ErrorDelete(err);  // logging must never fail a request
}

}  // namespace resnetrs_triton
