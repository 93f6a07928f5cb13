#include "device_staging.h"

#include <string>

#include "triton_errors.h"

#if RESNETRS_TRITON_CUDA
#include <cuda_runtime_api.h>
#endif

namespace resnetrs_triton {

#if RESNETRS_TRITON_CUDA

namespace {

void check(cudaError_t err, const std::string& what) {
  if (err == cudaSuccess) return;
  (void)cudaGetLastError();
  fail(TRITONSERVER_ERROR_INTERNAL, what + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

cudaMemcpyKind memcpy_kind(Copy kind) {
  switch (kind) {
    case Copy::kHostToDevice: return cudaMemcpyHostToDevice;
    case Copy::kDeviceToHost: return cudaMemcpyDeviceToHost;
    case Copy::kDeviceToDevice: return cudaMemcpyDeviceToDevice;
    default: return cudaMemcpyDefault;
  }
}

}  // namespace

DeviceStaging::DeviceStaging(int32_t device, size_t pixel_floats, size_t logit_floats)
    : device_(device), pixel_bytes_(pixel_floats * sizeof(float)), logit_bytes_(logit_floats * sizeof(float)) {
  try {
    make_current();
    check(cudaMalloc(reinterpret_cast<void**>(&pixels_), pixel_bytes_), "cudaMalloc (staging pixels)");
    check(cudaMalloc(reinterpret_cast<void**>(&logits_), logit_bytes_), "cudaMalloc (staging logits)");
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    stream_ = s;
    clear_pixels();
    synchronize("clearing the staging pixels");
  } catch (...) {
    release();  // a constructor that throws gets no destructor call
    throw;
  }
}

DeviceStaging::~DeviceStaging() { release(); }

void DeviceStaging::release() noexcept {
  (void)cudaSetDevice(device_);
  if (stream_ != nullptr) (void)cudaStreamSynchronize(static_cast<cudaStream_t>(stream_));
  if (stream_ != nullptr) (void)cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
  if (pixels_ != nullptr) (void)cudaFree(pixels_);
  if (logits_ != nullptr) (void)cudaFree(logits_);
  stream_ = nullptr;
  pixels_ = logits_ = nullptr;
}

void DeviceStaging::make_current() const {
  check(cudaSetDevice(device_), "cudaSetDevice(" + std::to_string(device_) + ")");
}

void DeviceStaging::copy_in(const void* src, size_t bytes, size_t dst_offset, Copy kind, int64_t src_device) {
  if (dst_offset + bytes > pixel_bytes_) fail(TRITONSERVER_ERROR_INTERNAL, "staging pixels overflow");
  auto* dst = reinterpret_cast<unsigned char*>(pixels_) + dst_offset;
  const auto s = static_cast<cudaStream_t>(stream_);
  if (kind == Copy::kPeer) {
    check(cudaMemcpyPeerAsync(dst, device_, src, static_cast<int>(src_device), bytes, s), "cudaMemcpyPeerAsync (input)");
  } else {
    check(cudaMemcpyAsync(dst, src, bytes, memcpy_kind(kind), s), "cudaMemcpyAsync (input)");
  }
}

void DeviceStaging::copy_out(void* dst, size_t bytes, size_t src_offset, Copy kind, int64_t dst_device) {
  if (src_offset + bytes > logit_bytes_) fail(TRITONSERVER_ERROR_INTERNAL, "staging logits overflow");
  const auto* src = reinterpret_cast<const unsigned char*>(logits_) + src_offset;
  const auto s = static_cast<cudaStream_t>(stream_);
  if (kind == Copy::kPeer) {
    check(cudaMemcpyPeerAsync(dst, static_cast<int>(dst_device), src, device_, bytes, s), "cudaMemcpyPeerAsync (output)");
  } else {
    check(cudaMemcpyAsync(dst, src, bytes, memcpy_kind(kind), s), "cudaMemcpyAsync (output)");
  }
}

void DeviceStaging::clear_pixels() {
  check(cudaMemsetAsync(pixels_, 0, pixel_bytes_, static_cast<cudaStream_t>(stream_)), "cudaMemsetAsync (staging pixels)");
}

void DeviceStaging::synchronize(const char* what) {
  check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), std::string("cudaStreamSynchronize (") + what + ")");
}

#else

DeviceStaging::DeviceStaging(int32_t device, size_t, size_t) : device_(device), pixel_bytes_(0), logit_bytes_(0) {
  fail(TRITONSERVER_ERROR_UNSUPPORTED, "KIND_GPU instances need a libresnetrs built with CUDA (RESNETRS_CUDA=ON)");
}
DeviceStaging::~DeviceStaging() = default;
void DeviceStaging::release() noexcept {}
void DeviceStaging::make_current() const {}
void DeviceStaging::copy_in(const void*, size_t, size_t, Copy, int64_t) {}
void DeviceStaging::copy_out(void*, size_t, size_t, Copy, int64_t) {}
void DeviceStaging::clear_pixels() {}
void DeviceStaging::synchronize(const char*) {}

#endif

}  // namespace resnetrs_triton
