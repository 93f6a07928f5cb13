// Checks of the arrays given to Engine.__call__ and topk(): every refusal names what was expected.
#pragma once

#include <nanobind/ndarray.h>

#include <cstdint>
#include <string>

namespace resnetrs_py {

namespace nb = nanobind;

// Read-only view of any array nanobind can import (buffer protocol, DLPack, __dlpack__ objects).
using AnyArray = nb::ndarray<nb::ro>;

// Imports `obj` as an array, or raises InvalidArgumentError naming `what` and what is accepted.
AnyArray import_array(nb::handle obj, const char* what);

// "float64", "int32", "bfloat16"...: the numpy-style name of a DLPack dtype.
std::string dtype_name(nb::dlpack::dtype dt);

// Shape as "(2, 3, 224, 224)".
std::string shape_string(const AnyArray& a);

// float32 and C-contiguous (wherever it lives), or InvalidArgumentError naming `what`.
void require_float32_contiguous(const AnyArray& a, const char* what);

// Host memory (DLPack kDLCPU, or pinned kDLCUDAHost), float32 and C-contiguous, or
// InvalidArgumentError naming `what`.
void require_host_float32_contiguous(const AnyArray& a, const char* what);

}  // namespace resnetrs_py
