#include "input_checks.h"

#include "bindings.h"
#include "device_policy.h"

namespace resnetrs_py {

AnyArray import_array(nb::handle obj, const char* what) {
  AnyArray a;
  // No implicit conversion: a float64 array or a list is refused with a message below, not copied.
  if (!nb::try_cast<AnyArray>(obj, a, /*convert=*/false)) {
    raise_invalid(std::string(what) + " must be an array (numpy, or any object with __dlpack__ or the buffer protocol); got " +
                  nb::type_name(obj.type()).c_str());
  }
  return a;
}

std::string dtype_name(nb::dlpack::dtype dt) {
  std::string base;
  switch (nb::dlpack::dtype_code(dt.code)) {
    case nb::dlpack::dtype_code::Int: base = "int"; break;
    case nb::dlpack::dtype_code::UInt: base = "uint"; break;
    case nb::dlpack::dtype_code::Float: base = "float"; break;
    case nb::dlpack::dtype_code::Bfloat: base = "bfloat"; break;
    case nb::dlpack::dtype_code::Complex: base = "complex"; break;
    case nb::dlpack::dtype_code::Bool: return "bool";
    default: base = "dtype" + std::to_string(int(dt.code)) + "_"; break;
  }
  std::string name = base + std::to_string(int(dt.bits));
  if (dt.lanes != 1) name += "x" + std::to_string(int(dt.lanes));
  return name;
}

std::string shape_string(const AnyArray& a) {
  std::string s = "(";
  for (size_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  if (a.ndim() == 1) s += ",";
  return s + ")";
}

namespace {

bool c_contiguous(const AnyArray& a) {
  if (a.size() == 0) return true;  // an empty array has no layout (its batch is refused later)
  int64_t expected = 1;  // strides are in elements
  for (size_t i = a.ndim(); i-- > 0;) {
    if (a.shape(i) != 1 && a.stride(i) != expected) return false;
    expected *= int64_t(a.shape(i));
  }
  return true;
}

}  // namespace

void require_float32_contiguous(const AnyArray& a, const char* what) {
  if (a.dtype() != nb::dtype<float>()) {
    raise_invalid(std::string(what) + " has dtype " + dtype_name(a.dtype()) +
                  ", expected float32 (convert with x.astype(numpy.float32), or tensor.float())");
  }
  if (!c_contiguous(a)) {
    raise_invalid(std::string(what) + " of shape " + shape_string(a) +
                  " is not C-contiguous (row-major); expected a contiguous array (use numpy.ascontiguousarray(x), "
                  "or tensor.contiguous())");
  }
}

void require_host_float32_contiguous(const AnyArray& a, const char* what) {
  if (a.device_type() != kDLCPU && a.device_type() != kDLCUDAHost) {
    raise_invalid(std::string(what) + " is on " + dl_device_string(a.device_type(), a.device_id()) +
                  ": expected host memory (a numpy array, or tensor.cpu())");
  }
  require_float32_contiguous(a, what);
}

}  // namespace resnetrs_py
