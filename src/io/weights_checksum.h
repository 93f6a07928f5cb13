// The `checksum` of a resnetrs-weights file (docs/weights-format.md, "The checksum"): CRC-32 (the
// ISO-HDLC polynomial of zlib's crc32, identical to Python's zlib.crc32), written as "crc32:" and 8
// lowercase hex digits. Format v1.2 covers the canonical text of the root attributes
// (canonical_attributes()) followed by every dataset's float32 little-endian bytes in the schema's
// order; v1.1 covered the datasets only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "io/weights.h"

namespace resnetrs {

class WeightsChecksum {
 public:
  static constexpr const char* kPrefix = "crc32:";

  void update(const void* data, size_t bytes);
  void update(const std::string& bytes) { update(bytes.data(), bytes.size()); }
  std::string text() const;  // e.g. "crc32:0a1b2c3d"

  // True when `s` has the form the format defines ("crc32:" + 8 lowercase hex digits).
  static bool well_formed(const std::string& s);

 private:
  uint32_t m_crc = 0;
};

// The first format minor whose checksum covers the root attributes.
constexpr int kChecksumCoversAttributesMinor = 2;

// The root attributes that the v1.2 checksum covers, in their order, as canonical_attributes()
// writes them (also the list a v1.0 / v1.1 file's warning names as not covered).
constexpr const char* kChecksummedAttributes =
    "format, format_version, format_minor, depth, blocks_per_stage, num_classes, bn_epsilon, input_mean, input_std, "
    "train_resolution, activation, stride2_padding, stage1_shortcut_pool";

// The canonical bytes of the root attributes for the v1.2 checksum: one ASCII line "name=value\n"
// per attribute of kChecksummedAttributes, in that order; integers in decimal, blocks_per_stage
// as "3,4,6,3", floats as "0x" and the lowercase hex digits of their IEEE bits (bn_epsilon: 16 of
// binary64, input_mean/input_std: 8 of binary32 each, comma-separated), strings as their value.
// format_version, format_minor, bn_epsilon, input_mean/std and train_resolution come from `attrs`;
// depth, num_classes, blocks_per_stage and the variant from `config` (the reader built it from the
// file's attributes and checked blocks_per_stage against it); `format` is the format's name (the
// reader refuses any other).
std::string canonical_attributes(const WeightsAttributes& attrs, const ModelConfig& config);

}  // namespace resnetrs
