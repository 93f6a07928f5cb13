#include "cuda/device_weights.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstring>
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
  Packer(bool nhwc, kernels::ActType conv_type) : m_nhwc(nhwc), m_type(conv_type) {}

  const void* add16(const std::vector<float>& v) {
    const size_t offset = m_total;
    m_total = align_up(m_total + (v.size() + 1) / 2);  // two 16-bit values per float slot
    if (m_base) {
      const std::vector<uint16_t> bits = to_16bit(v, m_type);
      RESNETRS_CUDA_CHECK(cudaMemcpy(m_base + offset, bits.data(), bits.size() * sizeof(uint16_t), cudaMemcpyHostToDevice));
      return m_base + offset;
    }
    return nullptr;
  }
  const void* add_typed(const std::vector<float>& v) {
    if (m_type == kernels::ActType::kF32) return add(v);
    return add16(v);
  }
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
      d.weight = add_typed(oihw_to_ohwi(f.weight, f.cout, f.cin, f.kernel));
    } else {
      d.weight = add_typed(f.weight);  // 1x1 filters are the same in both layouts; sizes are equal anyway
    }
    d.bias = add(f.bias);
    d.bias_conv = m_type == kernels::ActType::kF32 ? static_cast<const void*>(d.bias) : add16(f.bias);
    return d;
  }
  void start_copy(float* base) {
    m_base = base;
    m_total = 0;
  }
  size_t total_floats() const { return m_total; }

 private:
  bool m_nhwc;
  kernels::ActType m_type;
  float* m_base = nullptr;
  size_t m_total = 0;
};

}  // namespace

std::vector<uint16_t> to_16bit(const std::vector<float>& v, kernels::ActType type) {
  RESNETRS_CHECK_ARG(type != kernels::ActType::kF32, "to_16bit: the type is fp32");
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    // The host forms of CUDA's own conversions (round to nearest even, NaN and inf kept).
    if (type == kernels::ActType::kF16) {
      const __half h = __float2half_rn(v[i]);
      std::memcpy(&out[i], &h, sizeof(uint16_t));
    } else {
      const __nv_bfloat16 b = __float2bfloat16_rn(v[i]);
      std::memcpy(&out[i], &b, sizeof(uint16_t));
    }
  }
  return out;
}

std::vector<float> oihw_to_ohwi(const std::vector<float>& w, int cout, int cin, int k) {
  std::vector<float> out(w.size());
  for (int o = 0; o < cout; ++o)
    for (int i = 0; i < cin; ++i)
      for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x)
          out[((size_t(o) * k + y) * k + x) * cin + i] = w[((size_t(o) * cin + i) * k + y) * k + x];
  return out;
}

DeviceWeights upload_weights(const FoldedWeights& w, const NetworkDesc& net, bool nhwc_filters, kernels::ActType conv_type) {
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
  Packer packer(nhwc_filters, conv_type);
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
