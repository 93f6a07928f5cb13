#include "io/weights_checksum.h"

#include <zlib.h>

#include <cstdio>

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
