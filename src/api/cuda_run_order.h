// The CUDA-side bookkeeping of a CUDA-backend engine handle, kept out of the C++ engine so the C
// API's promises hold whatever the engine does:
//  - runs of one engine share its activation memory, so they must not overlap on the GPU even
//    when callers pass different streams: an event recorded after each run is waited on by the
//    next one (a cudaStreamWaitEvent, no host blocking);
//  - run_device with a NULL stream goes on a stream of the handle's own and waits for it;
//  - the caller's current device is restored after every call.
// The header names no CUDA type beyond the opaque stream and event structs (cudaStream_t is
// CUstream_st*), so the C API compiles without CUDA: a CPU-only build (RESNETRS_CUDA=OFF) links
// no_cuda.cpp instead of cuda_run_order.cpp, and there every entry point refuses with NO_DEVICE.
#pragma once

struct CUstream_st;
struct CUevent_st;

namespace resnetrs::capi {

// Makes `device` current for the calling thread; the previous device is current again on exit.
class DeviceScope {
 public:
  explicit DeviceScope(int device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int m_previous = -1;
};

class RunOrder {
 public:
  explicit RunOrder(int device);  // creates the stream and the event; throws Error
  ~RunOrder();                    // waits for the last run, then frees both; never throws
  RunOrder(const RunOrder&) = delete;
  RunOrder& operator=(const RunOrder&) = delete;

  // Call with the engine's run mutex held, inside a DeviceScope of device().
  // Returns the stream to enqueue on (the caller's, or ours for NULL), made to wait for the
  // previous run of this engine.
  CUstream_st* begin_device_run(void* user_stream);
  // Records the run just enqueued on `stream` as the latest; when it is our own stream, waits
  // for it (run_device with NULL is synchronous).
  void end_device_run(CUstream_st* stream);
  // Blocks the host until the latest device run has finished (before a run_host).
  void wait_for_last_run();

  int device() const { return m_device; }

 private:
  int m_device;
  CUstream_st* m_stream = nullptr;  // cudaStream_t
  CUevent_st* m_last_run = nullptr;  // cudaEvent_t
};

// Checked before any weights are read, so a missing GPU fails in milliseconds: throws
// Error(kNoDevice) when CUDA finds no device (or no driver), Error(kInvalidArgument) when
// `device` is not one of the ordinals that exist.
void require_cuda_device(int device);

// Throws Error(kInvalidArgument) unless `ptr` is device (or managed) memory usable on `device`.
// `name` names the argument in the message.
void require_device_pointer(const void* ptr, int device, const char* name);

}  // namespace resnetrs::capi
