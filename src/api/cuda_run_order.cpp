#include "cuda_run_order.h"

#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "common/error.h"
#include "common/log.h"

namespace resnetrs::capi {
namespace {

// Throws Error with a status that fits the CUDA error (OUT_OF_MEMORY, NO_DEVICE, CUDA_ERROR...)
// and a message naming `what` when `err` is not cudaSuccess.
void check_cuda(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // the error is reported here; do not leave it for the next check to find
  Status status = Status::kCudaError;
  switch (err) {
    case cudaErrorMemoryAllocation: status = Status::kOutOfMemory; break;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver: status = Status::kNoDevice; break;
    case cudaErrorInvalidDevice: status = Status::kInvalidArgument; break;
    default: break;
  }
  throw_error(status, std::string(what) + " failed: " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

}  // namespace

DeviceScope::DeviceScope(int device) {
  check_cuda(cudaGetDevice(&m_previous), "cudaGetDevice");
  if (m_previous != device) {
    check_cuda(cudaSetDevice(device), ("cudaSetDevice(" + std::to_string(device) + ")").c_str());
  }
}

DeviceScope::~DeviceScope() {
  int now = -1;
  if (cudaGetDevice(&now) == cudaSuccess && now != m_previous) cudaSetDevice(m_previous);
}

RunOrder::RunOrder(int device) : m_device(device) {
  check_cuda(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  const cudaError_t err = cudaEventCreateWithFlags(&m_last_run, cudaEventDisableTiming);
  if (err != cudaSuccess) {
    cudaStreamDestroy(m_stream);
    check_cuda(err, "cudaEventCreateWithFlags");
  }
}

RunOrder::~RunOrder() {
  // The engine's memory is freed right after this: the last run must be finished by then.
  const cudaError_t sync = cudaEventSynchronize(m_last_run);
  if (sync != cudaSuccess) warn(std::string("resnetrs_engine_destroy: waiting for the last run failed: ") + cudaGetErrorString(sync));
  cudaEventDestroy(m_last_run);
  cudaStreamDestroy(m_stream);
}

CUstream_st* RunOrder::begin_device_run(void* user_stream) {
  cudaStream_t s = user_stream ? static_cast<cudaStream_t>(user_stream) : m_stream;
  // An event never recorded counts as complete, so the first run does not wait.
  check_cuda(cudaStreamWaitEvent(s, m_last_run, 0), "cudaStreamWaitEvent (ordering after the previous run)");
  return s;
}

void RunOrder::end_device_run(CUstream_st* stream) {
  check_cuda(cudaEventRecord(m_last_run, stream), "cudaEventRecord (end of run)");
  if (stream == m_stream) check_cuda(cudaStreamSynchronize(m_stream), "cudaStreamSynchronize (run_device with a NULL stream)");
}

void RunOrder::wait_for_last_run() { check_cuda(cudaEventSynchronize(m_last_run), "cudaEventSynchronize (previous run)"); }

void require_cuda_device(int device) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    throw_error(Status::kNoDevice, std::string("no usable CUDA device: ") + cudaGetErrorName(err) + " (" +
                                       cudaGetErrorString(err) + "); use RESNETRS_BACKEND_CPU on this machine");
  }
  if (count == 0) throw_error(Status::kNoDevice, "no CUDA device found; use RESNETRS_BACKEND_CPU on this machine");
  if (device >= count) {
    throw_error(Status::kInvalidArgument, "options->device is " + std::to_string(device) + ", but this machine has " +
                                              std::to_string(count) + " CUDA device(s) (ordinals 0.." +
                                              std::to_string(count - 1) + ")");
  }
}

void require_device_pointer(const void* ptr, int device, const char* name) {
  cudaPointerAttributes a{};
  const cudaError_t err = cudaPointerGetAttributes(&a, ptr);
  if (err != cudaSuccess) {
    cudaGetLastError();
    throw_error(Status::kInvalidArgument, std::string(name) + " is not a pointer CUDA knows (" + cudaGetErrorString(err) +
                                              "); pass device memory, or use resnetrs_engine_run_host for host memory");
  }
  if (a.type == cudaMemoryTypeManaged) return;
  if (a.type != cudaMemoryTypeDevice) {
    throw_error(Status::kInvalidArgument, std::string(name) + " points to host memory; resnetrs_engine_run_device needs device "
                                              "memory (cudaMalloc), or use resnetrs_engine_run_host");
  }
  if (a.device != device) {
    throw_error(Status::kInvalidArgument, std::string(name) + " is memory of CUDA device " + std::to_string(a.device) +
                                              ", but the engine runs on device " + std::to_string(device));
  }
}

}  // namespace resnetrs::capi
