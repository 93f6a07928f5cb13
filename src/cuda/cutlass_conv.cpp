#include "cuda/cutlass_conv.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "common/error.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_raii.h"

#if defined(RESNETRS_HAVE_CUTLASS)
#include "cutlass_fprop/fprop_3xtf32.h"
#endif

namespace resnetrs::cuda {

#if defined(RESNETRS_HAVE_CUTLASS)

namespace {
static_assert(sizeof(cutlass_fprop::kTiles) / sizeof(cutlass_fprop::kTiles[0]) == size_t(kCutlassTileCount),
              "conv_choice.h's CUTLASS tile count differs from resnetrs_cutlass's");

cutlass_fprop::Tile tile_of(int tile) {
  RESNETRS_CHECK_ARG(tile >= 0 && tile < kCutlassTileCount, "CUTLASS tile index " + std::to_string(tile) + " out of range");
  return cutlass_fprop::kTiles[tile];
}

float elapsed(cudaEvent_t a, cudaEvent_t b) {
  RESNETRS_CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  RESNETRS_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms;
}
}  // namespace

bool cutlass_convs_built() noexcept { return true; }

bool cutlass_applies(int tile, const ConvShape& shape, int batch, std::string* why) {
  if (tile < 0 || tile >= kCutlassTileCount) {
    if (why) *why = "no such tile";
    return false;
  }
  return cutlass_fprop::applicable(tile_of(tile), cutlass_fprop::fprop_shape(shape, batch), why);
}

void run_cutlass_conv(int tile, const ConvShape& shape, int batch, const CutlassOperands& ops, cudaStream_t stream) {
  cutlass_fprop::FpropArgs a;
  a.x = ops.x;
  a.w = ops.w;
  a.bias = ops.bias;
  a.y = ops.y;
  a.relu = shape.relu();
  a.stream = stream;
  cutlass_fprop::run_fprop(tile_of(tile), cutlass_fprop::fprop_shape(shape, batch), a);
}

bool tune_cutlass_conv(const ConvShape& shape, int batch, const CutlassOperands& ops, cudaStream_t stream, ConvChoice* out,
                       std::string* summary) {
  constexpr int kTrials = 3, kCallsPerTrial = 2;
  UniqueEvent start = make_event(true), stop = make_event(true);
  bool have = false;
  ConvChoice best;
  best.mode = ConvMode::kCutlass;
  best.math = ConvMath::kFma;
  float best_ms = std::numeric_limits<float>::max();
  for (int t = 0; t < kCutlassTileCount; ++t) {
    std::string why;
    if (!cutlass_applies(t, shape, batch, &why)) {
      if (summary) *summary += std::string("    x cutlass ") + cutlass_tile_name(t) + " (" + why + ")\n";
      continue;
    }
    run_cutlass_conv(t, shape, batch, ops, stream);  // warm-up (first launch sets the smem attribute)
    float ms = std::numeric_limits<float>::max();
    for (int trial = 0; trial < kTrials; ++trial) {
      RESNETRS_CUDA_CHECK(cudaEventRecord(start.get(), stream));
      for (int i = 0; i < kCallsPerTrial; ++i) run_cutlass_conv(t, shape, batch, ops, stream);
      RESNETRS_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
      ms = std::min(ms, elapsed(start.get(), stop.get()) / kCallsPerTrial);
    }
    if (summary) {
      char line[96];
      std::snprintf(line, sizeof(line), "      cutlass %s %.4f ms\n", cutlass_tile_name(t), double(ms));
      *summary += line;
    }
    if (!have || ms < best_ms) {  // ties go to the earlier tile
      best_ms = ms;
      best.algo = t;
      best.ms = ms;
      have = true;
    }
  }
  if (have) *out = best;
  return have;
}

#else  // built without CUTLASS

bool cutlass_convs_built() noexcept { return false; }

bool cutlass_applies(int, const ConvShape&, int, std::string* why) {
  if (why) *why = "this library was built without CUTLASS (RESNETRS_CUTLASS)";
  return false;
}

void run_cutlass_conv(int, const ConvShape&, int, const CutlassOperands&, cudaStream_t) {
  throw_error(Status::kInvalidArgument, "this library was built without CUTLASS (RESNETRS_CUTLASS): no fp32x3 convolutions");
}

bool tune_cutlass_conv(const ConvShape&, int, const CutlassOperands&, cudaStream_t, ConvChoice*, std::string* summary) {
  if (summary) *summary += "    x cutlass (built without CUTLASS)\n";
  return false;
}

#endif

bool cutlass_applies_any(const ConvShape& shape, int batch) {
  for (int t = 0; t < kCutlassTileCount; ++t) {
    if (cutlass_applies(t, shape, batch)) return true;
  }
  return false;
}

}  // namespace resnetrs::cuda
