#include "cuda/device_weights.h"

#include <string>

#include "common/error.h"
#include "cuda/cuda_check.h"

namespace resnetrs::cuda {
namespace {

constexpr size_t kAlignFloats = 64;  // 256 bytes

size_t align_up(size_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

void expect(size_t got, size_t want, const std::string& what) {
  if (got != want) {
    throw_error(Status::kWeightsInvalid, "folded weights: " + what + " has " + std::to_string(got) + " values, the network needs " +
                                             std::to_string(want));
  }
}

void check_conv(const FoldedConv& f, const ConvShape& s) {
  expect(f.weight.size(), size_t(s.weight_count()), s.name + " weight");
  expect(f.bias.size(), size_t(s.cout), s.name + " bias");
}

// Two passes over the same tensor list: the first lays out offsets, the second copies.
class Packer {
 public:
  explicit Packer(bool nhwc) : m_nhwc(nhwc) {}

  const float* add(const std::vector<float>& v) {
    const size_t offset = m_total;
    m_total = align_up(m_total + v.size());
    if (m_base) {
      RESNETRS_CUDA_CHECK(cudaMemcpy(m_base + offset, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
      return m_base + offset;
    }
    return nullptr;
  }
  DeviceConv add_conv(const FoldedConv& f) {
    DeviceConv d;
    if (m_nhwc && f.kernel > 1 && m_base) {
      d.weight = add(oihw_to_ohwi(f.weight, f.cout, f.cin, f.kernel));
    } else {
      d.weight = add(f.weight);  // 1x1 filters are the same in both layouts; sizes are equal anyway
    }
    d.bias = add(f.bias);
    return d;
  }
  void start_copy(float* base) {
    m_base = base;
    m_total = 0;
  }
  size_t total_floats() const { return m_total; }

 private:
  bool m_nhwc;
  float* m_base = nullptr;
  size_t m_total = 0;
};

}  // namespace

std::vector<float> oihw_to_ohwi(const std::vector<float>& w, int cout, int cin, int k) {
  std::vector<float> out(w.size());
  for (int o = 0; o < cout; ++o)
    for (int i = 0; i < cin; ++i)
      for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x)
          out[((size_t(o) * k + y) * k + x) * cin + i] = w[((size_t(o) * cin + i) * k + y) * k + x];
  return out;
}

DeviceWeights upload_weights(const FoldedWeights& w, const NetworkDesc& net, bool nhwc_filters) {
  // Validate everything before allocating.
  if (w.config.depth != net.config.depth || w.blocks.size() != net.blocks.size()) {
    throw_error(Status::kWeightsInvalid, "folded weights are for depth " + std::to_string(w.config.depth) + " with " +
                                             std::to_string(w.blocks.size()) + " blocks; the network has depth " +
                                             std::to_string(net.config.depth) + " with " + std::to_string(net.blocks.size()));
  }
  for (int i = 0; i < 4; ++i) check_conv(w.stem[i], net.stem[i]);
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockShape& b = net.blocks[i];
    const FoldedBlock& f = w.blocks[i];
    check_conv(f.conv1, b.conv1);
    check_conv(f.conv2, b.conv2);
    check_conv(f.conv3, b.conv3);
    if (b.has_projection != f.has_shortcut) {
      throw_error(Status::kWeightsInvalid, "folded weights: " + b.name + (b.has_projection ? " lacks" : " has an unexpected") +
                                               " projection shortcut");
    }
    if (b.has_projection) check_conv(f.shortcut, b.shortcut);
    const size_t rc = size_t(b.se_channels) * b.cout;
    expect(f.se_reduce_weight.size(), rc, b.name + " SE reduce weight");
    expect(f.se_reduce_bias.size(), size_t(b.se_channels), b.name + " SE reduce bias");
    expect(f.se_expand_weight.size(), rc, b.name + " SE expand weight");
    expect(f.se_expand_bias.size(), size_t(b.cout), b.name + " SE expand bias");
  }
  expect(w.dense_weight.size(), size_t(net.num_classes) * kFinalChannels, "dense weight");
  expect(w.dense_bias.size(), size_t(net.num_classes), "dense bias");

  DeviceWeights d;
  Packer packer(nhwc_filters);
  auto pack_all = [&]() {
    for (int i = 0; i < 4; ++i) d.stem[i] = packer.add_conv(w.stem[i]);
    d.blocks.assign(net.blocks.size(), DeviceBlock{});
    for (size_t i = 0; i < net.blocks.size(); ++i) {
      const FoldedBlock& f = w.blocks[i];
      DeviceBlock& db = d.blocks[i];
      db.conv1 = packer.add_conv(f.conv1);
      db.conv2 = packer.add_conv(f.conv2);
      db.conv3 = packer.add_conv(f.conv3);
      if (f.has_shortcut) db.shortcut = packer.add_conv(f.shortcut);
      db.se_w1 = packer.add(f.se_reduce_weight);
      db.se_b1 = packer.add(f.se_reduce_bias);
      db.se_w2 = packer.add(f.se_expand_weight);
      db.se_b2 = packer.add(f.se_expand_bias);
    }
    d.dense_weight = packer.add(w.dense_weight);
    d.dense_bias = packer.add(w.dense_bias);
  };
  pack_all();  // sizes only
  d.buffer = DeviceBuffer(packer.total_floats() * sizeof(float), "the folded weights");
  packer.start_copy(d.buffer.floats());
  pack_all();  // copies
  // cudaMemcpy from pageable memory may return before the data has landed, and the engine works
  // on a non-blocking stream that does not order after the legacy stream: wait for the copies.
  RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
  return d;
}

}  // namespace resnetrs::cuda
