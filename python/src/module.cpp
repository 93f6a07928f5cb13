// The extension module resnetrs._core (nanobind) over the public C API of libresnetrs.
#include "bindings.h"

NB_MODULE(_core, m) {
  m.doc() = "Binding of libresnetrs's C API (include/resnetrs/resnetrs.h); use it through the resnetrs package.";
  resnetrs_py::bind_status(m);
  resnetrs_py::bind_engine(m);
  resnetrs_py::bind_topk(m);
  resnetrs_py::bind_images(m);
  resnetrs_py::bind_weights(m);
}
