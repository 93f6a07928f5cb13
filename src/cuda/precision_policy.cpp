#include "cuda/precision_policy.h"

#include "common/error.h"

namespace resnetrs::cuda {

using kernels::ActType;
using kernels::TensorLayout;

PrecisionPolicy precision_policy(Precision precision) {
  PrecisionPolicy p;
  p.precision = precision;
  switch (precision) {
    case Precision::kFp32:
      // Measured on the H200 (docs/device-notes.md): strict fp32 is faster in NCHW.
      p.cache_name = "fp32";
      return p;
    case Precision::kTf32:
      p.cache_name = "tf32";
      p.conv_math = ConvMathRule::kTensorOp;
      p.cublas_tf32 = true;
      p.default_layout = TensorLayout::kNHWC;
      return p;
    case Precision::kFp16:
    case Precision::kBf16:
      p.cache_name = precision == Precision::kFp16 ? "fp16" : "bf16";
      p.act = precision == Precision::kFp16 ? ActType::kF16 : ActType::kBF16;
      p.act_bytes = 2;
      p.conv_math = ConvMathRule::kTensorOp;
      // The head is one small GEMM on fp32 pooled features: strict, so the logits carry only
      // the error of 16-bit storage (what the CPU emulation measures).
      p.cublas_tf32 = false;
      p.default_layout = TensorLayout::kNHWC;  // tensor-core convolutions want channels last
      if (precision == Precision::kFp16) {
        p.min_sm = 70;
        p.min_sm_reason = "fp16 tensor cores start with sm_70";
      } else {
        p.min_sm = 80;
        p.min_sm_reason = "bf16 tensor cores start with sm_80 (sm_70 and sm_75 have none)";
      }
      return p;
    case Precision::kFp32x3:
      p.cache_name = "fp32x3";
      p.cutlass_convs = true;
      p.conv_math = ConvMathRule::kStrictFma;  // the convolutions CUTLASS cannot run
      p.default_layout = TensorLayout::kNHWC;
      p.nchw_allowed = false;
      p.min_sm = 80;
      p.min_sm_reason = "the 3xTF32 kernels need TF32 tensor cores (sm_80 and newer)";
      return p;
  }
  throw_error(Status::kInvalidArgument, "unknown precision " + std::to_string(int(precision)));
}

PrecisionPolicy select_precision_policy(Precision precision, int cc_major, int cc_minor) {
  PrecisionPolicy p = precision_policy(precision);
  const int sm = cc_major * 10 + cc_minor;
  if (sm < p.min_sm) {
    throw_error(Status::kUnsupportedDevice, std::string("precision ") + precision_name(precision) +
                                                " needs a GPU of compute capability " + std::to_string(p.min_sm / 10) +
                                                "." + std::to_string(p.min_sm % 10) + " or newer; this one is sm_" +
                                                std::to_string(sm) + " (" + p.min_sm_reason + ")");
  }
  return p;
}

TensorLayout choose_layout(const PrecisionPolicy& policy, LayoutRequest request) {
  switch (request) {
    case LayoutRequest::kNHWC: return TensorLayout::kNHWC;
    case LayoutRequest::kNCHW:
      if (!policy.nchw_allowed) {
        throw_error(Status::kInvalidArgument, std::string("precision ") + precision_name(policy.precision) +
                                                  " runs NHWC activations only (its CUTLASS kernels read NHWC); "
                                                  "RESNETRS_CUDA_LAYOUT=nchw cannot be used with it");
      }
      return TensorLayout::kNCHW;
    case LayoutRequest::kAuto: break;
  }
  return policy.default_layout;
}

std::string describe(const PrecisionPolicy& p) {
  std::string s = std::string(precision_name(p.precision)) + ": activations " + kernels::act_type_name(p.act) + ", cuDNN " +
                  (p.conv_math == ConvMathRule::kStrictFma ? "FMA math" : "tensor-op math") + ", fp32 accumulation";
  if (p.cutlass_convs) s += ", CUTLASS 3xTF32 convolutions where they apply";
  s += std::string(", head GEMM ") + (p.cublas_tf32 ? "TF32" : "strict fp32");
  if (p.min_sm > 0) s += ", sm_" + std::to_string(p.min_sm) + "+";
  return s;
}

}  // namespace resnetrs::cuda
