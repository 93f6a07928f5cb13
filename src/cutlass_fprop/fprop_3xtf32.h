// CUTLASS implicit-GEMM convolutions (fprop) with 3xTF32 math (issue 13): fp32 operands split
// into a big and a small TF32 part, three tensor-core products summed in fp32 (CUTLASS's
// arch::OpMultiplyAddFastF32, its example 28), NHWC activations, KRSC (OHWI) filters, and a
// fused epilogue y = x (*) w + bias, then ReLU when asked.
//
// DEPENDENCY WIRING ONLY, NOT USED YET: nothing user-visible calls this library (no precision
// mode, no C API change); no GPU has run run_fprop(). It exists so that the kernels compile for
// sm_80 and sm_90 in CI and the host-side rules below are tested. docs/cutlass.md.
//
// Host-only header: no CUDA or CUTLASS types, so the engine and the tests include it freely.
#pragma once

#include <cstddef>
#include <string>

#include "model/network.h"

namespace resnetrs::cutlass_fprop {

// The tile configurations compiled (threadblock M x N x K, warp tile, pipeline stages).
enum class Tile {
  k128x128x16,  // warps 64x32x16, 3 stages: large M and N (early stages at batch 128)
  k128x64x16,   // warps 64x32x16, 3 stages (CUTLASS example 28's configuration)
  k64x64x16,    // warps 32x32x16, 4 stages: small problems (batch 1, late stages)
};
constexpr Tile kTiles[] = {Tile::k128x128x16, Tile::k128x64x16, Tile::k64x64x16};
const char* tile_name(Tile t);

// One convolution as CUTLASS sees it: NHWC input [n, h, w, c], filter [k, r, s, c], symmetric
// padding, output [n, p, q, k].
struct FpropShape {
  int n = 0, h = 0, w = 0, c = 0;
  int k = 0, r = 1, s = 1;
  int stride = 1, pad = 0;
  int p() const { return (h + 2 * pad - r) / stride + 1; }
  int q() const { return (w + 2 * pad - s) / stride + 1; }
  std::string describe() const;
};
FpropShape fprop_shape(const ConvShape& conv, int batch);

// Our rule (host only) for when a tile's kernel can run a shape: c and k multiples of 4 (the
// kernels load and store 128-bit vectors of 4 floats), r and s <= 32 (the iterator's mask bits),
// every tensor under 2 GiB (32-bit offsets), at most 65535 tiles along k. False with the reason
// in *why. The stem's first convolution (c = 3) is refused: pad its input to 4 channels or leave
// it to cuDNN.
bool applicable(Tile t, const FpropShape& shape, std::string* why = nullptr);

// CUTLASS's own answer for the instantiated kernel (ImplicitGemmConvolution::can_implement;
// host only, no device call). The tests check that it agrees with applicable().
bool cutlass_can_implement(Tile t, const FpropShape& shape);

// Workspace the kernel needs (host only). Serial split-K with one slice: none.
size_t workspace_bytes(Tile t, const FpropShape& shape);

struct FpropArgs {
  const float* x = nullptr;     // device, NHWC, 16-byte aligned
  const float* w = nullptr;     // device, KRSC
  const float* bias = nullptr;  // device, [k]
  float* y = nullptr;           // device, NHWC [n, p, q, k]; must not overlap x
  bool relu = false;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  void* stream = nullptr;  // cudaStream_t
};

// Enqueues the convolution. Throws Error(kInvalidArgument) when the tile does not apply or a
// pointer is misaligned, Error(kCudaError) when CUTLASS or the launch fails.
void run_fprop(Tile t, const FpropShape& shape, const FpropArgs& args);

}  // namespace resnetrs::cutlass_fprop
