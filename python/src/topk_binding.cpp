// resnetrs._core.topk: resnetrs_topk (the k most likely classes with softmax probabilities).
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>

#include <memory>
#include <string>
#include <utility>

#include "bindings.h"
#include "input_checks.h"

namespace resnetrs_py {
namespace {

template <typename T>
nb::ndarray<nb::numpy, T, nb::ndim<2>> owned_2d(std::unique_ptr<T[]> data, size_t rows, size_t cols) {
  T* p = data.release();
  nb::capsule owner(p, [](void* q) noexcept { delete[] static_cast<T*>(q); });
  return nb::ndarray<nb::numpy, T, nb::ndim<2>>(p, {rows, cols}, owner);
}

std::pair<nb::ndarray<nb::numpy, int32_t, nb::ndim<2>>, nb::ndarray<nb::numpy, float, nb::ndim<2>>> topk(nb::handle obj,
                                                                                                         int k) {
  const AnyArray logits = import_array(obj, "logits");
  require_host_float32_contiguous(logits, "logits");
  if (logits.ndim() != 2) {
    raise_invalid("logits has shape " + shape_string(logits) + ", expected [batch, classes] (2-d)");
  }
  const size_t batch = logits.shape(0), classes = logits.shape(1);
  if (batch < 1 || batch > size_t(INT32_MAX) || classes < 1 || classes > size_t(INT32_MAX)) {
    raise_invalid("logits has shape " + shape_string(logits) + ", expected at least one row and one class");
  }
  if (k < 1 || size_t(k) > classes) {
    raise_invalid("k is " + std::to_string(k) + ", expected 1.." + std::to_string(classes) + " (the number of classes)");
  }
  auto indices = std::make_unique<int32_t[]>(batch * size_t(k));
  auto probs = std::make_unique<float[]>(batch * size_t(k));
  check(resnetrs_topk(static_cast<const float*>(logits.data()), int32_t(batch), int32_t(classes), k, indices.get(),
                      probs.get()));
  return {owned_2d(std::move(indices), batch, size_t(k)), owned_2d(std::move(probs), batch, size_t(k))};
}

}  // namespace

void bind_topk(nb::module_& m) {
  m.def("topk", &topk, nb::arg("logits"), nb::arg("k") = 5,
        nb::sig("def topk(logits: numpy.typing.ArrayLike, k: int = 5) -> tuple[numpy.typing.NDArray[numpy.int32], "
                "numpy.typing.NDArray[numpy.float32]]"),
        "The k most likely classes of each row of logits [N, classes] (float32), best first (ties: lower index\n"
        "first): (indices int32 [N, k], softmax probabilities float32 [N, k]), by resnetrs_topk of the C API.");
}

}  // namespace resnetrs_py
