#include "memory_policy.h"

#include <algorithm>

#include "triton_errors.h"

#ifndef RESNETRS_TRITON_UNVERIFIED_GPU
#error "serving/triton/CMakeLists.txt defines RESNETRS_TRITON_UNVERIFIED_GPU (0 or 1) from RESNETRS_UNVERIFIED_GPU"
#endif

namespace resnetrs_triton {

bool gpu_instances_enabled() noexcept { return RESNETRS_TRITON_UNVERIFIED_GPU != 0; }

bool require_instance_kind(TRITONSERVER_InstanceGroupKind kind, bool gate_on, const std::string& instance) {
  switch (kind) {
    case TRITONSERVER_INSTANCEGROUPKIND_CPU: return false;
    case TRITONSERVER_INSTANCEGROUPKIND_GPU:
      if (!gate_on) {
        fail(TRITONSERVER_ERROR_UNSUPPORTED,
             "instance '" + instance +
                 "' is KIND_GPU: GPU instances are written but have not yet passed their check on a GPU, so this "
                 "backend does not offer them (it was built with RESNETRS_UNVERIFIED_GPU=OFF, the default; "
                 "docs/serving.md, \"GPU instances\"); use KIND_CPU");
      }
      return true;
    case TRITONSERVER_INSTANCEGROUPKIND_MODEL:
      fail(TRITONSERVER_ERROR_UNSUPPORTED, "instance '" + instance + "' is KIND_MODEL; this backend runs KIND_CPU" +
                                               (gate_on ? " and KIND_GPU" : "") + " instances");
    default:
      fail(TRITONSERVER_ERROR_UNSUPPORTED, "instance '" + instance + "' is of kind " + std::to_string(int(kind)) +
                                               "; this backend runs KIND_CPU" + (gate_on ? " and KIND_GPU" : "") +
                                               " instances");
  }
}

namespace {

bool is_host(TRITONSERVER_MemoryType m) { return m == TRITONSERVER_MEMORY_CPU || m == TRITONSERVER_MEMORY_CPU_PINNED; }

std::string memory_name(TRITONSERVER_MemoryType m, int64_t id) {
  switch (m) {
    case TRITONSERVER_MEMORY_CPU: return "host memory";
    case TRITONSERVER_MEMORY_CPU_PINNED: return "pinned host memory";
    case TRITONSERVER_MEMORY_GPU: return "GPU " + std::to_string(id) + " memory";
  }
  return "memory type " + std::to_string(int(m));
}

Copy device_copy(TRITONSERVER_MemoryType memory, int64_t memory_id, int32_t device, bool to_device, const std::string& what) {
  if (is_host(memory)) return to_device ? Copy::kHostToDevice : Copy::kDeviceToHost;
  if (memory == TRITONSERVER_MEMORY_GPU) return memory_id == device ? Copy::kDeviceToDevice : Copy::kPeer;
  invalid(what + " is in " + memory_name(memory, memory_id) + ", which this backend does not read or write");
}

}  // namespace

Copy input_copy(TRITONSERVER_MemoryType memory, int64_t memory_id, bool gpu, int32_t device, const std::string& input) {
  const std::string what = "input '" + input + "'";
  if (gpu) return device_copy(memory, memory_id, device, true, what);
  if (is_host(memory)) return Copy::kHostToHost;
  invalid(what + " is in " + memory_name(memory, memory_id) +
          " (CUDA shared memory); KIND_CPU instances read host memory only (use a KIND_GPU instance)");
}

Copy output_copy(TRITONSERVER_MemoryType memory, int64_t memory_id, bool gpu, int32_t device, const std::string& output) {
  const std::string what = "output '" + output + "'";
  if (gpu) return device_copy(memory, memory_id, device, false, what);
  if (is_host(memory)) return Copy::kHostToHost;
  invalid(what + " was requested in " + memory_name(memory, memory_id) +
          "; KIND_CPU instances write host memory only (use a KIND_GPU instance)");
}

TRITONSERVER_MemoryType preferred_memory(bool gpu) { return gpu ? TRITONSERVER_MEMORY_GPU : TRITONSERVER_MEMORY_CPU; }

int32_t graph_batch_for(int32_t images, const std::vector<int32_t>& graph_sizes) {
  int32_t best = 0;
  for (int32_t s : graph_sizes) {
    if (s >= images && (best == 0 || s < best)) best = s;
  }
  return best == 0 ? images : best;
}

std::vector<int32_t> graph_sizes_to_capture(std::vector<int32_t> configured) {
  std::sort(configured.begin(), configured.end());
  configured.erase(std::unique(configured.begin(), configured.end()), configured.end());
  return configured;
}

}  // namespace resnetrs_triton
