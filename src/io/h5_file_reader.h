// Guarded reading of one HDF5 file that may be damaged or hostile. libhdf5 1.10.8 (Debian 12)
// crashes or loops on some malformed structures (docs/testing.md, "Fuzzing"), so this reader
// touches as little of the format as it can:
//  - it opens regular files only (a directory or a FIFO is refused before HDF5 sees it);
//  - it never reads a variable-length string (their global-heap reader is where 1.10.8 crashes
//    and loops); fixed-length strings are read, variable-length ones only recognised;
//  - every attribute's and dataset's datatype is checked to be exactly the format's (int32, IEEE
//    binary32/binary64 little-endian, their every field) before a value is read, and a string
//    must be UTF-8;
//  - a dataset is located only when it is reached through hard links, is float32 little-endian,
//    contiguous or compact, has no filter and no external file, and its stored size is exactly
//    its shape's; contiguous data is not read here but located (offset and size), for the loading
//    process to read with its own bounds-checked pread() (io/weights_data_file.h), never through
//    H5Dread (whose vectored copy crashes on inconsistent extents), so nothing outside the file is
//    ever read.
// Even so, libhdf5 1.10.8 still crashes on some hostile object headers, so the loader runs this
// reader in a child process (common/isolated_call.h, io/weights_reader.cpp).
// Every failure throws Error(kWeightsInvalid) naming the file, the object and what was wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/hdf5_handle.h"
#include "io/weights_manifest.h"

namespace resnetrs {

class H5FileReader {
 public:
  // Throws kIoError when the path is missing, unreadable, a directory or not a regular file;
  // kWeightsInvalid when it is not HDF5 or HDF5 cannot open it (truncated or damaged).
  explicit H5FileReader(std::string path);
  H5FileReader(const H5FileReader&) = delete;
  H5FileReader& operator=(const H5FileReader&) = delete;

  [[noreturn]] void fail(const std::string& where, const std::string& what) const;
  const std::string& path() const { return m_path; }

  // Root attributes.
  bool has_attr(const char* name) const;
  int read_int(const char* name) const;
  std::vector<int> read_ints(const char* name, size_t count) const;
  std::vector<float> read_floats(const char* name, size_t count) const;
  double read_double(const char* name) const;
  // A fixed-length string. A variable-length one is refused when `allow_variable` is false and
  // otherwise returns nullopt without reading it (see the header comment).
  std::optional<std::string> read_string(const char* name, bool allow_variable) const;

  // Checks the float32 dataset at `path` (absolute) of exactly `shape` and says where its values
  // are: the byte range of the file for contiguous storage, the values for compact storage.
  StoredTensor locate_float32_dataset(const std::string& path, const std::vector<int64_t>& shape) const;

  // Every dataset reachable through hard links, as absolute paths.
  std::vector<std::string> all_datasets() const;

 private:
  H5Id open_attr(const char* name) const;
  template <typename T>
  std::vector<T> read_numeric(const char* name, hid_t mem_type, int expected, size_t count) const;
  void require_hard_links(const std::string& path, const std::string& if_missing) const;

  std::string m_path;
  H5Id m_file;
};

}  // namespace resnetrs
