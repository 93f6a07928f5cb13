// Host memory for what an engine keeps (weights in their run-time layouts, activations,
// workspaces), mapped from the OS directly and returned to it when the engine goes. Through malloc,
// glibc raises its mmap threshold the first time such a block is freed, keeps later ones in its
// heaps, and a server that loads and unloads models grows by a model each time
// (tests/python/test_triton_backend.py, load/unload cycles). Page-aligned; contents zero.
#pragma once

#include <cstddef>

namespace resnetrs::cpu::fast {

class HostBuffer {
 public:
  HostBuffer() = default;
  // Throws Error(kOutOfMemory) naming the size when the OS refuses.
  explicit HostBuffer(size_t bytes);
  ~HostBuffer();
  HostBuffer(HostBuffer&& other) noexcept;
  HostBuffer& operator=(HostBuffer&& other) noexcept;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  void* data() const { return m_data; }
  float* floats() const { return static_cast<float*>(m_data); }
  size_t bytes() const { return m_bytes; }

 private:
  void* m_data = nullptr;
  size_t m_bytes = 0;
};

}  // namespace resnetrs::cpu::fast
