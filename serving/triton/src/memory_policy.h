// Where an instance runs and how each tensor moves, as pure functions of Triton's enums (no Triton
// calls, no CUDA), so that the unit tests check every decision on a machine without a GPU or a
// server (tests/triton/test_memory_policy.cpp). instance.cpp acts on them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <triton/core/tritonserver.h>

namespace resnetrs_triton {

// True when the backend was configured with -DRESNETRS_UNVERIFIED_GPU=ON (the device pack's
// build): KIND_GPU instances are offered only then (docs/serving.md, "GPU instances").
bool gpu_instances_enabled() noexcept;

// Refuses (UNSUPPORTED, naming the instance) what the backend does not run: KIND_GPU when the
// gate is closed (naming the switch RESNETRS_UNVERIFIED_GPU), KIND_MODEL and KIND_AUTO (Triton
// resolves AUTO to CPU or GPU before the backend sees it) always. Returns true for KIND_GPU.
bool require_instance_kind(TRITONSERVER_InstanceGroupKind kind, bool gate_on, const std::string& instance);

// How one buffer moves between Triton's memory and the instance's staging memory.
enum class Copy {
  kHostToHost,      // CPU instance, host buffer: memcpy
  kHostToDevice,    // GPU instance, host (or pinned) buffer: cudaMemcpyAsync H2D on the engine's stream
  kDeviceToHost,    // GPU instance, output in host memory: D2H
  kDeviceToDevice,  // GPU instance, buffer on the instance's GPU: D2D
  kPeer,            // GPU instance, buffer on another GPU: cudaMemcpyPeerAsync
};

// An input buffer at (memory, memory_id) for an instance (gpu, device); a GPU buffer for a CPU
// instance is refused (INVALID_ARG naming the input).
Copy input_copy(TRITONSERVER_MemoryType memory, int64_t memory_id, bool gpu, int32_t device, const std::string& input);

// An output buffer Triton gave at (memory, memory_id), for the logits the instance holds.
Copy output_copy(TRITONSERVER_MemoryType memory, int64_t memory_id, bool gpu, int32_t device, const std::string& output);

// The memory type an instance asks Triton for (TRITONBACKEND_InputBuffer / OutputBuffer's
// preference): its own GPU for GPU instances, host memory for CPU ones.
TRITONSERVER_MemoryType preferred_memory(bool gpu);

// The batch an engine run of `images` uses: the smallest of the configured cuda_graph_batch_sizes
// that holds them (its graph was captured at load; rows beyond `images` are ignored), or `images`
// itself when none does or none is configured.
int32_t graph_batch_for(int32_t images, const std::vector<int32_t>& graph_sizes);

// The sizes to capture at load: sorted, without duplicates.
std::vector<int32_t> graph_sizes_to_capture(std::vector<int32_t> configured);

}  // namespace resnetrs_triton
