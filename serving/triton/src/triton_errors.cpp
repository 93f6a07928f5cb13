#include "triton_errors.h"

#include "common/utf8_text.h"

namespace resnetrs_triton {

TRITONSERVER_Error* BackendError::to_triton() const {
  // The server puts it in JSON and gRPC replies: quoted paths and file bytes must be valid UTF-8.
  return TRITONSERVER_ErrorNew(code_, resnetrs::valid_utf8("resnetrs backend: " + message_).c_str());
}

void throw_if_error(TRITONSERVER_Error* err, const char* what) {
  if (err == nullptr) return;
  const TRITONSERVER_Error_Code code = TRITONSERVER_ErrorCode(err);
  std::string message = std::string(what) + ": " + TRITONSERVER_ErrorMessage(err);
  TRITONSERVER_ErrorDelete(err);
  throw BackendError(code, std::move(message));
}

void log(TRITONSERVER_LogLevel level, const char* file, int line, const std::string& message) {
  TRITONSERVER_Error* err = TRITONSERVER_LogMessage(level, file, line, resnetrs::valid_utf8(message).c_str());
  if (err != nullptr) TRITONSERVER_ErrorDelete(err);  // logging must never fail a request
}

}  // namespace resnetrs_triton
