#include "io/weights_schema.h"

#include "common/error.h"
#include "model/network.h"

namespace resnetrs {

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

// Builds the list for mutable or const weights; the block list must already have its length.
template <typename Slot, typename Weights>
std::vector<Slot> build_slots(Weights& w, const NetworkDesc& net) {
  std::vector<Slot> slots;
  auto add_conv_bn = [&](const std::string& group, const ConvShape& cs, auto& p) {
    const int64_t k = cs.kernel;
    slots.push_back({"/" + group + "/kernel", {cs.cout, cs.cin, k, k}, TensorRole::kConvKernel, &p.kernel, cs.cin * k * k});
    const std::vector<int64_t> c = {cs.cout};
    slots.push_back({"/" + group + "/bn/gamma", c, TensorRole::kBnGamma, &p.bn.gamma, 0});
    slots.push_back({"/" + group + "/bn/beta", c, TensorRole::kBnBeta, &p.bn.beta, 0});
    slots.push_back({"/" + group + "/bn/moving_mean", c, TensorRole::kBnMean, &p.bn.moving_mean, 0});
    slots.push_back({"/" + group + "/bn/moving_variance", c, TensorRole::kBnVariance, &p.bn.moving_variance, 0});
  };
  for (int i = 0; i < 4; ++i) add_conv_bn(net.stem[i].name, net.stem[i], w.stem[i]);
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockShape& b = net.blocks[i];
    auto& p = w.blocks[i];
    add_conv_bn(b.conv1.name, b.conv1, p.conv1);
    add_conv_bn(b.conv2.name, b.conv2, p.conv2);
    add_conv_bn(b.conv3.name, b.conv3, p.conv3);
    const int64_t c = b.cout, r = b.se_channels;
    slots.push_back({"/" + b.name + "/se/reduce/kernel", {r, c, 1, 1}, TensorRole::kSeKernel, &p.se_reduce_kernel, c});
    slots.push_back({"/" + b.name + "/se/reduce/bias", {r}, TensorRole::kSeBias, &p.se_reduce_bias, 0});
    slots.push_back({"/" + b.name + "/se/expand/kernel", {c, r, 1, 1}, TensorRole::kSeKernel, &p.se_expand_kernel, r});
    slots.push_back({"/" + b.name + "/se/expand/bias", {c}, TensorRole::kSeBias, &p.se_expand_bias, 0});
    if (b.has_projection) add_conv_bn(b.shortcut.name, b.shortcut, p.shortcut);
  }
  const int64_t k = w.config.num_classes;
  slots.push_back({"/head/dense/kernel", {k, kFinalChannels}, TensorRole::kDenseKernel, &w.dense_kernel, kFinalChannels});
  slots.push_back({"/head/dense/bias", {k}, TensorRole::kDenseBias, &w.dense_bias, 0});
  return slots;
}

}  // namespace

std::vector<TensorSlot> weight_slots(RawWeights& w) {
  const NetworkDesc net = describe_network(w.config, kMinResolution, kMinResolution);
  w.blocks.resize(net.blocks.size());
  for (size_t i = 0; i < net.blocks.size(); ++i) w.blocks[i].has_shortcut = net.blocks[i].has_projection;
  return build_slots<TensorSlot>(w, net);
}

std::vector<ConstTensorSlot> weight_slots(const RawWeights& w, const std::string& origin) {
  const NetworkDesc net = describe_network(w.config, kMinResolution, kMinResolution);
  if (w.blocks.size() != net.blocks.size()) {
    throw_error(Status::kWeightsInvalid, origin + ": expected " + std::to_string(net.blocks.size()) + " blocks for depth " +
                                             std::to_string(w.config.depth) + ", found " + std::to_string(w.blocks.size()));
  }
  return build_slots<ConstTensorSlot>(w, net);
}

}  // namespace resnetrs
