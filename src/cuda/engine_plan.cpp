#include "cuda/engine_plan.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "common/error.h"

namespace resnetrs::cuda {
namespace {

auto shape_key(const ConvShape& s) {
  return std::make_tuple(s.cin, s.cout, s.kernel, s.stride, s.pad, s.pad_top, s.pad_left, s.h_in, s.w_in, s.relu());
}

[[noreturn]] void refuse(const std::string& where, const std::string& what) {
  throw_error(Status::kInvalidArgument,
              "the CUDA engine does not implement " + what + " (" + where + "); its plan (src/cuda/engine_plan.h) lists what it runs");
}

// Zeros after the last row for one dimension: the rest of what the output size needs.
int pad_after(int size, int out, int kernel, int stride, int before) { return (out - 1) * stride + kernel - size - before; }

int64_t out_floats(const ConvShape& s) { return int64_t(s.cout) * s.h_out * s.w_out; }
int64_t in_floats(const ConvShape& s) { return int64_t(s.cin) * s.h_in * s.w_in; }

}  // namespace

const char* buf_name(int b) {
  static const char* const names[kBufCount] = {"X", "T1", "T2", "T3", "SC", "PI", "PAD"};
  return b >= 0 && b < kBufCount ? names[b] : "?";
}

EnginePlan make_engine_plan(const NetworkDesc& net) {
  EnginePlan plan;
  auto& size = plan.buffer_floats;
  auto need = [&](Buf b, int64_t floats) { size[b] = std::max(size[b], floats); };
  // bias_left_to_tail: conv3 and the projection, which end in no activation (their bias goes to
  // the SE squeeze and the tail); every other conv ends in relu or swish.
  auto add_conv = [&](const ConvShape& s, Buf in, Buf out, bool bias_left_to_tail) {
    RESNETRS_CHECK_ARG(in != out, "plan: convolution " + s.name + " would read and write the same buffer");
    if (bias_left_to_tail ? s.act != Activation::kNone : (s.act != Activation::kRelu && s.act != Activation::kSwish)) {
      refuse(s.name, std::string("activation ") + activation_name(s.act) + " at this position");
    }
    if (s.kernel < 1 || s.stride < 1 || s.pad < 0 || s.pad_top < 0 || s.pad_left < 0 || s.pad_top > s.pad ||
        s.pad_left > s.pad) {
      refuse(s.name, "padding before " + std::to_string(s.pad_top) + "/" + std::to_string(s.pad_left) + " with pad " +
                         std::to_string(s.pad));
    }
    ConvLayer layer;
    layer.shape = s;
    layer.in = in;
    layer.out = out;
    layer.act = s.act;
    if (!s.symmetric_padding()) {
      // cuDNN pads symmetrically: pad explicitly into PAD, then run the conv unpadded.
      ConvPad& p = layer.pad;
      p.active = true;
      p.from = in;
      p.h = s.h_in;
      p.w = s.w_in;
      p.top = s.pad_top;
      p.left = s.pad_left;
      p.bottom = pad_after(s.h_in, s.h_out, s.kernel, s.stride, s.pad_top);
      p.right = pad_after(s.w_in, s.w_out, s.kernel, s.stride, s.pad_left);
      if (p.bottom < 0 || p.right < 0) refuse(s.name, "padding that would crop the input");
      ConvShape& u = layer.shape;
      u.h_in = s.h_in + p.top + p.bottom;
      u.w_in = s.w_in + p.left + p.right;
      u.pad = u.pad_top = u.pad_left = 0;
      if ((u.h_in - u.kernel) / u.stride + 1 != s.h_out || (u.w_in - u.kernel) / u.stride + 1 != s.w_out) {
        refuse(s.name, "padding whose unpadded convolution changes the output size");
      }
      need(in, int64_t(s.cin) * s.h_in * s.w_in);
      layer.in = kBufPad;
    }
    need(layer.in, in_floats(layer.shape));
    need(out, out_floats(layer.shape));
    const ConvShape& key_shape = layer.shape;
    const int index = static_cast<int>(plan.convs.size());
    int u = 0;
    for (; u < static_cast<int>(plan.unique.size()); ++u) {
      if (shape_key(plan.unique[u].shape) == shape_key(key_shape)) break;
    }
    if (u == static_cast<int>(plan.unique.size())) {
      UniqueConv uc;
      uc.shape = key_shape;
      uc.in = layer.in;
      uc.out = out;
      plan.unique.push_back(uc);
    }
    plan.unique[u].layers.push_back(index);
    layer.unique = u;
    plan.convs.push_back(layer);
    return index;
  };

  need(kBufX, int64_t(3) * net.height * net.width);
  const Buf stem_in[4] = {kBufX, kBufT1, kBufX, kBufT1};
  const Buf stem_out[4] = {kBufT1, kBufX, kBufT1, kBufX};
  for (int i = 0; i < 4; ++i) add_conv(net.stem[i], stem_in[i], stem_out[i], false);

  for (const BlockShape& b : net.blocks) {
    BlockPlan bp;
    need(kBufX, in_floats(b.conv1));
    bp.conv1 = add_conv(b.conv1, kBufX, kBufT1, false);
    bp.conv2 = add_conv(b.conv2, kBufT1, kBufT2, false);
    bp.conv3 = add_conv(b.conv3, kBufT2, kBufT3, true);
    if (b.act != Activation::kRelu && b.act != Activation::kSwish && b.act != Activation::kNone) {
      refuse(b.name + "/tail", std::string("activation ") + activation_name(b.act));
    }
    if (b.has_projection) {
      if (b.pool_shortcut) {
        // 2x2 'same' pool: stride 2 halves the block input (ceil), stride 1 keeps its size.
        const bool s2 = b.pool_stride == 2 && b.stride == 2;
        const bool s1 = b.pool_stride == 1 && b.stride == 1;
        if (!s2 && !s1) {
          refuse(b.name + "/shortcut_pool", "a 2x2 pool of stride " + std::to_string(b.pool_stride) + " in a block of stride " +
                                                std::to_string(b.stride));
        }
        if (b.shortcut.h_in != (b.h_in + b.pool_stride - 1) / b.pool_stride ||
            b.shortcut.w_in != (b.w_in + b.pool_stride - 1) / b.pool_stride || b.shortcut.stride != 1) {
          refuse(b.name + "/shortcut", "a projection whose input is not the pooled block input");
        }
        need(kBufPI, int64_t(b.cin) * b.shortcut.h_in * b.shortcut.w_in);
        bp.shortcut = add_conv(b.shortcut, kBufPI, kBufSC, true);
      } else {
        if (b.shortcut.h_in != b.h_in || b.shortcut.w_in != b.w_in) {
          refuse(b.name + "/shortcut", "a projection whose input is not the block input");
        }
        bp.shortcut = add_conv(b.shortcut, kBufX, kBufSC, true);
      }
      if (b.shortcut.h_out != b.h_out || b.shortcut.w_out != b.w_out || b.shortcut.cout != b.cout) {
        refuse(b.name + "/shortcut", "a projection whose output is not the block output's shape");
      }
    }
    need(kBufX, int64_t(b.cout) * b.h_out * b.w_out);  // the tail writes the block output to X
    plan.max_block_channels = std::max(plan.max_block_channels, b.cout);
    plan.max_se_channels = std::max(plan.max_se_channels, b.se_channels);
    plan.blocks.push_back(bp);
  }
  return plan;
}

}  // namespace resnetrs::cuda
