#include "io/weights_data_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace resnetrs {

void require_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw_error(Status::kIoError, "cannot open weights file '" + path + "': no such file or not readable");
  }
  if (S_ISDIR(st.st_mode)) throw_error(Status::kIoError, "cannot open weights file '" + path + "': it is a directory");
  // A FIFO or a device would block or never end; HDF5 must only ever see a regular file.
  if (!S_ISREG(st.st_mode)) throw_error(Status::kIoError, "cannot open weights file '" + path + "': not a regular file");
}

WeightsDataFile::WeightsDataFile(std::string path) : m_path(std::move(path)) {
  require_regular_file(m_path);
  m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0) throw_error(Status::kIoError, "cannot open weights file '" + m_path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(m_fd);
    throw_error(Status::kIoError, "cannot open weights file '" + m_path + "': " + (err ? std::strerror(err) : "not a regular file"));
  }
  m_size = uint64_t(st.st_size);
}

WeightsDataFile::~WeightsDataFile() {
  if (m_fd >= 0) ::close(m_fd);
}

void WeightsDataFile::read(const std::string& where, uint64_t offset, uint64_t bytes, void* out) const {
  auto fail = [&](const std::string& what) {
    throw_error(Status::kWeightsInvalid, "weights file '" + m_path + "': " + where + ": " + what);
  };
  if (offset > m_size || bytes > m_size - offset) {
    fail("data at bytes " + std::to_string(offset) + ".." + std::to_string(offset + bytes) + " lie beyond the end of the file (" +
         std::to_string(m_size) + " bytes): truncated or damaged");
  }
  char* p = static_cast<char*>(out);
  uint64_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::pread(m_fd, p + done, size_t(bytes - done), off_t(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n == 0 ? "unexpected end of file (truncated)" : std::string("read error: ") + std::strerror(errno));
    done += uint64_t(n);
  }
}

}  // namespace resnetrs
