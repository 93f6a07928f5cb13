// Winograd convolution for the fast CPU engine's 3x3 stride-1 layers (docs/cpu-winograd.md):
// F(2x2,3x3) computes each 2x2 output tile with 16 products per channel pair instead of 36,
// F(4x4,3x3) each 4x4 tile with 36 instead of 144, at a cost in accuracy (larger for F(4x4)).
//
// run() splits the output tiles of the whole batch into a fixed list of blocks (sized for L2, set by
// the geometry and the batch only). Per block: the input transform of its tiles into
// [alpha*alpha][tiles][cin], alpha*alpha GEMMs [tiles x cin] x [cin x cout] against the weights
// transformed at build ([alpha*alpha][cin][cout]), the output transform + bias + activation into
// NHWC. Every output is computed by the same operations in the same order whichever thread runs
// its block, so results are bit-identical for any thread count (they may differ between batch
// sizes, which change the blocks).
#pragma once

#include <cstddef>
#include <vector>

#include "cpu/fast/isa/isa_kernels.h"
#include "cpu/fast/host_buffer.h"
#include "cpu/fast/isa/winograd_kernels.h"
#include "engine/engine.h"

namespace resnetrs::cpu::fast {

enum class WinogradTile { kF2x2 = 2, kF4x4 = 4 };  // F(2x2,3x3): 16 products per 4 outputs; F(4x4,3x3): 36 per 16
const char* winograd_tile_name(WinogradTile t);    // "F(2x2,3x3)" / "F(4x4,3x3)"

// The transforms of a resolved instruction set (kAvx512 runs the avx2 copy; kAuto is an error).
const WinogradKernels& winograd_kernels(CpuIsa isa);

class WinogradConv3x3 {
 public:
  // A 3x3 stride-1 convolution, zero padding 1 on every side (output h x w), NHWC float32, for up
  // to max_batch images of h x w (any h, w >= 1). weight OIHW [cout][cin][3][3] (transformed in
  // double, rounded and repacked once here), bias [cout] or nullptr, act applied after bias.
  // isa: a resolved CpuIsa choosing which copy of the transforms runs (the GEMMs are oneDNN's,
  // which picks its own instruction set). Throws Error(kInvalidArgument) for a bad geometry.
  WinogradConv3x3(WinogradTile tile, CpuIsa isa, int cin, int cout, int h, int w, int max_batch, const float* weight,
                  const float* bias, IsaAct act);

  // Floats of scratch run() needs for up to max_batch images and up to max_threads threads
  // (64-byte aligned scratch keeps every GEMM operand aligned).
  size_t workspace_floats(int max_threads) const;

  // in NHWC [batch][h][w][cin] -> out NHWC [batch][h][w][cout] (out must not overlap in).
  // Called from outside any OpenMP parallel region; uses `threads` OpenMP threads (at most the
  // max_threads workspace_floats was asked for). Allocates nothing itself (oneDNN's sgemm may
  // use packing buffers of its own). Bit-identical for any
  // `threads`. Throws Error(kInvalidArgument) for batch outside 1..max_batch, threads < 1 or a
  // null buffer.
  void run(const float* in, int batch, float* out, float* workspace, int threads) const;

  WinogradTile tile() const { return tile_; }
  // Tiles per block for this batch (what a block's GEMMs have as rows).
  int block_tiles(int batch) const;

 private:
  struct Blocks {
    int tiles = 0;   // tiles of the whole batch
    int count = 0;   // blocks
  };
  Blocks blocks(int batch) const;
  size_t block_floats() const;  // one block's scratch: V and M of max_tiles_ tiles
  void run_block(const float* in, int first, int last, float* out, float* ws, int e_begin, int e_end, int phase) const;

  WinogradTile tile_;
  const WinogradKernels* kernels_;
  int cin_, cout_, h_, w_, max_batch_;
  int m_, alpha_;            // output tile size, input window size (m + 2)
  int tiles_y_, tiles_x_;    // tiles per image
  int max_tiles_;            // tiles per block at most
  HostBuffer u_;             // transformed weights [alpha*alpha][cin][cout] (host_buffer.h)
  std::vector<float> bias_;  // [cout], empty: none
  IsaAct act_;
};

}  // namespace resnetrs::cpu::fast
