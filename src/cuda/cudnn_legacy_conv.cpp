// The single translation unit that uses cuDNN 9's deprecated legacy convolution API (see
// cudnn_legacy_conv.h). The target defines CUDNN_WARN_DEPRECATED so any other use warns (and fails
// the -Werror build); here the warning is silenced for this file only.
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

#include "cuda/cudnn_legacy_conv.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "common/error.h"
#include "cuda/cuda_check.h"

namespace resnetrs::cuda {

static_assert(int(ConvMath::kDefault) == CUDNN_DEFAULT_MATH, "cudnnMathType_t mismatch");
static_assert(int(ConvMath::kTensorOp) == CUDNN_TENSOR_OP_MATH, "cudnnMathType_t mismatch");
static_assert(int(ConvMath::kTensorOpAllowConversion) == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, "cudnnMathType_t mismatch");
static_assert(int(ConvMath::kFma) == CUDNN_FMA_MATH, "cudnnMathType_t mismatch");
static_assert(kConvAlgoCount == CUDNN_CONVOLUTION_FWD_ALGO_COUNT, "cudnnConvolutionFwdAlgo_t mismatch");
static_assert(kAlgoImplicitGemm == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, "cudnnConvolutionFwdAlgo_t mismatch");
static_assert(kAlgoImplicitPrecompGemm == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
              "cudnnConvolutionFwdAlgo_t mismatch");

namespace {

const char* const kAlgoNames[kConvAlgoCount] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                                "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
const char* const kMathNames[4] = {"DEFAULT", "TENSOR_OP", "TENSOR_OP_ALLOW_CONVERSION", "FMA"};

struct TensorDescDeleter {
  void operator()(std::remove_pointer_t<cudnnTensorDescriptor_t>* d) const noexcept {
    RESNETRS_CUDNN_CHECK_LOG(cudnnDestroyTensorDescriptor(d));
  }
};
struct FilterDescDeleter {
  void operator()(std::remove_pointer_t<cudnnFilterDescriptor_t>* d) const noexcept {
    RESNETRS_CUDNN_CHECK_LOG(cudnnDestroyFilterDescriptor(d));
  }
};
struct ConvDescDeleter {
  void operator()(std::remove_pointer_t<cudnnConvolutionDescriptor_t>* d) const noexcept {
    RESNETRS_CUDNN_CHECK_LOG(cudnnDestroyConvolutionDescriptor(d));
  }
};
struct ActDescDeleter {
  void operator()(std::remove_pointer_t<cudnnActivationDescriptor_t>* d) const noexcept {
    RESNETRS_CUDNN_CHECK_LOG(cudnnDestroyActivationDescriptor(d));
  }
};

using TensorDesc = std::unique_ptr<std::remove_pointer_t<cudnnTensorDescriptor_t>, TensorDescDeleter>;
using FilterDesc = std::unique_ptr<std::remove_pointer_t<cudnnFilterDescriptor_t>, FilterDescDeleter>;
using ConvDesc = std::unique_ptr<std::remove_pointer_t<cudnnConvolutionDescriptor_t>, ConvDescDeleter>;
using ActDesc = std::unique_ptr<std::remove_pointer_t<cudnnActivationDescriptor_t>, ActDescDeleter>;

cudnnDataType_t cudnn_type(kernels::ActType t) {
  switch (t) {
    case kernels::ActType::kF16: return CUDNN_DATA_HALF;
    case kernels::ActType::kBF16: return CUDNN_DATA_BFLOAT16;
    case kernels::ActType::kF32: break;
  }
  return CUDNN_DATA_FLOAT;
}

TensorDesc make_tensor(cudnnTensorFormat_t format, cudnnDataType_t type, int n, int c, int h, int w) {
  cudnnTensorDescriptor_t d = nullptr;
  RESNETRS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
  TensorDesc owned(d);
  RESNETRS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, format, type, n, c, h, w));
  return owned;
}

ActDesc make_activation(cudnnActivationMode_t mode) {
  cudnnActivationDescriptor_t d = nullptr;
  RESNETRS_CUDNN_CHECK(cudnnCreateActivationDescriptor(&d));
  ActDesc owned(d);
  // PROPAGATE_NAN: a NaN stays NaN through the ReLU, like our kernels and the CPU operators.
  RESNETRS_CUDNN_CHECK(cudnnSetActivationDescriptor(d, mode, CUDNN_PROPAGATE_NAN, 0.0));
  return owned;
}

bool valid_algo(int algo) { return algo >= 0 && algo < kConvAlgoCount; }
bool valid_math(ConvMath m) { return int(m) >= 0 && int(m) <= 3; }

}  // namespace

std::string ConvGeometry::describe() const {
  return "n" + std::to_string(n) + " " + std::to_string(cin) + "x" + std::to_string(h) + "x" + std::to_string(w) + "->" +
         std::to_string(cout) + "x" + std::to_string(h_out()) + "x" + std::to_string(w_out()) + " k" +
         std::to_string(kernel) + "s" + std::to_string(stride) + "p" + std::to_string(pad) + (nhwc ? " NHWC" : " NCHW");
}

const char* conv_math_name(ConvMath m) { return valid_math(m) ? kMathNames[int(m)] : "?"; }

bool parse_conv_math(const std::string& name, ConvMath* out) {
  for (int i = 0; i < 4; ++i) {
    if (name == kMathNames[i]) {
      *out = ConvMath(i);
      return true;
    }
  }
  return false;
}

const char* conv_algo_name(int algo) { return valid_algo(algo) ? kAlgoNames[algo] : "?"; }

bool parse_conv_algo(const std::string& name, int* out) {
  for (int i = 0; i < kConvAlgoCount; ++i) {
    if (name == kAlgoNames[i]) {
      *out = i;
      return true;
    }
  }
  return false;
}

struct LegacyConv::Impl {
  cudnnHandle_t handle = nullptr;
  ConvGeometry g;
  bool strict = true;
  kernels::ActType data = kernels::ActType::kF32;
  TensorDesc x, y, bias;
  FilterDesc w;
  ConvDesc conv;
  ActDesc relu, identity;
  ConvMath current_math = ConvMath::kFma;

  std::string what(const char* call, int algo, ConvMath math) const {
    return std::string(call) + " [" + g.describe() + ", algo " + conv_algo_name(algo) + ", math " + conv_math_name(math) +
           "]";
  }

  // Points the convolution descriptor at `math` (host-side state only; capture-safe).
  cudnnStatus_t set_math(ConvMath math) {
    if (math == current_math) return CUDNN_STATUS_SUCCESS;
    const cudnnStatus_t st = cudnnSetConvolutionMathType(conv.get(), static_cast<cudnnMathType_t>(math));
    if (st == CUDNN_STATUS_SUCCESS) current_math = math;
    return st;
  }

  // Strict fp32 never runs anything but FMA math, whatever the caller passes; TF32 mode never
  // allows ALLOW_CONVERSION (it would permit down-conversion of float data to half precision).
  bool math_ok(ConvMath math) const {
    if (!valid_math(math)) return false;
    return strict ? math == ConvMath::kFma : math != ConvMath::kTensorOpAllowConversion;
  }
};

LegacyConv::LegacyConv(cudnnHandle_t handle, const ConvGeometry& g, bool strict_fp32)
    : LegacyConv(handle, g, strict_fp32 ? ConvMathRule::kStrictFma : ConvMathRule::kTensorOp, kernels::ActType::kF32) {}

LegacyConv::LegacyConv(cudnnHandle_t handle, const ConvGeometry& g, ConvMathRule rule, kernels::ActType data)
    : m_impl(std::make_unique<Impl>()) {
  const bool strict_fp32 = rule == ConvMathRule::kStrictFma;
  RESNETRS_CHECK_ARG(handle, "LegacyConv: null cuDNN handle");
  RESNETRS_CHECK_ARG(g.n > 0 && g.cin > 0 && g.h > 0 && g.w > 0 && g.cout > 0 && g.kernel > 0 && g.stride > 0 &&
                         g.pad >= 0 && g.h_out() > 0 && g.w_out() > 0,
                     "LegacyConv: invalid geometry " + g.describe());
  Impl& m = *m_impl;
  m.handle = handle;
  m.g = g;
  m.strict = strict_fp32;
  m.data = data;
  const cudnnTensorFormat_t format = g.nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  const cudnnDataType_t type = cudnn_type(data);
  m.x = make_tensor(format, type, g.n, g.cin, g.h, g.w);
  m.y = make_tensor(format, type, g.n, g.cout, g.h_out(), g.w_out());
  // cudnnConvolutionBiasActivationForward wants the bias in the data type for float, half and
  // bfloat16 data (only the int8 configurations take a float bias).
  m.bias = make_tensor(CUDNN_TENSOR_NCHW, type, 1, g.cout, 1, 1);

  cudnnFilterDescriptor_t fd = nullptr;
  RESNETRS_CUDNN_CHECK(cudnnCreateFilterDescriptor(&fd));
  m.w.reset(fd);
  RESNETRS_CUDNN_CHECK(cudnnSetFilter4dDescriptor(fd, type, format, g.cout, g.cin, g.kernel, g.kernel));

  cudnnConvolutionDescriptor_t cd = nullptr;
  RESNETRS_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&cd));
  m.conv.reset(cd);
  // Compute type float for every data type: fp32 accumulation (PSEUDO_HALF / PSEUDO_BFLOAT16).
  RESNETRS_CUDNN_CHECK(
      cudnnSetConvolution2dDescriptor(cd, g.pad, g.pad, g.stride, g.stride, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  m.current_math = strict_fp32 ? ConvMath::kFma : ConvMath::kTensorOp;
  RESNETRS_CUDNN_CHECK(cudnnSetConvolutionMathType(cd, static_cast<cudnnMathType_t>(m.current_math)));

  int n = 0, c = 0, h = 0, w = 0;
  RESNETRS_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(cd, m.x.get(), fd, &n, &c, &h, &w));
  if (n != g.n || c != g.cout || h != g.h_out() || w != g.w_out()) {
    throw_error(Status::kInternal, "cuDNN output shape " + std::to_string(n) + "x" + std::to_string(c) + "x" +
                                       std::to_string(h) + "x" + std::to_string(w) + " differs from the plan's for " +
                                       g.describe());
  }
  m.relu = make_activation(CUDNN_ACTIVATION_RELU);
  m.identity = make_activation(CUDNN_ACTIVATION_IDENTITY);
}

LegacyConv::~LegacyConv() = default;
LegacyConv::LegacyConv(LegacyConv&&) noexcept = default;
LegacyConv& LegacyConv::operator=(LegacyConv&&) noexcept = default;

const ConvGeometry& LegacyConv::geometry() const { return m_impl->g; }
bool LegacyConv::strict_fp32() const { return m_impl->strict; }
kernels::ActType LegacyConv::data_type() const { return m_impl->data; }
ConvMath LegacyConv::default_math() const { return m_impl->strict ? ConvMath::kFma : ConvMath::kTensorOp; }

std::vector<ConvAlgoPerf> LegacyConv::find(const void* x, const void* w, void* y, void* ws, size_t ws_bytes) {
  Impl& m = *m_impl;
  RESNETRS_CHECK_ARG(x && w && y, "LegacyConv::find: null buffer");
  // Find runs with the descriptor's own math type: FMA (strict) or TENSOR_OP.
  RESNETRS_CUDNN_CHECK(m.set_math(default_math()));
  int max_count = 0;
  RESNETRS_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(m.handle, &max_count));
  max_count = std::max(max_count, kConvAlgoCount);
  std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(max_count));
  int returned = 0;
  const cudnnStatus_t st = cudnnFindConvolutionForwardAlgorithmEx(m.handle, m.x.get(), x, m.w.get(), w, m.conv.get(),
                                                                  m.y.get(), y, max_count, &returned, perf.data(),
                                                                  ws_bytes ? ws : nullptr, ws_bytes);
  if (st != CUDNN_STATUS_SUCCESS) {
    throw_error(Status::kCudnnError,
                "cuDNN error " + cudnn_status_text(st) + " in cudnnFindConvolutionForwardAlgorithmEx [" + m.g.describe() + "]");
  }
  std::vector<ConvAlgoPerf> out;
  for (int i = 0; i < returned && i < max_count; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t& p = perf[static_cast<size_t>(i)];
    if (p.status != CUDNN_STATUS_SUCCESS || !valid_algo(int(p.algo)) || p.memory > ws_bytes) continue;
    ConvAlgoPerf r;
    r.algo = int(p.algo);
    r.find_ms = p.time;
    r.math = m.strict ? ConvMath::kFma : static_cast<ConvMath>(int(p.mathType));
    if (!m.math_ok(r.math)) continue;
    // Re-query the workspace for the math we will run with (strict mode may have changed it).
    size_t bytes = 0;
    if (workspace_size(r.algo, r.math, &bytes) != CUDNN_STATUS_SUCCESS || bytes > ws_bytes) continue;
    r.workspace = bytes;
    const bool dup = std::any_of(out.begin(), out.end(), [&](const ConvAlgoPerf& o) { return o.algo == r.algo && o.math == r.math; });
    if (!dup) out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(), [](const ConvAlgoPerf& a, const ConvAlgoPerf& b) { return a.find_ms < b.find_ms; });
  return out;
}

cudnnStatus_t LegacyConv::workspace_size(int algo, ConvMath math, size_t* bytes) {
  Impl& m = *m_impl;
  if (!bytes) return CUDNN_STATUS_BAD_PARAM;
  *bytes = 0;
  if (!valid_algo(algo) || !m.math_ok(math)) return CUDNN_STATUS_NOT_SUPPORTED;
  const cudnnStatus_t st = m.set_math(math);
  if (st != CUDNN_STATUS_SUCCESS) return st;
  return cudnnGetConvolutionForwardWorkspaceSize(m.handle, m.x.get(), m.w.get(), m.conv.get(), m.y.get(),
                                                 static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
}

cudnnStatus_t LegacyConv::try_forward(int algo, ConvMath math, const void* x, const void* w, void* y, void* ws,
                                      size_t ws_bytes) {
  Impl& m = *m_impl;
  if (!x || !w || !y) return CUDNN_STATUS_BAD_PARAM;
  if (!valid_algo(algo) || !m.math_ok(math)) return CUDNN_STATUS_NOT_SUPPORTED;
  const cudnnStatus_t st = m.set_math(math);
  if (st != CUDNN_STATUS_SUCCESS) return st;
  const float alpha = 1.0f, beta = 0.0f;  // beta = 0: y is not read
  return cudnnConvolutionForward(m.handle, &alpha, m.x.get(), x, m.w.get(), w, m.conv.get(),
                                 static_cast<cudnnConvolutionFwdAlgo_t>(algo), ws_bytes ? ws : nullptr, ws_bytes, &beta,
                                 m.y.get(), y);
}

cudnnStatus_t LegacyConv::try_forward_fused(int algo, ConvMath math, bool relu, const void* x, const void* w,
                                            const void* bias, void* y, void* ws, size_t ws_bytes) {
  Impl& m = *m_impl;
  if (!x || !w || !bias || !y) return CUDNN_STATUS_BAD_PARAM;
  if (!valid_algo(algo) || !m.math_ok(math)) return CUDNN_STATUS_NOT_SUPPORTED;
  if (!relu && algo != kAlgoImplicitPrecompGemm) return CUDNN_STATUS_NOT_SUPPORTED;  // cuDNN's identity rule
  const cudnnStatus_t st = m.set_math(math);
  if (st != CUDNN_STATUS_SUCCESS) return st;
  const float alpha1 = 1.0f, alpha2 = 0.0f;  // no residual input: z = y scaled by 0
  return cudnnConvolutionBiasActivationForward(m.handle, &alpha1, m.x.get(), x, m.w.get(), w, m.conv.get(),
                                               static_cast<cudnnConvolutionFwdAlgo_t>(algo), ws_bytes ? ws : nullptr,
                                               ws_bytes, &alpha2, m.y.get(), y, m.bias.get(), bias,
                                               relu ? m.relu.get() : m.identity.get(), m.y.get(), y);
}

void LegacyConv::forward(int algo, ConvMath math, const void* x, const void* w, void* y, void* ws, size_t ws_bytes) {
  const cudnnStatus_t st = try_forward(algo, math, x, w, y, ws, ws_bytes);
  if (st != CUDNN_STATUS_SUCCESS) {
    throw_error(Status::kCudnnError,
                "cuDNN error " + cudnn_status_text(st) + " in " + m_impl->what("cudnnConvolutionForward", algo, math));
  }
}

void LegacyConv::forward_fused(int algo, ConvMath math, bool relu, const void* x, const void* w, const void* bias,
                               void* y, void* ws, size_t ws_bytes) {
  const cudnnStatus_t st = try_forward_fused(algo, math, relu, x, w, bias, y, ws, ws_bytes);
  if (st != CUDNN_STATUS_SUCCESS) {
    throw_error(Status::kCudnnError, "cuDNN error " + cudnn_status_text(st) + " in " +
                                         m_impl->what(relu ? "cudnnConvolutionBiasActivationForward(ReLU)"
                                                           : "cudnnConvolutionBiasActivationForward(identity)",
                                                      algo, math));
  }
}

}  // namespace resnetrs::cuda

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
