// Internals shared by the extern "C" functions of libresnetrs: the thread-local last error, the
// mapping of internal statuses to C ones, and guarded(), which keeps every exception inside.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "common/error.h"
#include "resnetrs/resnetrs.h"

namespace resnetrs::capi {

// Empties this thread's last error (every fallible call starts with it).
void clear_last_error() noexcept;

// Stores "<function>: <message>" as this thread's last error and returns `status`. Never throws:
// if the message cannot be stored, a fixed one stands in for it.
resnetrs_status_t fail(const char* function, resnetrs_status_t status, const char* message) noexcept;

resnetrs_status_t to_c_status(Status status) noexcept;

// Runs `body` and turns its outcome into a status: OK, or the status and message of whatever it
// threw. The body of every fallible extern "C" function goes through here.
template <typename Body>
resnetrs_status_t guarded(const char* function, Body&& body) noexcept {
  clear_last_error();
  try {
    body();
    return RESNETRS_STATUS_OK;
  } catch (const Error& e) {
    return fail(function, to_c_status(e.status()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(function, RESNETRS_STATUS_OUT_OF_MEMORY, "out of host memory");
  } catch (const std::exception& e) {
    return fail(function, RESNETRS_STATUS_INTERNAL, (std::string("unexpected exception: ") + e.what()).c_str());
  } catch (...) {
    return fail(function, RESNETRS_STATUS_INTERNAL, "unexpected exception of unknown type");
  }
}

// The C API's names for the enum values, for messages.
const char* backend_c_name(int32_t backend) noexcept;

}  // namespace resnetrs::capi
