#include "common/utf8_text.h"

#include <cstdint>

namespace resnetrs {
namespace {

// Length of the well-formed UTF-8 sequence at s[i], 0 when the byte there does not start one.
size_t sequence_length(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // the allowed range of the second byte (RFC 3629, table 3-7 of Unicode)
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong 3-byte forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong 4-byte forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

void append_escape(std::string& out, uint8_t b) {
  static const char kHex[] = "0123456789ABCDEF";
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 15];
}

std::string escape(const std::string& s, bool controls) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = sequence_length(s, i);
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (n == 0 || (controls && n == 1 && (b < 0x20 || b == 0x7F || b == '\\'))) {
      append_escape(out, b);
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace

std::string valid_utf8(const std::string& s) {
  return is_valid_utf8(s) ? s : escape(s, false);
}

std::string quoted_file_text(const std::string& s) { return escape(s, true); }

bool is_valid_utf8(const std::string& s, size_t* bad_offset) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = sequence_length(s, i);
    if (n == 0) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += n;
  }
  return true;
}

}  // namespace resnetrs
