// One convolution (fixed geometry and batch) through cuDNN's legacy API:
// cudnnConvolutionForward (plain) and cudnnConvolutionBiasActivationForward (fused bias +
// ReLU/identity), plus cudnnFindConvolutionForwardAlgorithmEx and workspace queries.
//
// This header and cudnn_legacy_conv.cpp are the ONLY place that touches the deprecated cuDNN 9
// legacy convolution API (descriptors included); the .cpp silences -Wdeprecated-declarations
// locally. The header exposes no deprecated type.
//
// Conventions: float32 data (or fp16 / bf16 data with fp32 accumulation: cuDNN's PSEUDO_HALF /
// PSEUDO_BFLOAT16 configurations, where the fused call's bias is in the data type and the alpha
// scalars are float), cross-correlation (no kernel flip), symmetric padding, no dilation.
// Layout NCHW (filters OIHW) or NHWC (filters OHWI, i.e. cuDNN's NHWC filter format KRSC).
// The bias descriptor is 1 x cout x 1 x 1 (the same memory in both layouts).
// Thread safety: like the cuDNN handle it was made with (one thread at a time).
#pragma once

#include <cudnn.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cuda/precision_policy.h"
#include "kernels/act_type.cuh"

namespace resnetrs::cuda {

struct ConvGeometry {
  int n = 1, cin = 0, h = 0, w = 0;
  int cout = 0, kernel = 1, stride = 1, pad = 0;
  bool nhwc = false;
  int h_out() const { return (h + 2 * pad - kernel) / stride + 1; }
  int w_out() const { return (w + 2 * pad - kernel) / stride + 1; }
  std::string describe() const;  // e.g. "n3 64x40x40->256 k1s1p0 NCHW"
};

// Mirrors cudnnMathType_t (values static_assert'ed in the .cpp).
enum class ConvMath : int { kDefault = 0, kTensorOp = 1, kTensorOpAllowConversion = 2, kFma = 3 };
const char* conv_math_name(ConvMath m);
bool parse_conv_math(const std::string& name, ConvMath* out);

// cudnnConvolutionFwdAlgo_t values (static_assert'ed in the .cpp).
constexpr int kConvAlgoCount = 8;
constexpr int kAlgoImplicitGemm = 0;
constexpr int kAlgoImplicitPrecompGemm = 1;
const char* conv_algo_name(int algo);
bool parse_conv_algo(const std::string& name, int* out);

struct ConvAlgoPerf {
  int algo = 0;
  ConvMath math = ConvMath::kFma;  // the math type this algorithm must run with
  float find_ms = 0;               // cudnnFind's time
  size_t workspace = 0;
};

class LegacyConv {
 public:
  // strict_fp32: descriptor math CUDNN_FMA_MATH and every algorithm runs with FMA math (no TF32);
  // otherwise CUDNN_TENSOR_OP_MATH (TF32 allowed) and each algorithm runs with the math type Find
  // reported. Throws Error on an invalid geometry or any cuDNN failure.
  LegacyConv(cudnnHandle_t handle, const ConvGeometry& geometry, bool strict_fp32);
  // Any data type: x, w, y (and the fused call's bias) in `data`, fp32 accumulation; math by
  // `rule` (kStrictFma is what strict_fp32 = true means).
  LegacyConv(cudnnHandle_t handle, const ConvGeometry& geometry, ConvMathRule rule, kernels::ActType data);
  ~LegacyConv();
  LegacyConv(LegacyConv&&) noexcept;
  LegacyConv& operator=(LegacyConv&&) noexcept;
  LegacyConv(const LegacyConv&) = delete;
  LegacyConv& operator=(const LegacyConv&) = delete;

  const ConvGeometry& geometry() const;
  bool strict_fp32() const;
  kernels::ActType data_type() const;
  // The math type a plain default candidate runs with: kFma (strict) or kTensorOp.
  ConvMath default_math() const;

  // cudnnFindConvolutionForwardAlgorithmEx on the handle's current stream (blocking). x, w, y
  // must be device buffers of this geometry (y is overwritten). Keeps the results that succeeded
  // within ws_bytes; strict mode maps each to FMA math (an algorithm cuDNN then refuses with FMA
  // is dropped). One entry per (algo, math), fastest first.
  std::vector<ConvAlgoPerf> find(const void* x, const void* w, void* y, void* ws, size_t ws_bytes);

  // Workspace (algo, math) needs; returns the cuDNN status instead of throwing (an unsupported
  // algorithm is an answer here, not an error).
  cudnnStatus_t workspace_size(int algo, ConvMath math, size_t* bytes);

  // y = conv(x, w): cudnnConvolutionForward with beta = 0. Returns the status (no throw).
  cudnnStatus_t try_forward(int algo, ConvMath math, const void* x, const void* w, void* y, void* ws,
                            size_t ws_bytes);
  // y = act(conv(x, w) + bias), act = ReLU or identity: cudnnConvolutionBiasActivationForward
  // with alpha2 = 0 and z = y. Identity requires IMPLICIT_PRECOMP_GEMM (cuDNN's rule); any other
  // algorithm with identity returns CUDNN_STATUS_NOT_SUPPORTED without calling cuDNN.
  // `bias` is in the data type (fp32 for float data, fp16 / bf16 for 16-bit data).
  cudnnStatus_t try_forward_fused(int algo, ConvMath math, bool relu, const void* x, const void* w, const void* bias,
                                  void* y, void* ws, size_t ws_bytes);

  // Throwing forms: Error(kCudnnError) naming the geometry, algorithm, math and call.
  void forward(int algo, ConvMath math, const void* x, const void* w, void* y, void* ws, size_t ws_bytes);
  void forward_fused(int algo, ConvMath math, bool relu, const void* x, const void* w, const void* bias, void* y,
                     void* ws, size_t ws_bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace resnetrs::cuda
