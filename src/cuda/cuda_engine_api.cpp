// The CUDA backend's entry points (cuda_engine_info.h): make_cuda_engine(_ex), the environment
// tweaks, cuda_engine_info() and the info's text form.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "cuda/cuda_engine.h"
#include "cuda/cutlass_conv.h"
#include "cuda/precision_policy.h"
#include "engine/engine.h"
#include "engine/gpu_gate.h"

namespace resnetrs {
namespace {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}

std::string mib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  return text;
}

}  // namespace

std::string CudaEngineInfo::format() const {
  std::ostringstream os;
  os << "resnetrs CUDA engine on " << device << "\n";
  os << "  precision " << precision_name(precision) << ", activations " << layout_name(activation_layout) << ", graph "
     << (graph_used ? "yes" : "no") << (graph_note.empty() ? "" : " (" + graph_note + ")") << "\n";
  os << "  device memory: weights " << mib(weight_bytes) << ", activations " << mib(arena_bytes)
     << (arena_by_liveness ? " (by liveness)" : " (per role)") << ", workspace "
     << mib(workspace_bytes) << ", total " << mib(total_device_bytes()) << "\n";
  os << "  build " << build_ms << " ms (tuning " << tune_ms << " ms: " << unique_shapes << " unique conv shapes, "
     << shapes_tuned << " timed, " << shapes_from_cache << " from cache"
     << (tuning_cache_path.empty() ? "" : " " + tuning_cache_path) << ")\n";
  for (const CudaLayerInfo& l : layers) {
    os << "  " << l.layer << " [" << l.geometry << "] " << l.choice << (l.from_cache ? " (cache)" : "") << " ws "
       << l.workspace << "\n";
  }
  return os.str();
}

const CudaEngineInfo* cuda_engine_info(const Engine& engine) {
  const auto* e = dynamic_cast<const CudaEngine*>(&engine);
  return e ? &e->info() : nullptr;
}

CudaEngineTweaks cuda_tweaks_from_env() {
  CudaEngineTweaks t;
  if (const char* v = std::getenv("RESNETRS_CUDA_LAYOUT")) {
    const std::string s = v;
    if (s == "nchw" || s == "NCHW") {
      t.layout = CudaEngineTweaks::LayoutChoice::kNCHW;
    } else if (s == "nhwc" || s == "NHWC") {
      t.layout = CudaEngineTweaks::LayoutChoice::kNHWC;
    } else if (!s.empty()) {
      warn("RESNETRS_CUDA_LAYOUT='" + s + "' is neither nchw nor nhwc; ignored");
    }
  }
  if (const char* v = std::getenv("RESNETRS_CUDA_ARENA")) {
    const std::string s = v;
    if (s == "role") {
      t.arena = CudaEngineTweaks::ArenaChoice::kPerRole;
    } else if (s == "liveness") {
      t.arena = CudaEngineTweaks::ArenaChoice::kLiveness;
    } else if (!s.empty()) {
      warn("RESNETRS_CUDA_ARENA='" + s + "' is neither role nor liveness; ignored");
    }
  }
  if (const char* v = std::getenv("RESNETRS_CUDA_BATCHES")) {
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      char* end = nullptr;
      const long b = std::strtol(item.c_str(), &end, 10);
      if (end && *end == '\0' && b >= 1 && b <= 1 << 20) {
        t.prepare_batches.push_back(int(b));
      } else {
        warn("RESNETRS_CUDA_BATCHES: '" + item + "' is not a batch size; ignored");
      }
    }
  }
  t.sync_check = env_flag("RESNETRS_SYNC_CHECK");
  t.verbose = env_flag("RESNETRS_CUDA_VERBOSE");
  return t;
}

std::unique_ptr<Engine> make_cuda_engine_ex(const FoldedWeights& weights, const EngineOptions& options,
                                            const CudaEngineTweaks& tweaks) {
  validate_engine_options(weights, options);
  require_cuda_backend_supports(weights.config);  // before any CUDA call: the same refusal with or without a GPU
  require_cuda_precision_available(options.precision);
  if (options.precision == Precision::kFp32x3 && !cuda::cutlass_convs_built()) {
    throw_error(Status::kInvalidArgument,
                "precision fp32x3 needs the CUTLASS 3xTF32 kernels, and this library was built without them "
                "(RESNETRS_CUTLASS=OFF or the CUTLASS headers were not found; docs/cutlass.md)");
  }
  (void)cuda::precision_policy(options.precision);  // an unknown precision is refused here, before any CUDA call
  return std::make_unique<CudaEngine>(weights, options, tweaks);
}

std::unique_ptr<Engine> make_cuda_engine(const FoldedWeights& weights, const EngineOptions& options) {
  return make_cuda_engine_ex(weights, options, cuda_tweaks_from_env());
}

}  // namespace resnetrs
