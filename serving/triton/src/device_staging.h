// The device side of a KIND_GPU instance: the staging buffers of one engine batch on the instance's
// GPU (pixels in, logits out), allocated at load, and the stream every copy and engine run of the
// instance is ordered on. Copies go in whichever direction memory_policy.h decided. In a build
// without CUDA (RESNETRS_CUDA=OFF) constructing it throws UNSUPPORTED saying so.
#pragma once

#include <cstddef>
#include <cstdint>

#include "memory_policy.h"

namespace resnetrs_triton {

class DeviceStaging {
 public:
  // Makes `device` current (for this thread) and allocates `pixel_floats` + `logit_floats` there.
  DeviceStaging(int32_t device, size_t pixel_floats, size_t logit_floats);
  ~DeviceStaging();
  DeviceStaging(const DeviceStaging&) = delete;
  DeviceStaging& operator=(const DeviceStaging&) = delete;

  // Makes the instance's GPU current on the calling thread (Triton's execution thread).
  void make_current() const;
  float* pixels() const { return pixels_; }
  float* logits() const { return logits_; }
  void* stream() const { return stream_; }

  // Enqueues a copy of `bytes` from `src` (on GPU `src_device` for kPeer) into the pixels at byte
  // offset `dst_offset`.
  void copy_in(const void* src, size_t bytes, size_t dst_offset, Copy kind, int64_t src_device);
  // Enqueues a copy of `bytes` of the logits from byte offset `src_offset` to `dst`.
  void copy_out(void* dst, size_t bytes, size_t src_offset, Copy kind, int64_t dst_device);
  // Zeroes the pixels (finite rows beyond a batch on padded graph runs); enqueued.
  void clear_pixels();
  // Waits for everything enqueued; throws BackendError (INTERNAL) naming a failed copy or run.
  void synchronize(const char* what);

 private:
  void release() noexcept;

  int32_t device_;
  size_t pixel_bytes_, logit_bytes_;
  float* pixels_ = nullptr;
  float* logits_ = nullptr;
  void* stream_ = nullptr;  // cudaStream_t
};

}  // namespace resnetrs_triton
