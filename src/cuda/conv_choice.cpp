#include "cuda/conv_choice.h"

#include <cstdio>
#include <sstream>

namespace resnetrs::cuda {

namespace {
// Must match resnetrs::cutlass_fprop::tile_name over kTiles (checked in cutlass_conv.cpp).
const char* const kCutlassTiles[kCutlassTileCount] = {"128x128x16", "128x64x16", "64x64x16"};
constexpr const char* kCutlassMath = "3XTF32";
}  // namespace

const char* cutlass_tile_name(int tile) { return tile >= 0 && tile < kCutlassTileCount ? kCutlassTiles[tile] : "?"; }

const char* conv_mode_name(ConvMode m) {
  return m == ConvMode::kFused ? "fused" : m == ConvMode::kPlain ? "plain" : "cutlass";
}

std::string ConvChoice::to_string() const {
  char ms_text[32];
  std::snprintf(ms_text, sizeof(ms_text), "%.4f", double(ms));
  if (mode == ConvMode::kCutlass) {
    return std::string("cutlass ") + cutlass_tile_name(algo) + " " + kCutlassMath + " " + ms_text;
  }
  return std::string(conv_mode_name(mode)) + " " + conv_algo_name(algo) + " " + conv_math_name(math) + " " + ms_text;
}

bool parse_conv_choice(const std::string& text, ConvChoice* out) {
  std::istringstream is(text);
  std::string mode, algo, math;
  double ms = 0;
  if (!(is >> mode >> algo >> math >> ms)) return false;
  std::string extra;
  if (is >> extra) return false;
  ConvChoice c;
  if (mode == "fused") {
    c.mode = ConvMode::kFused;
  } else if (mode == "plain") {
    c.mode = ConvMode::kPlain;
  } else if (mode == "cutlass") {
    c.mode = ConvMode::kCutlass;
    c.algo = -1;
    for (int t = 0; t < kCutlassTileCount; ++t) {
      if (algo == kCutlassTiles[t]) c.algo = t;
    }
    if (c.algo < 0 || math != kCutlassMath || !(ms >= 0)) return false;
    c.math = ConvMath::kFma;
    c.ms = float(ms);
    *out = c;
    return true;
  } else {
    return false;
  }
  if (!parse_conv_algo(algo, &c.algo) || !parse_conv_math(math, &c.math) || !(ms >= 0)) return false;
  c.ms = float(ms);
  *out = c;
  return true;
}

}  // namespace resnetrs::cuda
