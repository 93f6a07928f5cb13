// The `checksum` of a resnetrs-weights v1.1 file: CRC-32 (the ISO-HDLC polynomial of zlib's crc32,
// identical to Python's zlib.crc32) over every dataset's float32 little-endian bytes, in the
// schema's order, written as "crc32:" and 8 lowercase hex digits (docs/weights-format.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace resnetrs {

class WeightsChecksum {
 public:
  static constexpr const char* kPrefix = "crc32:";

  void update(const void* data, size_t bytes);
  std::string text() const;  // e.g. "crc32:0a1b2c3d"

  // True when `s` has the form the format defines ("crc32:" + 8 lowercase hex digits).
  static bool well_formed(const std::string& s);

 private:
  uint32_t m_crc = 0;
};

}  // namespace resnetrs
