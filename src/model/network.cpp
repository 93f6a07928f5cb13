#include "model/network.h"

#include <algorithm>

#include "common/error.h"

namespace resnetrs {
namespace {

// Keras 'same' leading pad for one dimension: total = max((out - 1) * stride + kernel - size, 0),
// of which the smaller half goes first.
int same_pad_before(int size, int kernel, int stride) {
  const int out = (size + stride - 1) / stride;
  return std::max((out - 1) * stride + kernel - size, 0) / 2;
}

ConvShape make_conv(std::string name, int cin, int cout, int kernel, int stride, int h, int w, Activation act,
                    Stride2Padding rule = Stride2Padding::kSymmetric) {
  ConvShape c;
  c.name = std::move(name);
  c.cin = cin;
  c.cout = cout;
  c.kernel = kernel;
  c.stride = stride;
  c.pad = kernel / 2;
  c.h_in = h;
  c.w_in = w;
  c.h_out = (h + 2 * c.pad - kernel) / stride + 1;
  c.w_out = (w + 2 * c.pad - kernel) / stride + 1;
  c.pad_top = c.pad;
  c.pad_left = c.pad;
  if (stride > 1 && rule == Stride2Padding::kSame) {
    c.pad_top = same_pad_before(h, kernel, stride);
    c.pad_left = same_pad_before(w, kernel, stride);
  }
  c.act = act;
  return c;
}

}  // namespace

NetworkDesc describe_network(const ModelConfig& config, int height, int width) {
  RESNETRS_CHECK_ARG(height >= kMinResolution && width >= kMinResolution,
                     "input resolution must be at least " + std::to_string(kMinResolution) + "x" +
                         std::to_string(kMinResolution) + ", got " + std::to_string(height) + "x" +
                         std::to_string(width));
  config_for_depth(config.depth, config.num_classes);  // validates depth and class count

  NetworkDesc net;
  net.config = config;
  net.height = height;
  net.width = width;
  net.num_classes = config.num_classes;

  const ModelVariant& v = config.variant;
  const Activation act = v.activation;
  RESNETRS_CHECK_ARG(act == Activation::kRelu || act == Activation::kSwish,
                     std::string("the network's activation must be relu or swish, got ") + activation_name(act));
  int h = height, w = width, c = 3;
  const int stem_stride[4] = {2, 1, 1, 2};
  for (int i = 0; i < 4; ++i) {
    net.stem[i] = make_conv("stem/conv" + std::to_string(i + 1), c, kStemWidths[i], 3, stem_stride[i], h, w, act,
                            v.stride2_padding);
    h = net.stem[i].h_out;
    w = net.stem[i].w_out;
    c = kStemWidths[i];
  }

  for (int g = 0; g < 4; ++g) {
    const int f = kStageWidths[g];
    for (int b = 0; b < config.blocks[g]; ++b) {
      BlockShape blk;
      blk.stage = g + 1;
      blk.index = b;
      blk.name = "stage" + std::to_string(g + 1) + "/block" + std::to_string(b);
      blk.cin = c;
      blk.width = f;
      blk.cout = kExpansion * f;
      blk.se_channels = se_reduced_channels(blk.cout);
      blk.stride = (g > 0 && b == 0) ? 2 : 1;
      blk.h_in = h;
      blk.w_in = w;
      blk.conv1 = make_conv(blk.name + "/conv1", c, f, 1, 1, h, w, act);
      blk.conv2 = make_conv(blk.name + "/conv2", f, f, 3, blk.stride, h, w, act, v.stride2_padding);
      blk.h_out = blk.conv2.h_out;
      blk.w_out = blk.conv2.w_out;
      blk.conv3 = make_conv(blk.name + "/conv3", f, blk.cout, 1, 1, blk.h_out, blk.w_out, Activation::kNone);
      blk.act = act;
      blk.has_projection = (b == 0);
      blk.pool_shortcut = blk.has_projection && (blk.stride == 2 || v.stage1_shortcut_pool);
      blk.pool_stride = blk.stride;
      if (blk.has_projection) {
        // The projection is always a stride-1 1x1 conv, applied after the pool when there is one.
        blk.shortcut = make_conv(blk.name + "/shortcut", c, blk.cout, 1, 1, blk.h_out, blk.w_out, Activation::kNone);
      }
      net.blocks.push_back(blk);
      h = blk.h_out;
      w = blk.w_out;
      c = blk.cout;
    }
  }
  net.final_h = h;
  net.final_w = w;
  return net;
}

int64_t NetworkDesc::trainable_params() const {
  int64_t n = 0;
  auto conv_bn = [&](const ConvShape& cs) { n += cs.weight_count() + 2 * cs.cout; };
  for (const auto& s : stem) conv_bn(s);
  for (const auto& b : blocks) {
    conv_bn(b.conv1);
    conv_bn(b.conv2);
    conv_bn(b.conv3);
    if (b.has_projection) conv_bn(b.shortcut);
    n += int64_t(b.cout) * b.se_channels + b.se_channels;  // SE reduce kernel + bias
    n += int64_t(b.se_channels) * b.cout + b.cout;         // SE expand kernel + bias
  }
  n += int64_t(kFinalChannels) * num_classes + num_classes;
  return n;
}

int64_t NetworkDesc::macs() const {
  int64_t m = 0;
  for (const auto& s : stem) m += s.macs();
  for (const auto& b : blocks) {
    m += b.conv1.macs() + b.conv2.macs() + b.conv3.macs();
    if (b.has_projection) m += b.shortcut.macs();
    m += 2 * int64_t(b.cout) * b.se_channels;
  }
  m += int64_t(kFinalChannels) * num_classes;
  return m;
}

int64_t NetworkDesc::max_activation_floats() const {
  int64_t m = int64_t(3) * height * width;
  for (const auto& s : stem) m = std::max<int64_t>(m, int64_t(s.cout) * s.h_out * s.w_out);
  for (const auto& b : blocks) {
    m = std::max<int64_t>(m, int64_t(b.cin) * b.h_in * b.w_in);
    m = std::max<int64_t>(m, int64_t(b.width) * b.h_in * b.w_in);
    m = std::max<int64_t>(m, int64_t(b.cout) * b.h_out * b.w_out);
  }
  return m;
}

}  // namespace resnetrs
