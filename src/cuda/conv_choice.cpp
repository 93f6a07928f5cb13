#include "cuda/conv_choice.h"

#include <cstdio>
#include <sstream>

namespace resnetrs::cuda {

const char* conv_mode_name(ConvMode m) { return m == ConvMode::kFused ? "fused" : "plain"; }

std::string ConvChoice::to_string() const {
  char ms_text[32];
  std::snprintf(ms_text, sizeof(ms_text), "%.4f", double(ms));
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
  } else {
    return false;
  }
  if (!parse_conv_algo(algo, &c.algo) || !parse_conv_math(math, &c.math) || !(ms >= 0)) return false;
  c.ms = float(ms);
  *out = c;
  return true;
}

}  // namespace resnetrs::cuda
