// The CUDA engine's static plan, derived once from the NetworkDesc (host only, no CUDA calls):
// every convolution in execution order with the activation buffers it reads and writes, the
// unique convolution shapes (tuned once each), and the size of each activation buffer.
//
// Buffers mirror the CPU engine's dataflow:
//   X   the network input (normalized), the stem's even outputs, every block's input and output
//   T1  stem conv1/conv3 outputs, block conv1 outputs      T2  block conv2 outputs
//   T3  block conv3 outputs                               SC  projection-shortcut outputs
//   PI  the 2x2-pooled block input before a projection (stride 2; stride 1 in the Model Garden's
//       stage 1)
//   PAD the zero-padded input of a convolution whose padding cuDNN cannot express (Keras 'same'
//       stride-2 convs on even sizes, Model Garden: fewer zeros before than after)
// Stem: X -> T1 -> X -> T1 -> X. Block: X -> T1 -> T2 -> T3; shortcut X [-> PI] -> SC (or X
// itself); tail (T3, gate, shortcut) -> X in place. A padded conv reads PAD, filled from its
// input buffer by the zero-pad kernel right before it.
//
// The plan is also the gate for what the engine implements: make_engine_plan refuses
// (kInvalidArgument, naming the layer) any layer the CUDA engine has no code path for, so a
// network description that grows a feature cannot silently run with a wrong one:
//   activations relu (fused or our epilogue), swish (our epilogue after an identity conv), none
//   (only for conv3 and the projection, whose bias the SE squeeze / tail add); padding symmetric,
//   or asymmetric (explicit zero padding + an unpadded conv); the shortcut pool 2x2 with stride 2,
//   or stride 1 in a stride-1 block; the block tail's activation relu, swish or none.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/network.h"

namespace resnetrs::cuda {

enum Buf : int { kBufX = 0, kBufT1, kBufT2, kBufT3, kBufSC, kBufPI, kBufPad, kBufCount };
const char* buf_name(int b);

// Explicit zero padding before a convolution: `from` (cin x h x w, the network's tensor) is
// copied into PAD with top/bottom rows and left/right columns of zeros.
struct ConvPad {
  bool active = false;
  Buf from = kBufX;
  int h = 0, w = 0;  // unpadded input size
  int top = 0, bottom = 0, left = 0, right = 0;
};

struct ConvLayer {
  // As cuDNN runs it: for a padded layer (pad.active) the unpadded (pad 0) convolution over PAD,
  // whose output size is the network's.
  ConvShape shape;
  int unique = -1;  // index into EnginePlan::unique
  Buf in = kBufX, out = kBufT1;
  ConvPad pad;
  // The activation of the layer's epilogue: kRelu runs fused in cuDNN or in bias_relu (shape.relu()),
  // kSwish in our bias_act kernel after an identity conv, kNone leaves the bias to the block tail.
  Activation act = Activation::kNone;
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
