// What a model's config.pbtxt asks of the backend, parsed and checked once when the model loads
// (TRITONBACKEND_ModelInitialize). Every instance of the model builds its engine from this.
// The fields and their rules are documented in docs/serving.md ("config.pbtxt").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace resnetrs_triton {

// The tensor names the backend serves (config.pbtxt must declare them with these names).
inline constexpr const char* kPixelsInput = "pixels";
inline constexpr const char* kLogitsOutput = "logits";

struct ModelSettings {
  std::string model_name;
  std::string weights_path;        // absolute, resolved against the version folder
  int32_t max_batch_size = 0;      // config max_batch_size: the largest batch Triton sends a request or forms
  int32_t engine_max_batch = 0;    // parameter max_batch (default max_batch_size): the engine's largest run
  int32_t height = 0, width = 0;   // from the input dims (and the resolution parameter when given)
  bool nhwc = false;               // input format FORMAT_NHWC: dims [H, W, 3]; otherwise [3, H, W]
  int32_t num_classes = 0;         // output dims [num_classes]
  int32_t precision = 0;           // resnetrs_precision_t from parameter precision (fp32|tf32|fp16|bf16)
  std::string tuning_cache_path;   // parameter tuning_cache; "" = none
  std::vector<int32_t> cuda_graph_batch_sizes;  // parameter cuda_graph_batch_sizes: GPU only (docs/serving.md)

  int64_t pixels_per_image() const { return int64_t{3} * height * width; }
};

// Parses the model configuration JSON (TRITONBACKEND_ModelConfig, version 1). `version_dir` is the
// folder of the loaded model version (<repository>/<model>/<version>): relative weights and tuning
// cache paths are resolved against it. Throws BackendError (INVALID_ARG) naming the field.
ModelSettings parse_model_settings(const std::string& config_json, const std::string& version_dir);

}  // namespace resnetrs_triton
