// One model instance: one resnetrs engine (the CPU backend for KIND_CPU; the CUDA backend on the
// instance's GPU for KIND_GPU, RESNETRS_UNVERIFIED_GPU builds only) and the staging buffers of its
// batches, all made at instance load. execute() gathers the requests Triton hands it into one
// batch, runs the engine once per batch and scatters the logits back into one response per request.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <resnetrs/resnetrs.h>
#include <triton/core/tritonbackend.h>

#include "device_staging.h"
#include "model_settings.h"

namespace resnetrs_triton {

struct EngineDeleter {
  void operator()(resnetrs_engine_t* e) const { resnetrs_engine_destroy(e); }
};
using EnginePtr = std::unique_ptr<resnetrs_engine_t, EngineDeleter>;

class Instance {
 public:
  // Builds the engine (and for KIND_GPU captures the cuda_graph_batch_sizes). Throws BackendError
  // when the weights cannot be loaded or disagree with the config (classes), or when the instance
  // kind is one the backend does not run (memory_policy.h, require_instance_kind).
  Instance(TRITONBACKEND_ModelInstance* triton_instance, const ModelSettings& settings);

  // Answers every request (a response or an error response each) and releases them all.
  void execute(TRITONBACKEND_Request** requests, uint32_t count);

 private:
  struct Pending;  // a request of the batch being gathered
  // The batch size the request claims (0 when its input cannot be read).
  int64_t peek_batch(TRITONBACKEND_Request* request);
  // Puts the request's images into the staging buffer from image `offset` on (its pixels copied,
  // or its encoded images decoded and preprocessed); returns its batch size.
  int64_t gather(TRITONBACKEND_Request* request, int64_t offset);
  void gather_pixels(TRITONBACKEND_Input* input, int64_t batch, uint32_t buffers, uint64_t bytes, int64_t offset);
  void gather_images(TRITONBACKEND_Input* input, int64_t batch, uint32_t buffers, uint64_t bytes, int64_t offset);
  // Runs the staged images of `group`, sends their responses, reports statistics, releases them.
  void run_and_respond(std::vector<Pending>& group, int64_t images, uint64_t exec_start_ns);
  // Runs the engine on the staged images: status of resnetrs_engine_run_host / _run_device.
  resnetrs_status_t run_engine(int64_t images);
  // Writes the logits of `p` into its response's output buffer (host or device memory).
  void write_output(const Pending& p);

  TRITONBACKEND_ModelInstance* triton_instance_;
  const ModelSettings& settings_;
  std::string name_;
  bool gpu_ = false;       // KIND_GPU
  int32_t device_ = -1;    // TRITONBACKEND_ModelInstanceDeviceId for KIND_GPU
  std::vector<int32_t> graph_sizes_;  // captured at load (GPU), sorted
  EnginePtr engine_;
  std::vector<float> pixels_;  // engine_max_batch images (host; GPU instances stage host inputs here)
  std::vector<float> logits_;  // engine_max_batch x num_classes (CPU instances)
  std::unique_ptr<DeviceStaging> staging_;  // GPU instances: device pixels, logits, stream
#if RESNETRS_TRITON_HAS_IMAGES
  resnetrs_image_options_t image_options_{};
#endif
  // The encoded images of a request whose tensor arrives in several buffers, joined; it grows to
  // the largest such request and is kept (the one allocation execute may make).
  std::vector<unsigned char> joined_;
  // The byte ranges of a request's pixels that came from host buffers (usually one); kept.
  std::vector<std::pair<uint64_t, uint64_t>> host_spans_;
};

}  // namespace resnetrs_triton
