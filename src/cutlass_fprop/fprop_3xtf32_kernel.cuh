// The CUTLASS instantiation shared by the tile files (fprop_3xtf32_<tile>.cu): one 3xTF32
// implicit-GEMM fprop kernel per tile configuration, with a per-channel bias (the source tensor C
// read with stride 0) and ReLU with a runtime threshold (0: ReLU; -inf: none, NaN propagates), so
// one instantiation serves both the ReLU and the linear convolutions.
#pragma once

#include <cuda_runtime_api.h>

#include <limits>
#include <string>

#include "common/error.h"
// CUTLASS's headers are not self-contained: this order (its examples') is needed.
#include "cutlass/cutlass.h"
#include "cutlass/conv/conv2d_problem_size.h"
#include "cutlass/conv/kernel/default_conv2d_fprop.h"
#include "cutlass/conv/device/implicit_gemm_convolution.h"
#include "cutlass/epilogue/thread/linear_combination_relu.h"
#include "cutlass_fprop/fprop_3xtf32.h"
#include "cutlass_fprop/fprop_tile_ops.h"

namespace resnetrs::cutlass_fprop::detail {

template <int TbM, int TbN, int TbK, int WM, int WN, int WK, int Stages>
struct Fprop3xTf32 {
  using Layout = cutlass::layout::TensorNHWC;
  using Epilogue = cutlass::epilogue::thread::LinearCombinationRelu<
      float, 128 / cutlass::sizeof_bits<float>::value, float, float, cutlass::epilogue::thread::ScaleType::NoBetaScaling>;
  using Kernel = typename cutlass::conv::kernel::DefaultConv2dFprop<
      float, Layout, float, Layout, float, Layout, float, cutlass::arch::OpClassTensorOp, cutlass::arch::Sm80,
      cutlass::gemm::GemmShape<TbM, TbN, TbK>, cutlass::gemm::GemmShape<WM, WN, WK>, cutlass::gemm::GemmShape<16, 8, 8>,
      Epilogue, cutlass::gemm::threadblock::GemmIdentityThreadblockSwizzle<>, Stages, cutlass::arch::OpMultiplyAddFastF32,
      cutlass::conv::IteratorAlgorithm::kOptimized>::Kernel;
  using Op = cutlass::conv::device::ImplicitGemmConvolution<Kernel>;

  static cutlass::conv::Conv2dProblemSize problem(const FpropShape& s) {
    return cutlass::conv::Conv2dProblemSize(s.n, s.h, s.w, s.c, s.k, s.r, s.s, s.p(), s.q(), s.pad, s.pad, s.stride, s.stride,
                                            1, 1, cutlass::conv::Mode::kCrossCorrelation, 1, 1);
  }

  static typename Op::Arguments arguments(const FpropShape& s, const FpropArgs& a) {
    const cutlass::conv::Conv2dProblemSize ps = problem(s);
    const float threshold = a.relu ? 0.0f : -std::numeric_limits<float>::infinity();
    return typename Op::Arguments(
        ps, {const_cast<float*>(a.x), Layout::packed(cutlass::conv::implicit_gemm_tensor_a_extent(cutlass::conv::Operator::kFprop, ps))},
        {const_cast<float*>(a.w), Layout::packed(cutlass::conv::implicit_gemm_tensor_b_extent(cutlass::conv::Operator::kFprop, ps))},
        {const_cast<float*>(a.bias), Layout::Stride(0)},
        {a.y, Layout::packed(cutlass::conv::implicit_gemm_tensor_c_extent(cutlass::conv::Operator::kFprop, ps))},
        typename Epilogue::Params(1.0f, 0.0f, threshold));
  }

  static bool can_implement(const FpropShape& s) {
    FpropArgs none;
    return Op::can_implement(arguments(s, none)) == cutlass::Status::kSuccess;
  }

  static size_t workspace(const FpropShape& s) {
    FpropArgs none;
    return Op::get_workspace_size(arguments(s, none));
  }

  static void run(const FpropShape& s, const FpropArgs& a) {
    const typename Op::Arguments args = arguments(s, a);
    auto check = [&](cutlass::Status st, const char* what) {
      if (st != cutlass::Status::kSuccess) {
        throw_error(Status::kCudaError, std::string("CUTLASS 3xTF32 fprop ") + what + " failed for " + s.describe() + ": " +
                                            cutlass::cutlassGetStatusString(st));
      }
    };
    check(Op::can_implement(args), "can_implement");
    Op op;
    const cudaStream_t stream = static_cast<cudaStream_t>(a.stream);
    check(op.initialize(args, a.workspace, stream), "initialize");
    check(op(stream), "launch");
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) {
      throw_error(Status::kCudaError, std::string("CUTLASS 3xTF32 fprop launch for ") + s.describe() + ": " + cudaGetErrorName(err) +
                                          " (" + cudaGetErrorString(err) + ")");
    }
  }

  static TileOps ops() { return TileOps{&can_implement, &workspace, &run}; }
};

}  // namespace resnetrs::cutlass_fprop::detail
