// Layout tag shared by the kernel launchers and the engine. Host-only header (no device code),
// so plain C++ translation units can include every launcher header.
//   kNCHW: element (n, c, y, x) at ((n * C + c) * H + y) * W + x
//   kNHWC: element (n, c, y, x) at ((n * H + y) * W + x) * C + c
#pragma once

namespace resnetrs::kernels {

enum class TensorLayout { kNCHW, kNHWC };

inline const char* tensor_layout_name(TensorLayout l) { return l == TensorLayout::kNCHW ? "NCHW" : "NHWC"; }

}  // namespace resnetrs::kernels
