// RAII ownership of HDF5 identifiers (hid_t) and a scope around every use of HDF5 that silences
// its default error printing and leaves this thread's error stack empty on exit.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <string>
#include <utility>

namespace resnetrs {

// Held by every use of HDF5 in this process (the writer, an in-process parse): libhdf5 may be
// built without its thread-safety option, and then must never be entered by two threads at once.
std::mutex& hdf5_lock();

class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, Closer closer) : m_id(id), m_closer(closer) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& o) noexcept : m_id(std::exchange(o.m_id, H5I_INVALID_HID)), m_closer(o.m_closer) {}
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      reset();
      m_id = std::exchange(o.m_id, H5I_INVALID_HID);
      m_closer = o.m_closer;
    }
    return *this;
  }
  ~H5Id() { reset(); }

  hid_t get() const { return m_id; }
  bool valid() const { return m_id >= 0; }
  void reset() {
    if (m_id >= 0 && m_closer) m_closer(m_id);
    m_id = H5I_INVALID_HID;
  }

 private:
  hid_t m_id = H5I_INVALID_HID;
  Closer m_closer = nullptr;
};

// For the lifetime of the object: HDF5 prints nothing (failures surface as our own messages).
// On exit it clears this thread's error stack: a record left there holds references to HDF5's
// error classes, so a thread that exits with a non-empty stack leaks it and, at process exit,
// HDF5 cannot close its library ("HDF5: infinite loop closing library").
class H5ErrorScope {
 public:
  H5ErrorScope() {
    H5Eget_auto2(H5E_DEFAULT, &m_func, &m_data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~H5ErrorScope() {
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, m_func, m_data);
  }
  H5ErrorScope(const H5ErrorScope&) = delete;
  H5ErrorScope& operator=(const H5ErrorScope&) = delete;

  // The innermost (most specific) description on this thread's error stack, e.g. "truncated
  // file: eof = 1000, sblock->base_addr = 0, stored_eof = 2048"; empty when the stack is empty.
  static std::string innermost_message();

 private:
  H5E_auto2_t m_func = nullptr;
  void* m_data = nullptr;
};

}  // namespace resnetrs
