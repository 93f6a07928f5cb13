// Little-endian binary encoding of plain values, for results passed between processes
// (common/isolated_call.h). ByteReader never reads past its input: a short or inconsistent input
// throws Error(kInternal) naming what was being read, so the receiving side can treat the bytes
// as untrusted.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "common/error.h"

namespace resnetrs {

class ByteWriter {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_arithmetic_v<T>, "plain numbers only");
    append(&v, sizeof v);
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    append(s.data(), s.size());
  }
  void append(const void* data, size_t bytes) {
    if (bytes) m_bytes.append(static_cast<const char*>(data), bytes);
  }
  std::string take() { return std::move(m_bytes); }

 private:
  std::string m_bytes;
};

class ByteReader {
 public:
  explicit ByteReader(const std::string& bytes) : m_data(bytes.data()), m_left(bytes.size()) {}

  template <typename T>
  T get(const char* what) {
    static_assert(std::is_arithmetic_v<T>, "plain numbers only");
    T v;
    copy_out(&v, sizeof v, what);
    return v;
  }
  std::string get_string(const char* what, size_t max_bytes) {
    const uint64_t n = get<uint64_t>(what);
    if (n > max_bytes || n > m_left) throw_error(Status::kInternal, std::string("malformed result: ") + what + " is too long");
    std::string s(m_data, size_t(n));
    skip(size_t(n));
    return s;
  }
  void copy_out(void* out, size_t bytes, const char* what) {
    if (bytes > m_left) throw_error(Status::kInternal, std::string("malformed result: ") + what + " is cut short");
    if (bytes == 0) return;  // `out` may be an empty vector's null data()
    std::memcpy(out, m_data, bytes);
    skip(bytes);
  }
  size_t left() const { return m_left; }

 private:
  void skip(size_t n) {
    m_data += n;
    m_left -= n;
  }
  const char* m_data;
  size_t m_left;
};

}  // namespace resnetrs
