// One convolution (fixed geometry and batch) through cuDNN's legacy API:
// cudnnConvolutionForward (plain) and cudnnConvolutionBiasActivationForward (fused bias +
// ReLU/identity), plus cudnnFindConvolutionForwardAlgorithmEx and workspace queries.
//
// This header and cudnn_legacy_conv.cpp are the ONLY place that touches the deprecated cuDNN 9
// legacy convolution API (descriptors included); the .cpp silences -Wdeprecated-declarations
// locally. The header exposes no deprecated type.
//
// Conventions: float32 data, cross-correlation (no kernel flip), symmetric padding, no dilation.
// Layout NCHW (filters OIHW) or NHWC (filters OHWI, i.e. cuDNN's NHWC filter format KRSC).
// The bias descriptor is 1 x cout x 1 x 1 (the same memory in both layouts).
// Thread safety: like the cuDNN handle it was made with (one thread at a time).
#pragma once

#include <cudnn.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

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
  ~LegacyConv();
  LegacyConv(LegacyConv&&) noexcept;
  LegacyConv& operator=(LegacyConv&&) noexcept;
  LegacyConv(const LegacyConv&) = delete;
  LegacyConv& operator=(const LegacyConv&) = delete;

  const ConvGeometry& geometry() const;
  bool strict_fp32() const;
  // The math type a plain default candidate runs with: kFma (strict) or kTensorOp.
  ConvMath default_math() const;

  // cudnnFindConvolutionForwardAlgorithmEx on the handle's current stream (blocking). x, w, y
  // must be device buffers of this geometry (y is overwritten). Keeps the results that succeeded
  // within ws_bytes; strict mode maps each to FMA math (an algorithm cuDNN then refuses with FMA
  // is dropped). One entry per (algo, math), fastest first.
  std::vector<ConvAlgoPerf> find(const float* x, const float* w, float* y, void* ws, size_t ws_bytes);

  // Workspace (algo, math) needs; returns the cuDNN status instead of throwing (an unsupported
  // algorithm is an answer here, not an error).
  cudnnStatus_t workspace_size(int algo, ConvMath math, size_t* bytes);

  // y = conv(x, w): cudnnConvolutionForward with beta = 0. Returns the status (no throw).
  cudnnStatus_t try_forward(int algo, ConvMath math, const float* x, const float* w, float* y, void* ws,
                            size_t ws_bytes);
  // y = act(conv(x, w) + bias), act = ReLU or identity: cudnnConvolutionBiasActivationForward
  // with alpha2 = 0 and z = y. Identity requires IMPLICIT_PRECOMP_GEMM (cuDNN's rule); any other
  // algorithm with identity returns CUDNN_STATUS_NOT_SUPPORTED without calling cuDNN.
  cudnnStatus_t try_forward_fused(int algo, ConvMath math, bool relu, const float* x, const float* w, const float* bias,
                                  float* y, void* ws, size_t ws_bytes);

  // Throwing forms: Error(kCudnnError) naming the geometry, algorithm, math and call.
  void forward(int algo, ConvMath math, const float* x, const float* w, float* y, void* ws, size_t ws_bytes);
  void forward_fused(int algo, ConvMath math, bool relu, const float* x, const float* w, const float* bias, float* y,
                     void* ws, size_t ws_bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace resnetrs::cuda
