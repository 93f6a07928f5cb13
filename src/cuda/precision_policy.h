// The CUDA engine's numeric policy, chosen once when the engine is built (docs/cuda-engine.md,
// "Precision policy"): what the activations are stored in, how cuDNN computes convolutions,
// which convolutions go through the CUTLASS 3xTF32 kernels, what cuBLAS may use for the head,
// and which devices can run it. The engine reads the policy; it does not branch on Precision.
//
// Host only (no CUDA calls): the selection and its refusals are tested without a GPU
// (tests/cuda_host/test_precision_policy.cpp).
#pragma once

#include <string>

#include "engine/engine.h"
#include "kernels/act_type.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::cuda {

// Which cuDNN math types a convolution may run with.
enum class ConvMathRule {
  kStrictFma,  // CUDNN_FMA_MATH only: no TF32, no down-conversion (strict fp32)
  kTensorOp,   // CUDNN_TENSOR_OP_MATH for Find; each algorithm with the math Find reported
               // (DEFAULT / TENSOR_OP / FMA; never TENSOR_OP_ALLOW_CONVERSION)
};

struct PrecisionPolicy {
  Precision precision = Precision::kFp32;
  // The tuning cache's precision field (fp32 and tf32 keep the keys they had before the policy).
  const char* cache_name = "fp32";

  // Activations between layers and the convolution filters: fp32, or 16-bit storage (fp16/bf16:
  // x, w, y of every cuDNN convolution in that type; cuDNN's PSEUDO_HALF / PSEUDO_BFLOAT16
  // configuration: fp32 accumulation, the fused call's bias in the same 16-bit type, alpha
  // scalars in float). Biases for our kernels, SE vectors, pooled features and logits stay fp32.
  kernels::ActType act = kernels::ActType::kF32;
  int act_bytes = 4;

  ConvMathRule conv_math = ConvMathRule::kStrictFma;
  // fp32x3: convolutions through resnetrs_cutlass (3xTF32) wherever it can implement the shape;
  // the others (the 3-channel stem conv) through cuDNN with conv_math.
  bool cutlass_convs = false;
  // The head GEMM: CUBLAS_TF32_TENSOR_OP_MATH when true, CUBLAS_DEFAULT_MATH (strict) otherwise.
  bool cublas_tf32 = false;

  kernels::TensorLayout default_layout = kernels::TensorLayout::kNCHW;
  bool nchw_allowed = true;  // false: a forced NCHW layout is refused (CUTLASS reads NHWC only)

  // Oldest compute capability that runs it (major * 10 + minor); 0: any the build runs on.
  int min_sm = 0;
  const char* min_sm_reason = "";
};

// The policy of `precision`. Error(kInvalidArgument) for an unknown value.
PrecisionPolicy precision_policy(Precision precision);

// The policy for a device of compute capability cc_major.cc_minor: Error(kUnsupportedDevice)
// naming the precision, the device's sm and the reason when it is older than min_sm.
PrecisionPolicy select_precision_policy(Precision precision, int cc_major, int cc_minor);

// The activation layout the engine uses under `policy` for a layout request (kAuto: the policy's
// default). Error(kInvalidArgument) when the policy cannot run the requested layout.
enum class LayoutRequest { kAuto, kNCHW, kNHWC };
kernels::TensorLayout choose_layout(const PrecisionPolicy& policy, LayoutRequest request);

// One line for logs, e.g. "fp16: activations f16 NHWC, cuDNN tensor-op math, fp32 accumulation".
std::string describe(const PrecisionPolicy& policy);

}  // namespace resnetrs::cuda
