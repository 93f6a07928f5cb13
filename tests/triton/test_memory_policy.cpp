// The Triton backend's decisions for KIND_GPU instances (serving/triton/src/memory_policy.cpp), on
// the host: which instance kinds load (the refusal of KIND_GPU in a default build names the switch
// RESNETRS_UNVERIFIED_GPU), how each input and output buffer moves for CPU and GPU instances, and
// which captured batch size a batch runs on. The GPU path itself is checked on a GPU by
// tests/gpu_triton/run_gpu_triton_check.sh (a real tritonserver with a KIND_GPU model).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "memory_policy.h"
#include "model_settings.h"
#include "triton_errors.h"

using namespace resnetrs_triton;

namespace {

// The message of the refusal (the test fails when `f` returns).
template <class F>
std::string refusal(F&& f, TRITONSERVER_Error_Code want_code) {
  try {
    f();
  } catch (const BackendError& e) {
    CHECK(e.code() == want_code);
    return e.message();
  }
  FAIL("accepted");
  return "";
}

constexpr auto kCpu = TRITONSERVER_MEMORY_CPU;
constexpr auto kPinned = TRITONSERVER_MEMORY_CPU_PINNED;
constexpr auto kGpu = TRITONSERVER_MEMORY_GPU;

}  // namespace

TEST_CASE("triton gpu: instance kinds", "[triton]") {
  CHECK_FALSE(require_instance_kind(TRITONSERVER_INSTANCEGROUPKIND_CPU, false, "m_0"));
  CHECK_FALSE(require_instance_kind(TRITONSERVER_INSTANCEGROUPKIND_CPU, true, "m_0"));
  CHECK(require_instance_kind(TRITONSERVER_INSTANCEGROUPKIND_GPU, true, "m_0"));
  const std::string gated = refusal([] { require_instance_kind(TRITONSERVER_INSTANCEGROUPKIND_GPU, false, "m_0"); },
                                    TRITONSERVER_ERROR_UNSUPPORTED);
  CHECK(gated.find("instance 'm_0' is KIND_GPU") != std::string::npos);
  CHECK(gated.find("RESNETRS_UNVERIFIED_GPU=OFF") != std::string::npos);
  CHECK(gated.find("use KIND_CPU") != std::string::npos);
  for (bool gate : {false, true}) {
    const std::string model = refusal([&] { require_instance_kind(TRITONSERVER_INSTANCEGROUPKIND_MODEL, gate, "m_1"); },
                                      TRITONSERVER_ERROR_UNSUPPORTED);
    CHECK(model.find("'m_1' is KIND_MODEL; this backend runs KIND_CPU") != std::string::npos);
    CHECK((model.find("KIND_GPU") != std::string::npos) == gate);
  }
}

TEST_CASE("triton gpu: the gate follows the build", "[triton]") {
#if defined(RESNETRS_TEST_UNVERIFIED_GPU) && RESNETRS_TEST_UNVERIFIED_GPU
  CHECK(gpu_instances_enabled());
#else
  CHECK_FALSE(gpu_instances_enabled());
#endif
}

TEST_CASE("triton gpu: input buffers", "[triton]") {
  // CPU instances: host memory is memcpy'd, GPU memory (CUDA shared memory) refused by name.
  CHECK(input_copy(kCpu, 0, false, -1, "pixels") == Copy::kHostToHost);
  CHECK(input_copy(kPinned, 0, false, -1, "pixels") == Copy::kHostToHost);
  const std::string m = refusal([] { input_copy(kGpu, 0, false, -1, "pixels"); }, TRITONSERVER_ERROR_INVALID_ARG);
  CHECK(m.find("input 'pixels' is in GPU 0 memory (CUDA shared memory); KIND_CPU instances read host memory only") !=
        std::string::npos);
  // GPU instance on device 1: host -> device, its own GPU -> device to device, another GPU -> peer.
  CHECK(input_copy(kCpu, 0, true, 1, "pixels") == Copy::kHostToDevice);
  CHECK(input_copy(kPinned, 0, true, 1, "pixels") == Copy::kHostToDevice);
  CHECK(input_copy(kGpu, 1, true, 1, "pixels") == Copy::kDeviceToDevice);
  CHECK(input_copy(kGpu, 0, true, 1, "pixels") == Copy::kPeer);
  CHECK(input_copy(kGpu, 3, true, 1, "pixels") == Copy::kPeer);
  const std::string odd = refusal([] { input_copy(TRITONSERVER_MemoryType(7), 0, true, 0, "pixels"); },
                                  TRITONSERVER_ERROR_INVALID_ARG);
  CHECK(odd.find("input 'pixels' is in memory type 7") != std::string::npos);
}

TEST_CASE("triton gpu: output buffers", "[triton]") {
  CHECK(output_copy(kCpu, 0, false, -1, "logits") == Copy::kHostToHost);
  CHECK(output_copy(kPinned, 0, false, -1, "logits") == Copy::kHostToHost);
  const std::string m = refusal([] { output_copy(kGpu, 0, false, -1, "logits"); }, TRITONSERVER_ERROR_INVALID_ARG);
  CHECK(m.find("output 'logits' was requested in GPU 0 memory; KIND_CPU instances write host memory only") !=
        std::string::npos);
  CHECK(output_copy(kCpu, 0, true, 0, "logits") == Copy::kDeviceToHost);
  CHECK(output_copy(kPinned, 0, true, 0, "logits") == Copy::kDeviceToHost);
  CHECK(output_copy(kGpu, 0, true, 0, "logits") == Copy::kDeviceToDevice);
  CHECK(output_copy(kGpu, 2, true, 0, "logits") == Copy::kPeer);
  CHECK(preferred_memory(true) == kGpu);
  CHECK(preferred_memory(false) == kCpu);
}

TEST_CASE("triton gpu: batches run on the next captured size up", "[triton]") {
  const std::vector<int32_t> sizes = graph_sizes_to_capture({32, 1, 8, 8});
  CHECK(sizes == std::vector<int32_t>{1, 8, 32});
  CHECK(graph_batch_for(1, sizes) == 1);
  CHECK(graph_batch_for(2, sizes) == 8);
  CHECK(graph_batch_for(8, sizes) == 8);
  CHECK(graph_batch_for(9, sizes) == 32);
  CHECK(graph_batch_for(32, sizes) == 32);
  CHECK(graph_batch_for(33, sizes) == 33);  // above every captured size: its own size
  CHECK(graph_batch_for(5, {}) == 5);       // none configured
}

TEST_CASE("triton gpu: a KIND_GPU config with gpus and graph sizes parses", "[triton]") {
  // Triton hands the backend its config with the instance group it resolved; the parser takes the
  // graph sizes (checked against max_batch) and leaves instance kinds to the instance.
  const std::string config = R"({
    "name": "m", "backend": "resnetrs", "max_batch_size": 8,
    "input": [ { "name": "pixels", "data_type": "TYPE_FP32", "format": "FORMAT_NCHW", "dims": [3, 64, 64] } ],
    "output": [ { "name": "logits", "data_type": "TYPE_FP32", "dims": [1000] } ],
    "instance_group": [ { "name": "m_gpu", "kind": "KIND_GPU", "count": 1, "gpus": [0, 1] } ],
    "parameters": { "cuda_graph_batch_sizes": { "string_value": "8, 1,8" } }
  })";
  const ModelSettings s = parse_model_settings(config, "/repo/m/1");
  CHECK(s.cuda_graph_batch_sizes == std::vector<int32_t>{8, 1, 8});
  const std::vector<int32_t> captured = graph_sizes_to_capture(s.cuda_graph_batch_sizes);
  CHECK(captured == std::vector<int32_t>{1, 8});
  CHECK(graph_batch_for(3, captured) == 8);
}
