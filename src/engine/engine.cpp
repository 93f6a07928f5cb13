#include "engine/engine.h"

#include "common/error.h"
#include "engine/gpu_gate.h"

namespace resnetrs {

const char* backend_name(Backend b) { return b == Backend::kCpu ? "cpu" : "cuda"; }

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kFp32: return "fp32";
    case Precision::kTf32: return "tf32";
    case Precision::kFp16: return "fp16";
    case Precision::kBf16: return "bf16";
    case Precision::kFp32x3: return "fp32x3";
  }
  return "?";
}

const char* layout_name(Layout l) { return l == Layout::kNCHW ? "nchw" : "nhwc"; }

void validate_engine_options(const FoldedWeights& weights, const EngineOptions& o) {
  RESNETRS_CHECK_ARG(o.max_batch >= 1, "max_batch must be at least 1, got " + std::to_string(o.max_batch));
  RESNETRS_CHECK_ARG(o.max_batch <= 65536, "max_batch " + std::to_string(o.max_batch) + " is unreasonably large (limit 65536)");
  RESNETRS_CHECK_ARG(o.height >= kMinResolution && o.width >= kMinResolution,
                     "input resolution must be at least 32x32, got " + std::to_string(o.height) + "x" + std::to_string(o.width));
  RESNETRS_CHECK_ARG(o.height <= 4096 && o.width <= 4096,
                     "input resolution above 4096 is not supported, got " + std::to_string(o.height) + "x" + std::to_string(o.width));
  RESNETRS_CHECK_ARG(!weights.blocks.empty(), "weights hold no blocks");
}

void check_run_arguments(const EngineOptions& options, const float* input, int batch, const float* logits) {
  RESNETRS_CHECK_ARG(input && logits, "input and logits must not be null");
  RESNETRS_CHECK_ARG(batch >= 1 && batch <= options.max_batch,
                     "batch " + std::to_string(batch) + " outside 1.." + std::to_string(options.max_batch));
}

void require_cuda_backend_supports(const ModelConfig& config) {
  if (config.variant.is_tf1_release() || unverified_gpu_enabled()) return;
  throw_error(Status::kInvalidArgument,
              "the CUDA backend does not run this ResNet-RS variant yet (" + config.variant.describe() +
                  ", the TF2 Model Garden's network); only the TF1 release's (activation relu, stride-2 padding "
                  "'symmetric', no stage-1 shortcut pool) runs on the GPU so far. Use the CPU backend for these weights "
                  "(the GPU path for this variant is written but not yet verified on a GPU: only a build configured with "
                  "-DRESNETRS_UNVERIFIED_GPU=ON offers it, docs/cuda-engine.md, \"Unverified GPU features\")");
}

}  // namespace resnetrs
