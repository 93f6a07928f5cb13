// Errors inside the backend are exceptions (BackendError: a Triton error code and a message);
// every TRITONBACKEND_* entry point converts them to a TRITONSERVER_Error* at the boundary, and
// every Triton call whose error we cannot hand back is checked through throw_if_error().
#pragma once

#include <string>

#include <triton/core/tritonserver.h>

namespace resnetrs_triton {

class BackendError {
 public:
  BackendError(TRITONSERVER_Error_Code code, std::string message) : code_(code), message_(std::move(message)) {}
  TRITONSERVER_Error_Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // A new TRITONSERVER_Error owned by the caller, the message prefixed with the backend's name.
  TRITONSERVER_Error* to_triton() const;

 private:
  TRITONSERVER_Error_Code code_;
  std::string message_;
};

[[noreturn]] inline void fail(TRITONSERVER_Error_Code code, std::string message) {
  throw BackendError(code, std::move(message));
}
[[noreturn]] inline void invalid(std::string message) { fail(TRITONSERVER_ERROR_INVALID_ARG, std::move(message)); }

// Takes ownership of `err`: nothing when null, else throws its code and `what` + its message.
void throw_if_error(TRITONSERVER_Error* err, const char* what);

// Logs through the server's log (the messages appear in tritonserver's output with our file/line).
void log(TRITONSERVER_LogLevel level, const char* file, int line, const std::string& message);
#define RESNETRS_TRITON_LOG(level, msg) ::resnetrs_triton::log((level), __FILE__, __LINE__, (msg))

// Runs `body` and converts a BackendError or any other exception to a TRITONSERVER_Error*
// (nullptr on success): no C++ exception crosses into the server.
template <class F>
TRITONSERVER_Error* guarded(F&& body) noexcept {
  try {
    body();
    return nullptr;
  } catch (const BackendError& e) {
    return e.to_triton();
  } catch (const std::exception& e) {
    return BackendError(TRITONSERVER_ERROR_INTERNAL, std::string("unexpected error: ") + e.what()).to_triton();
  } catch (...) {
    return BackendError(TRITONSERVER_ERROR_INTERNAL, "unexpected non-standard exception").to_triton();
  }
}

}  // namespace resnetrs_triton
