// The weights file as the loading process itself reads it: opened once (regular files only, so a
// directory, a FIFO or a device is refused before anything parses it), and the tensors' bytes read
// with pread() at the offsets the HDF5 structure gave, after checking they lie inside the file.
#pragma once

#include <cstdint>
#include <string>

namespace resnetrs {

class WeightsDataFile {
 public:
  // Throws Error(kIoError) naming the path when it is missing, unreadable, a directory or not a
  // regular file.
  explicit WeightsDataFile(std::string path);
  ~WeightsDataFile();
  WeightsDataFile(const WeightsDataFile&) = delete;
  WeightsDataFile& operator=(const WeightsDataFile&) = delete;

  const std::string& path() const { return m_path; }
  uint64_t size() const { return m_size; }

  // Reads `bytes` bytes at `offset` into `out`. Throws Error(kWeightsInvalid) naming `where` when
  // they do not lie inside the file (truncated or damaged) or cannot be read.
  void read(const std::string& where, uint64_t offset, uint64_t bytes, void* out) const;

 private:
  std::string m_path;
  int m_fd = -1;
  uint64_t m_size = 0;
};

// Throws Error(kIoError) naming `path` unless it is an existing regular file.
void require_regular_file(const std::string& path);

}  // namespace resnetrs
