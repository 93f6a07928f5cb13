#include "io/weights_checksum.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>

// The checksum is defined over little-endian bytes; the engine stores floats in host order.
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "resnetrs assumes a little-endian host (weights files are little-endian float32)"
#endif

namespace resnetrs {

void WeightsChecksum::update(const void* data, size_t bytes) {
  m_crc = static_cast<uint32_t>(crc32_z(m_crc, static_cast<const Bytef*>(data), bytes));
}

std::string WeightsChecksum::text() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(m_crc));
  return std::string(kPrefix) + buf;
}

namespace {

template <typename Bits, typename Float>
std::string hex_bits(Float v) {
  static_assert(sizeof(Bits) == sizeof(Float), "bit pattern size");
  Bits bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", int(2 * sizeof(Bits)), static_cast<unsigned long long>(bits));
  return buf;
}

std::string float_list(const std::array<float, 3>& v) {
  return hex_bits<uint32_t>(v[0]) + "," + hex_bits<uint32_t>(v[1]) + "," + hex_bits<uint32_t>(v[2]);
}

}  // namespace

std::string canonical_attributes(const WeightsAttributes& a, const ModelConfig& c) {
  std::string s;
  const auto line = [&](const char* name, const std::string& value) { s += std::string(name) + "=" + value + "\n"; };
  line("format", kWeightsFormatName);
  line("format_version", std::to_string(a.format_version));
  line("format_minor", std::to_string(a.format_minor));
  line("depth", std::to_string(c.depth));
  line("blocks_per_stage", std::to_string(c.blocks[0]) + "," + std::to_string(c.blocks[1]) + "," + std::to_string(c.blocks[2]) + "," +
                               std::to_string(c.blocks[3]));
  line("num_classes", std::to_string(c.num_classes));
  line("bn_epsilon", hex_bits<uint64_t>(a.bn_epsilon));
  line("input_mean", float_list(a.input_mean));
  line("input_std", float_list(a.input_std));
  line("train_resolution", std::to_string(a.train_resolution));
  line("activation", activation_name(c.variant.activation));
  line("stride2_padding", stride2_padding_name(c.variant.stride2_padding));
  line("stage1_shortcut_pool", stage1_shortcut_pool_name(c.variant.stage1_shortcut_pool));
  return s;
}

bool WeightsChecksum::well_formed(const std::string& s) {
  const std::string prefix = kPrefix;
  if (s.size() != prefix.size() + 8 || s.compare(0, prefix.size(), prefix) != 0) return false;
  for (size_t i = prefix.size(); i < s.size(); ++i) {
    const char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace resnetrs
