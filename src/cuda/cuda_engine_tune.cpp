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
#include "cuda/cutlass_conv.h"
#include "cuda/tuning_cache.h"

namespace resnetrs {

using cuda::ConvChoice;
using cuda::ConvGeometry;
using cuda::ConvMode;
using cuda::DeviceBuffer;
using cuda::LegacyConv;
using kernels::TensorLayout;

const cuda::DeviceConv& CudaEngine::layer_weights(int layer) const {
  if (layer >= 0 && layer < 4) return m_weights.stem[layer];
  for (size_t b = 0; b < m_plan.blocks.size(); ++b) {
    const cuda::BlockPlan& bp = m_plan.blocks[b];
    const cuda::DeviceBlock& db = m_weights.blocks[b];
    if (bp.conv1 == layer) return db.conv1;
    if (bp.conv2 == layer) return db.conv2;
    if (bp.conv3 == layer) return db.conv3;
    if (bp.shortcut == layer) return db.shortcut;
  }
  throw_error(Status::kInternal, "plan: no weights for layer " + std::to_string(layer));
}

LegacyConv CudaEngine::make_conv(const ConvShape& s, int batch) const {
  return LegacyConv(m_cudnn.get(), geometry(s, batch), m_policy.conv_math, m_policy.act);
}

void CudaEngine::tune() {
  TunedShapes t = tune_at(m_options.max_batch, m_options.workspace_cap_bytes, nullptr);
  m_tuned = std::move(t.choices);
  m_from_cache = std::move(t.from_cache);
  m_tuned_convs = std::move(t.convs);
  m_info.shapes_tuned = t.tuned;
  m_info.shapes_from_cache = t.cached;
}

// Every unique shape at `batch`: the tuning cache's answer when it is still valid, else timed
// (cuDNN's candidates within `cap`, or the CUTLASS tiles). fixed_ws: a workspace of at least
// `cap` bytes to time with (a later batch size uses the engine's own, so nothing is allocated
// after build); nullptr: allocate `cap` on the first cache miss and free it afterwards.
CudaEngine::TunedShapes CudaEngine::tune_at(int batch, size_t cap, void* fixed_ws) {
  const char* prec = m_policy.cache_name;
  const char* layout = m_layout == TensorLayout::kNHWC ? "nhwc" : "nchw";
  TunedShapes out;
  const bool timed = m_tweaks.modes == CudaEngineTweaks::ModeChoice::kTimed;
  const cuda::ConvPolicy policy = m_tweaks.modes == CudaEngineTweaks::ModeChoice::kFusedOnly ? cuda::ConvPolicy::kFusedOnly
                                  : m_tweaks.modes == CudaEngineTweaks::ModeChoice::kPlainOnly ? cuda::ConvPolicy::kPlainOnly
                                                                                               : cuda::ConvPolicy::kTimed;
  const bool strict = m_policy.conv_math == cuda::ConvMathRule::kStrictFma;
  cuda::TuningCache cache(timed ? m_options.tuning_cache_path : std::string());
  cache.load();
  DeviceBuffer tune_ws;  // the cap, allocated on the first cache miss and freed after tuning
  out.choices.assign(m_plan.unique.size(), ConvChoice{});
  out.from_cache.assign(m_plan.unique.size(), false);
  for (size_t u = 0; u < m_plan.unique.size(); ++u) {
    const cuda::UniqueConv& uc = m_plan.unique[u];
    const ConvShape& s = uc.shape;
    const ConvGeometry g = geometry(s, batch);
    try {
      out.convs.push_back(make_conv(s, batch));
      LegacyConv& conv = out.convs.back();
      // fp32x3: the CUTLASS kernels wherever a tile applies (they need no workspace).
      const bool cutlass = m_policy.cutlass_convs && cuda::cutlass_applies_any(s, batch);
      const std::string key = cuda::tuning_key(m_device, prec, layout, g, s.relu(), cap);
      ConvChoice c;
      bool hit = cache.lookup(key, &c);
      if (hit) {
        // A cached choice must still be valid here: allowed math, identity rule, workspace (or,
        // for a CUTLASS choice, that its tile applies).
        size_t bytes = 0;
        if (c.mode == ConvMode::kCutlass) {
          hit = cutlass && cuda::cutlass_applies(c.algo, s, batch);
        } else {
          hit = !cutlass && (!strict || c.math == cuda::ConvMath::kFma) &&
                (s.relu() || c.mode == ConvMode::kPlain || c.algo == cuda::kAlgoImplicitPrecompGemm) &&
                conv.workspace_size(c.algo, c.math, &bytes) == CUDNN_STATUS_SUCCESS && bytes <= cap;
        }
        c.workspace = bytes;
        if (!hit) warn("tuning cache entry for " + s.name + " (" + key + ") is not usable here; re-tuning");
      }
      if (!hit) {
        const cuda::DeviceConv& dc = layer_weights(uc.layers.front());
        std::string summary;
        if (cutlass) {
          cuda::CutlassOperands ops;
          ops.x = at_f32(m_slots.convs[size_t(uc.layers.front())].in);
          ops.w = static_cast<const float*>(dc.weight);
          ops.bias = dc.bias;
          ops.y = at_f32(m_slots.convs[size_t(uc.layers.front())].out);
          if (!cuda::tune_cutlass_conv(s, batch, ops, m_stream.get(), &c, &summary)) {
            throw_error(Status::kInternal, "no CUTLASS tile runs a shape one applied to");
          }
        } else {
          void* ws = fixed_ws;
          if (!ws && cap > 0) {
            if (!tune_ws.get()) tune_ws = DeviceBuffer(cap, "the cuDNN tuning workspace (workspace_cap_bytes)");
            ws = tune_ws.get();
          }
          cuda::TuneBuffers tb;
          tb.x = at(m_slots.convs[size_t(uc.layers.front())].in);
          tb.w = dc.weight;
          tb.bias = dc.bias;
          tb.bias_conv = dc.bias_conv;
          tb.y = at(m_slots.convs[size_t(uc.layers.front())].out);
          tb.workspace = ws;
          tb.workspace_bytes = ws ? cap : 0;
          const cuda::TuneOutcome outcome = cuda::tune_conv(conv, s.relu(), tb, m_layout, m_stream.get(), policy);
          c = outcome.best;
          summary = outcome.summary();
        }
        cache.put(key, c);
        ++out.tuned;
        if (m_tweaks.verbose) {
          std::fprintf(stderr, "resnetrs cuda: tuned %s [%s]\n%s", s.name.c_str(), g.describe().c_str(), summary.c_str());
        }
      } else {
        out.from_cache[u] = true;
        ++out.cached;
      }
      out.choices[u] = c;
    } catch (const Error& e) {
      throw Error(e.status(), "tuning convolution " + s.name + " [" + g.describe() + "]: " + e.what());
    }
  }
  RESNETRS_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));
  cache.save();
  return out;
}

// The choice for a batch other than max_batch: the tuned one when it fits the allocated
// workspace there (a CUTLASS choice: when its tile applies at that batch), else the first that
// does of: fused IMPLICIT_PRECOMP_GEMM (for a fused choice), plain IMPLICIT_GEMM (default math,
// then FMA), plain IMPLICIT_PRECOMP_GEMM (FMA).
ConvChoice CudaEngine::effective_choice(LegacyConv& conv, const ConvChoice& tuned, const ConvShape& shape, int batch) const {
  if (tuned.mode == ConvMode::kCutlass && cuda::cutlass_applies(tuned.algo, shape, batch)) return tuned;
  const std::string& name = shape.name;
  const size_t have = m_workspace.bytes();
  auto fits = [&](ConvChoice c, ConvChoice* out) {
    size_t bytes = 0;
    if (conv.workspace_size(c.algo, c.math, &bytes) != CUDNN_STATUS_SUCCESS || bytes > have) return false;
    c.workspace = bytes;
    *out = c;
    return true;
  };
  ConvChoice out;
  if (tuned.mode != ConvMode::kCutlass && fits(tuned, &out)) return out;
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
