// The CUDA engine's static plan, derived once from the NetworkDesc (host only, no CUDA calls):
// every convolution in execution order with the activation buffers it reads and writes, the
// unique convolution shapes (tuned once each), and the size of each activation buffer.
//
// Buffers mirror the CPU engine's dataflow:
//   X   the network input (normalized), the stem's even outputs, every block's input and output
//   T1  stem conv1/conv3 outputs, block conv1 outputs      T2  block conv2 outputs
//   T3  block conv3 outputs                               SC  projection-shortcut outputs
//   PI  the 2x2-pooled block input before a strided projection
// Stem: X -> T1 -> X -> T1 -> X. Block: X -> T1 -> T2 -> T3; shortcut X [-> PI] -> SC (or X
// itself); tail (T3, gate, shortcut) -> X in place.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/network.h"

namespace resnetrs::cuda {

enum Buf : int { kBufX = 0, kBufT1, kBufT2, kBufT3, kBufSC, kBufPI, kBufCount };
const char* buf_name(int b);

struct ConvLayer {
  ConvShape shape;
  int unique = -1;  // index into EnginePlan::unique
  Buf in = kBufX, out = kBufT1;
};

struct UniqueConv {
  ConvShape shape;  // of its first occurrence (name included)
  Buf in = kBufX, out = kBufT1;
  std::vector<int> layers;  // indices into EnginePlan::convs
};

struct BlockPlan {
  int conv1 = -1, conv2 = -1, conv3 = -1, shortcut = -1;  // indices into convs; shortcut -1: identity
};

struct EnginePlan {
  std::vector<ConvLayer> convs;  // stem conv1..4, then per block conv1, conv2, conv3[, shortcut]
  std::vector<UniqueConv> unique;
  std::vector<BlockPlan> blocks;  // parallel to NetworkDesc::blocks
  std::array<int64_t, kBufCount> buffer_floats{};  // per image
  int max_block_channels = 0, max_se_channels = 0;
};

EnginePlan make_engine_plan(const NetworkDesc& net);

}  // namespace resnetrs::cuda
