#include "model/fold.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "io/weights_limits.h"
#include "model/network.h"

namespace resnetrs {
namespace {

// A file whose every value is in range can still fold into overflow (a large gamma or kernel over
// a zero variance with a tiny epsilon); refuse that here rather than compute NaN logits later.
void check_folded(const FoldedConv& f, const std::string& layer, const std::string& origin) {
  auto check = [&](const std::vector<float>& v, const char* what) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::isfinite(v[i]) && std::fabs(v[i]) <= limits::kMaxAbsFolded) continue;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", double(v[i]));
      throw_error(Status::kWeightsInvalid, origin + ": folding BN into '/" + layer + "' gives " + what + " " + buf + " at flat index " +
                                               std::to_string(i) + " (expected finite values within +-" + std::to_string(int(limits::kMaxAbsFolded)) + "): its moving_variance, " +
                                               "bn_epsilon, gamma or kernel are out of any trained range");
    }
  };
  check(f.weight, "weight");
  check(f.bias, "bias");
}

}  // namespace

FoldedConv fold_conv_bn(const ConvBnParams& conv, int cout, int cin, int kernel, double epsilon) {
  FoldedConv f;
  f.cout = cout;
  f.cin = cin;
  f.kernel = kernel;
  const size_t per_out = size_t(cin) * kernel * kernel;
  f.weight.resize(size_t(cout) * per_out);
  f.bias.resize(cout);
  for (int o = 0; o < cout; ++o) {
    const double scale = double(conv.bn.gamma[o]) / std::sqrt(double(conv.bn.moving_variance[o]) + epsilon);
    for (size_t i = 0; i < per_out; ++i) {
      f.weight[o * per_out + i] = static_cast<float>(double(conv.kernel[o * per_out + i]) * scale);
    }
    f.bias[o] = static_cast<float>(double(conv.bn.beta[o]) - double(conv.bn.moving_mean[o]) * scale);
  }
  return f;
}

FoldedWeights fold_weights(const RawWeights& raw, const std::string& origin) {
  const NetworkDesc net = describe_network(raw.config, kMinResolution, kMinResolution);
  const double eps = raw.attrs.bn_epsilon;
  FoldedWeights fw;
  fw.config = raw.config;
  fw.input_mean = raw.attrs.input_mean;
  fw.input_std = raw.attrs.input_std;
  for (int i = 0; i < 4; ++i) {
    const ConvShape& s = net.stem[i];
    fw.stem[i] = fold_conv_bn(raw.stem[i], s.cout, s.cin, s.kernel, eps);
    check_folded(fw.stem[i], s.name, origin);
  }
  fw.blocks.resize(net.blocks.size());
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockShape& b = net.blocks[i];
    const BlockParams& p = raw.blocks[i];
    FoldedBlock& f = fw.blocks[i];
    f.conv1 = fold_conv_bn(p.conv1, b.conv1.cout, b.conv1.cin, b.conv1.kernel, eps);
    f.conv2 = fold_conv_bn(p.conv2, b.conv2.cout, b.conv2.cin, b.conv2.kernel, eps);
    f.conv3 = fold_conv_bn(p.conv3, b.conv3.cout, b.conv3.cin, b.conv3.kernel, eps);
    f.has_shortcut = b.has_projection;
    if (b.has_projection) f.shortcut = fold_conv_bn(p.shortcut, b.shortcut.cout, b.shortcut.cin, 1, eps);
    check_folded(f.conv1, b.conv1.name, origin);
    check_folded(f.conv2, b.conv2.name, origin);
    check_folded(f.conv3, b.conv3.name, origin);
    if (b.has_projection) check_folded(f.shortcut, b.shortcut.name, origin);
    f.se_channels = b.se_channels;
    f.se_reduce_weight = p.se_reduce_kernel;
    f.se_reduce_bias = p.se_reduce_bias;
    f.se_expand_weight = p.se_expand_kernel;
    f.se_expand_bias = p.se_expand_bias;
  }
  fw.dense_weight = raw.dense_kernel;
  fw.dense_bias = raw.dense_bias;
  return fw;
}

}  // namespace resnetrs
