#include "cuda/engine_plan.h"

#include <algorithm>
#include <tuple>

#include "common/error.h"

namespace resnetrs::cuda {
namespace {

auto shape_key(const ConvShape& s) {
  return std::make_tuple(s.cin, s.cout, s.kernel, s.stride, s.pad, s.h_in, s.w_in, s.relu());
}

int64_t out_floats(const ConvShape& s) { return int64_t(s.cout) * s.h_out * s.w_out; }
int64_t in_floats(const ConvShape& s) { return int64_t(s.cin) * s.h_in * s.w_in; }

}  // namespace

const char* buf_name(int b) {
  static const char* const names[kBufCount] = {"X", "T1", "T2", "T3", "SC", "PI"};
  return b >= 0 && b < kBufCount ? names[b] : "?";
}

EnginePlan make_engine_plan(const NetworkDesc& net) {
  EnginePlan plan;
  auto& size = plan.buffer_floats;
  auto need = [&](Buf b, int64_t floats) { size[b] = std::max(size[b], floats); };
  auto add_conv = [&](const ConvShape& s, Buf in, Buf out) {
    RESNETRS_CHECK_ARG(in != out, "plan: convolution " + s.name + " would read and write the same buffer");
    ConvLayer layer;
    layer.shape = s;
    layer.in = in;
    layer.out = out;
    need(in, in_floats(s));
    need(out, out_floats(s));
    const int index = static_cast<int>(plan.convs.size());
    int u = 0;
    for (; u < static_cast<int>(plan.unique.size()); ++u) {
      if (shape_key(plan.unique[u].shape) == shape_key(s)) break;
    }
    if (u == static_cast<int>(plan.unique.size())) {
      UniqueConv uc;
      uc.shape = s;
      uc.in = in;
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
  for (int i = 0; i < 4; ++i) add_conv(net.stem[i], stem_in[i], stem_out[i]);

  for (const BlockShape& b : net.blocks) {
    BlockPlan bp;
    need(kBufX, in_floats(b.conv1));
    bp.conv1 = add_conv(b.conv1, kBufX, kBufT1);
    bp.conv2 = add_conv(b.conv2, kBufT1, kBufT2);
    bp.conv3 = add_conv(b.conv3, kBufT2, kBufT3);
    if (b.has_projection) {
      if (b.pool_shortcut) {
        need(kBufPI, int64_t(b.cin) * b.h_out * b.w_out);
        bp.shortcut = add_conv(b.shortcut, kBufPI, kBufSC);
      } else {
        bp.shortcut = add_conv(b.shortcut, kBufX, kBufSC);
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
