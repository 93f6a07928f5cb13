// The binding's decisions about where an engine runs and where an input may come from, as pure
// functions of plain values (no CUDA, no Python objects) so that the host tests can check each
// one, with the gate on and off, on a machine without a GPU (resnetrs._core._input_route,
// _auto_falls_back_to_cpu: tests/python/test_package_device.py).
#pragma once

#include <cstdint>
#include <string>

namespace resnetrs_py {

// True when this extension was configured with -DRESNETRS_UNVERIFIED_GPU=ON (the device pack's
// build): CUDA tensors as engine inputs are offered only then (docs/python.md, docs/cuda-engine.md).
bool device_inputs_enabled() noexcept;

// Where engine(x) takes an input from.
enum class InputRoute { kHost, kDevice };

// DLPack device types (dlpack.h's DLDeviceType values, which nanobind's nb::device mirrors).
inline constexpr int32_t kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3, kDLCUDAManaged = 13;

// "cuda:0", "cpu", "cuda_host (pinned)", ...: a DLPack device for messages.
std::string dl_device_string(int32_t device_type, int32_t device_id);

// Decides the route of an input on DLPack device (device_type, device_id) for an engine on
// `engine_on_cuda` / `engine_device`: host memory (kDLCPU, and pinned kDLCUDAHost, which the CPU
// reads as ordinary memory) goes the host way; kDLCUDA on the engine's own GPU goes the device
// way when `gate_on`. Everything else raises InvalidArgumentError naming the input's device and
// what the engine takes: a CUDA tensor in a default build (naming RESNETRS_UNVERIFIED_GPU), on a
// CPU engine, on another GPU than the engine's, managed memory, other devices (ROCm, Metal ...).
InputRoute decide_input_route(int32_t device_type, int32_t device_id, bool engine_on_cuda, int32_t engine_device,
                              bool gate_on, const char* what);

// The stream a CUDA input is exchanged and run on, from a DLPack stream value (an int:
// cudaStream_t, 1 = the legacy default stream, 2 = the per-thread default stream). 0 (what
// torch reports for its default stream, and ambiguous in DLPack) means the legacy default stream;
// a negative value (DLPack's "no synchronization") is refused: the engine must be ordered after
// the producer's work.
uintptr_t dlpack_stream_handle(long long value);

// backend="auto": after the CUDA engine's creation failed with `status` (a resnetrs_status_t)
// and `message`, whether to build a CPU engine instead. Yes when there is no usable CUDA device
// (NO_DEVICE), and when the CUDA backend refuses the weights' network (INVALID_ARGUMENT naming
// the variant: the TF2 Model Garden's swish / 'same' / stage-1 pool, which the CPU engine runs).
// Any other refusal (a bad option, a device ordinal out of range, a precision the CUDA backend
// gates, a damaged file) is the caller's to see, not hidden by a switch to the CPU.
bool auto_falls_back_to_cpu(int status, const std::string& message);

}  // namespace resnetrs_py
