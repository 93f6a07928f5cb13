// The fast CPU engine's elementwise, pooling and head kernels (isa_kernels.h), written as plain
// loops over the innermost channel dimension that the compiler vectorizes for each instruction set.
#include "cpu/fast/isa/isa_rules.h"

#include <math.h>
#include <stddef.h>

#include "cpu/fast/isa/isa_kernels.h"

namespace resnetrs::cpu::fast::RESNETRS_CPU_ISA_NS {

namespace {
// Rows of c floats; the activation is a loop of its own so that relu and none vectorize.
inline void act_row(float* row, int c, IsaAct act) {
  if (act == IsaAct::kRelu) {
    for (int i = 0; i < c; ++i) row[i] = row[i] > 0.0f ? row[i] : 0.0f;
  } else if (act == IsaAct::kSwish) {
    for (int i = 0; i < c; ++i) row[i] = row[i] / (1.0f + expf(-row[i]));
  } else if (act == IsaAct::kSigmoid) {
    for (int i = 0; i < c; ++i) row[i] = 1.0f / (1.0f + expf(-row[i]));
  }
}
}  // namespace

void bias_act(float* data, size_t rows, size_t stride, int c, const float* bias, IsaAct act) {
  for (size_t p = 0; p < rows; ++p) {
    float* row = data + p * stride;
    if (bias) {
      for (int i = 0; i < c; ++i) row[i] += bias[i];
    }
    act_row(row, c, act);
  }
}

void channel_sum(const float* x, size_t rows, size_t stride, int c, float* sum) {
  for (int i = 0; i < c; ++i) sum[i] = 0.0f;
  for (size_t p = 0; p < rows; ++p) {
    const float* row = x + p * stride;
    for (int i = 0; i < c; ++i) sum[i] += row[i];
  }
}

void excite_residual(const float* x, const float* gate, const float* shortcut, size_t rows, int c, IsaAct act,
                     float* out) {
  for (size_t p = 0; p < rows; ++p) {
    const size_t o = p * size_t(c);
    for (int i = 0; i < c; ++i) out[o + i] = x[o + i] * gate[i] + shortcut[o + i];
    act_row(out + o, c, act);
  }
}

void avg_pool_2x2(const float* in, int h, int w, int c, int stride, int y0, int y1, float* out) {
  const int wo = stride == 1 ? w : (w + 1) / 2;
  for (int y = y0; y < y1; ++y) {
    const int sy = y * stride;
    const int rows = sy + 1 < h ? 2 : 1;
    for (int x = 0; x < wo; ++x) {
      const int sx = x * stride;
      const int cols = sx + 1 < w ? 2 : 1;
      const float inv = 1.0f / float(rows * cols);
      float* o = out + (size_t(y) * wo + x) * c;
      for (int i = 0; i < c; ++i) o[i] = 0.0f;
      for (int dy = 0; dy < rows; ++dy) {
        for (int dx = 0; dx < cols; ++dx) {
          const float* src = in + ((size_t(sy) + dy) * w + (sx + dx)) * c;
          for (int i = 0; i < c; ++i) o[i] += src[i];
        }
      }
      for (int i = 0; i < c; ++i) o[i] *= inv;
    }
  }
}

void normalize_input(const float* in, int in_nhwc, int h, int w, const float* mean, const float* std, int y0, int y1,
                     float* out) {
  const size_t plane = size_t(h) * w;
  for (int y = y0; y < y1; ++y) {
    for (int x = 0; x < w; ++x) {
      const size_t p = size_t(y) * w + x;
      for (int ch = 0; ch < 3; ++ch) {
        const float v = in_nhwc ? in[p * 3 + ch] : in[ch * plane + p];
        out[p * 3 + ch] = (v - mean[ch]) / std[ch];
      }
    }
  }
}

}  // namespace resnetrs::cpu::fast::RESNETRS_CPU_ISA_NS
