// RAII ownership of HDF5 identifiers (hid_t) and a scope that silences HDF5's default error
// printing, so failures surface only as our own messages.
#pragma once

#include <hdf5.h>

#include <utility>

namespace resnetrs {

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

// Turns off HDF5's automatic error-stack printing for the lifetime of the object.
class H5QuietErrors {
 public:
  H5QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &m_func, &m_data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~H5QuietErrors() { H5Eset_auto2(H5E_DEFAULT, m_func, m_data); }
  H5QuietErrors(const H5QuietErrors&) = delete;
  H5QuietErrors& operator=(const H5QuietErrors&) = delete;

 private:
  H5E_auto2_t m_func = nullptr;
  void* m_data = nullptr;
};

}  // namespace resnetrs
