// The parts of the extension module resnetrs._core, each registered by one function. The binding
// uses the public C API (resnetrs/resnetrs.h) only: no C++ internals of the library.
#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include <resnetrs/resnetrs.h>

namespace resnetrs_py {

namespace nb = nanobind;

void bind_status(nb::module_& m);   // status names, version, build info
void bind_engine(nb::module_& m);   // class Engine
void bind_topk(nb::module_& m);     // topk()
void bind_images(nb::module_& m);   // load_image() when the library has image decoding
void bind_weights(nb::module_& m);  // weights_info()

// Raises the resnetrs.errors class of `status` (resnetrs.Error and its subclasses) with `message`.
[[noreturn]] void raise_status(int status, const std::string& message);

// Raises the class of a failed C call with the library's message (resnetrs_last_error of this
// thread). Call it on the thread that made the failed call, before any other resnetrs_* call.
inline void check(resnetrs_status_t status) {
  if (status != RESNETRS_STATUS_OK) raise_status(status, resnetrs_last_error());
}

// INVALID_ARGUMENT raised by the binding itself (wrong dtype, shape, option value...).
[[noreturn]] inline void raise_invalid(const std::string& message) {
  raise_status(RESNETRS_STATUS_INVALID_ARGUMENT, message);
}

}  // namespace resnetrs_py
