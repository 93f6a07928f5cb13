#include "cpu/fast/host_buffer.h"

#include <sys/mman.h>

#include <string>
#include <utility>

#include "common/error.h"

namespace resnetrs::cpu::fast {

HostBuffer::HostBuffer(size_t bytes) : m_bytes(bytes == 0 ? 1 : bytes) {
  void* p = mmap(nullptr, m_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    m_bytes = 0;
    throw_error(Status::kOutOfMemory, "cannot map " + std::to_string(bytes) + " bytes of host memory for the CPU engine");
  }
  m_data = p;
}

HostBuffer::~HostBuffer() {
  if (m_data) munmap(m_data, m_bytes);
}

HostBuffer::HostBuffer(HostBuffer&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_bytes(std::exchange(other.m_bytes, 0)) {}

HostBuffer& HostBuffer::operator=(HostBuffer&& other) noexcept {
  if (this != &other) {
    if (m_data) munmap(m_data, m_bytes);
    m_data = std::exchange(other.m_data, nullptr);
    m_bytes = std::exchange(other.m_bytes, 0);
  }
  return *this;
}

}  // namespace resnetrs::cpu::fast
