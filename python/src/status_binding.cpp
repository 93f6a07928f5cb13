// C statuses -> Python exceptions, and the library's version and build facts.
#include <nanobind/stl/string.h>

#include "bindings.h"

namespace resnetrs_py {

void raise_status(int status, const std::string& message) {
  // The classes live in resnetrs/errors.py (one per status, all under resnetrs.Error). Looked up
  // at raise time so that the module also imports on its own (nanobind's stub generator).
  nb::object cls;
  try {
    cls = nb::module_::import_("resnetrs.errors").attr("error_class")(status);
  } catch (const nb::python_error&) {
    cls = nb::borrow(PyExc_RuntimeError);
  }
  // The library's messages are valid UTF-8 (its C boundary escapes other bytes); the binding's own
  // may quote a path given as bytes. Decoding never fails: a stray byte becomes \xNN, never
  // nanobind's "conversion error" in place of the error being raised.
  PyObject* text = PyUnicode_DecodeUTF8(message.data(), Py_ssize_t(message.size()), "backslashreplace");
  if (text == nullptr) {
    PyErr_Clear();
    text = PyUnicode_FromString("(an error message that could not be decoded)");
  }
  PyErr_SetObject(cls.ptr(), text);
  Py_XDECREF(text);
  throw nb::python_error();
}

void bind_status(nb::module_& m) {
  m.def("status_string", [](int status) { return std::string(resnetrs_status_string(resnetrs_status_t(status))); },
        nb::arg("status"), "The C API's name of a status code, e.g. 'INVALID_ARGUMENT'.");
  m.def("library_version", [] { return std::string(resnetrs_version()); },
        "Version of the loaded libresnetrs, 'MAJOR.MINOR.PATCH'.");
  m.def("api_version", [] { return resnetrs_api_version(); }, "RESNETRS_API_VERSION of the loaded libresnetrs.");
  m.attr("HEADER_API_VERSION") = RESNETRS_API_VERSION;
  m.def(
      "build_info",
      [] {
        resnetrs_build_info_t b{};
        b.struct_size = sizeof(b);
        check(resnetrs_get_build_info(&b));
        nb::dict d;
        d["version"] = b.version;
        d["git_commit"] = b.git_commit;
        d["build_type"] = b.build_type;
        d["cuda_architectures"] = b.cuda_architectures;
        d["cxx_flags"] = b.cxx_flags;
        d["cuda_flags"] = b.cuda_flags;
        d["compiler"] = b.compiler;
        d["api_version"] = b.api_version;
        d["cuda_runtime_version"] = b.cuda_runtime_version;
        d["cuda_driver_version"] = b.cuda_driver_version;
        d["cudnn_version_compiled"] = b.cudnn_version_compiled;
        d["cudnn_version_runtime"] = b.cudnn_version_runtime;
        d["cublas_version_runtime"] = b.cublas_version_runtime;
        return d;
      },
      "Facts about the loaded libresnetrs and the CUDA libraries it runs with (resnetrs_get_build_info).");
}

}  // namespace resnetrs_py
