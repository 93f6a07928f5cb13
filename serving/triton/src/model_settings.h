// What a model's config.pbtxt asks of the backend, parsed and checked once when the model loads
// (TRITONBACKEND_ModelInitialize). Every instance of the model builds its engine from this.
// The fields and their rules are documented in docs/serving.md ("config.pbtxt").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <resnetrs/resnetrs.h>

// Encoded-image inputs need libresnetrs' image functions (C API version 2: JPEG/PNG decoding and
// the release's preprocessing). The macro comes with them, so an older header builds without.
#if defined(resnetrs_image_options_init)
#define RESNETRS_TRITON_HAS_IMAGES 1
#else
#define RESNETRS_TRITON_HAS_IMAGES 0
#endif

namespace resnetrs_triton {

// The tensor names the backend serves (config.pbtxt must declare them with these names).
inline constexpr const char* kPixelsInput = "pixels";  // float32 [-1, 3, H, W] or [-1, H, W, 3]
inline constexpr const char* kImageInput = "image";    // TYPE_STRING [-1, 1]: one JPEG/PNG file per image
inline constexpr const char* kLogitsOutput = "logits";

struct ModelSettings {
  std::string model_name;
  std::string weights_path;        // absolute, resolved against the version folder
  int32_t max_batch_size = 0;      // config max_batch_size: the largest batch Triton sends a request or forms
  int32_t engine_max_batch = 0;    // parameter max_batch (default max_batch_size): the engine's largest run
  bool pixels_input = false;       // config declares input 'pixels'
  bool image_input = false;        // config declares input 'image' (both may be, each optional)
  int32_t height = 0, width = 0;   // from the pixels dims and/or the resolution parameter
  bool nhwc = false;               // input format FORMAT_NHWC: dims [H, W, 3]; otherwise [3, H, W]
  int32_t num_classes = 0;         // output dims [num_classes]
  int32_t precision = 0;           // resnetrs_precision_t from parameter precision (fp32|tf32|fp16|bf16)
  std::string tuning_cache_path;   // parameter tuning_cache; "" = none
  std::vector<int32_t> cuda_graph_batch_sizes;  // parameter cuda_graph_batch_sizes: GPU only (docs/serving.md)
  // KIND_CPU instances: parameter cpu_threads, the threads of each instance's engine runs (0: the
  // cores the server process may run on), and cpu_winograd (resnetrs_cpu_winograd_t from auto|off|fast).
  int32_t cpu_threads = 0;
  int32_t cpu_winograd = RESNETRS_CPU_WINOGRAD_AUTO;
  // Images: parameters image_preprocess (release|timm), image_crop_pct (timm), image_max_pixels.
  bool image_timm = false;
  float image_crop_pct = 0.0f;     // 0: the library's default
  int64_t image_max_pixels = 0;    // 0: the library's default

  int64_t pixels_per_image() const { return int64_t{3} * height * width; }
};

// Parses the model configuration JSON (TRITONBACKEND_ModelConfig, version 1). `version_dir` is the
// folder of the loaded model version (<repository>/<model>/<version>): relative weights and tuning
// cache paths are resolved against it. Throws BackendError (INVALID_ARG) naming the field.
ModelSettings parse_model_settings(const std::string& config_json, const std::string& version_dir);

}  // namespace resnetrs_triton
