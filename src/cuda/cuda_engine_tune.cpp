// CudaEngine's algorithm choice (cuda_engine.h): every unique convolution shape tuned at
// max_batch (or answered by the tuning cache), and the choice for a smaller batch.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "cuda/conv_tuner.h"
#include "cuda/cuda_engine.h"
#include "cuda/tuning_cache.h"

namespace resnetrs {

using cuda::ConvChoice;
using cuda::ConvGeometry;
using cuda::ConvMode;
using cuda::DeviceBuffer;
using cuda::LegacyConv;
using kernels::TensorLayout;

void CudaEngine::tune() {
  const char* prec = precision_name(m_options.precision);
  const char* layout = m_layout == TensorLayout::kNHWC ? "nhwc" : "nchw";
  const size_t cap = m_options.workspace_cap_bytes;
  const bool timed = m_tweaks.modes == CudaEngineTweaks::ModeChoice::kTimed;
  const cuda::ConvPolicy policy = m_tweaks.modes == CudaEngineTweaks::ModeChoice::kFusedOnly ? cuda::ConvPolicy::kFusedOnly
                                  : m_tweaks.modes == CudaEngineTweaks::ModeChoice::kPlainOnly ? cuda::ConvPolicy::kPlainOnly
                                                                                               : cuda::ConvPolicy::kTimed;
  cuda::TuningCache cache(timed ? m_options.tuning_cache_path : std::string());
  cache.load();
  DeviceBuffer tune_ws;  // the cap, allocated on the first cache miss and freed after tuning
  m_tuned.assign(m_plan.unique.size(), ConvChoice{});
  m_from_cache.assign(m_plan.unique.size(), false);
  m_tuned_convs.clear();
  for (size_t u = 0; u < m_plan.unique.size(); ++u) {
    const cuda::UniqueConv& uc = m_plan.unique[u];
    const ConvShape& s = uc.shape;
    const ConvGeometry g = geometry(s, m_options.max_batch);
    try {
      m_tuned_convs.emplace_back(m_cudnn.get(), g, m_strict);
      LegacyConv& conv = m_tuned_convs.back();
      const std::string key = cuda::tuning_key(m_device, prec, layout, g, s.relu(), cap);
      ConvChoice c;
      bool hit = cache.lookup(key, &c);
      if (hit) {
        // A cached choice must still be valid here: allowed math, identity rule, workspace.
        size_t bytes = 0;
        hit = (!m_strict || c.math == cuda::ConvMath::kFma) &&
              (s.relu() || c.mode == ConvMode::kPlain || c.algo == cuda::kAlgoImplicitPrecompGemm) &&
              conv.workspace_size(c.algo, c.math, &bytes) == CUDNN_STATUS_SUCCESS && bytes <= cap;
        c.workspace = bytes;
        if (!hit) warn("tuning cache entry for " + s.name + " (" + key + ") is not usable here; re-tuning");
      }
      if (!hit) {
        if (!tune_ws.get() && cap > 0) tune_ws = DeviceBuffer(cap, "the cuDNN tuning workspace (workspace_cap_bytes)");
        const int layer = uc.layers.front();
        const cuda::DeviceConv* dc = nullptr;
        if (layer < 4) {
          dc = &m_weights.stem[layer];
        } else {
          // Find the block layer's weights.
          for (size_t b = 0; b < m_plan.blocks.size() && !dc; ++b) {
            const cuda::BlockPlan& bp = m_plan.blocks[b];
            const cuda::DeviceBlock& db = m_weights.blocks[b];
            if (bp.conv1 == layer) dc = &db.conv1;
            if (bp.conv2 == layer) dc = &db.conv2;
            if (bp.conv3 == layer) dc = &db.conv3;
            if (bp.shortcut == layer) dc = &db.shortcut;
          }
        }
        if (!dc) throw_error(Status::kInternal, "plan: no weights for layer " + s.name);
        cuda::TuneBuffers tb;
        tb.x = buf(uc.in);
        tb.w = dc->weight;
        tb.bias = dc->bias;
        tb.y = buf(uc.out);
        tb.workspace = tune_ws.get();
        tb.workspace_bytes = tune_ws.get() ? cap : 0;
        const cuda::TuneOutcome outcome = cuda::tune_conv(conv, s.relu(), tb, m_layout, m_stream.get(), policy);
        c = outcome.best;
        cache.put(key, c);
        ++m_info.shapes_tuned;
        if (m_tweaks.verbose) {
          std::fprintf(stderr, "resnetrs cuda: tuned %s [%s]\n%s", s.name.c_str(), g.describe().c_str(), outcome.summary().c_str());
        }
      } else {
        m_from_cache[u] = true;
        ++m_info.shapes_from_cache;
      }
      m_tuned[u] = c;
    } catch (const Error& e) {
      throw Error(e.status(), "tuning convolution " + s.name + " [" + g.describe() + "]: " + e.what());
    }
  }
  RESNETRS_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));
  cache.save();
}

// The choice for a batch other than max_batch: the tuned one when it fits the allocated
// workspace there, else the first that does of: fused IMPLICIT_PRECOMP_GEMM (for a fused
// choice), plain IMPLICIT_GEMM (default math, then FMA), plain IMPLICIT_PRECOMP_GEMM (FMA).
ConvChoice CudaEngine::effective_choice(LegacyConv& conv, const ConvChoice& tuned, const std::string& name) const {
  const size_t have = m_workspace.bytes();
  auto fits = [&](ConvChoice c, ConvChoice* out) {
    size_t bytes = 0;
    if (conv.workspace_size(c.algo, c.math, &bytes) != CUDNN_STATUS_SUCCESS || bytes > have) return false;
    c.workspace = bytes;
    *out = c;
    return true;
  };
  ConvChoice out;
  if (fits(tuned, &out)) return out;
  std::vector<ConvChoice> fallbacks;
  if (tuned.mode == ConvMode::kFused) {
    fallbacks.push_back(ConvChoice{ConvMode::kFused, cuda::kAlgoImplicitPrecompGemm, conv.default_math(), 0, 0});
  }
  fallbacks.push_back(ConvChoice{ConvMode::kPlain, cuda::kAlgoImplicitGemm, conv.default_math(), 0, 0});
  fallbacks.push_back(ConvChoice{ConvMode::kPlain, cuda::kAlgoImplicitGemm, cuda::ConvMath::kFma, 0, 0});
  fallbacks.push_back(ConvChoice{ConvMode::kPlain, cuda::kAlgoImplicitPrecompGemm, cuda::ConvMath::kFma, 0, 0});
  for (const ConvChoice& f : fallbacks) {
    if (fits(f, &out)) return out;
  }
  throw_error(Status::kCudnnError, "no cuDNN algorithm runs " + name + " [" + conv.geometry().describe() + "] within the " +
                                       std::to_string(have) + "-byte workspace (tuned: " + tuned.to_string() + ")");
}

}  // namespace resnetrs
