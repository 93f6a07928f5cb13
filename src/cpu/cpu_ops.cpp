#include "cpu/cpu_ops.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace resnetrs::cpu {
namespace {

bool is_pointwise(const ConvParams& p) { return p.kernel == 1 && p.stride == 1 && p.pad == 0 && p.top() == 0 && p.left() == 0; }

// In place: x = act(x + bias) over one output plane; no bias is added when there is none.
void bias_act(float* plane, int hw, const float* bias, Activation act) {
  const float b = bias ? *bias : 0.0f;
  switch (act) {
    case Activation::kNone:
      if (bias) {
        for (int i = 0; i < hw; ++i) plane[i] += b;
      }
      break;
    case Activation::kRelu:
      for (int i = 0; i < hw; ++i) plane[i] = std::max(plane[i] + b, 0.0f);
      break;
    case Activation::kSwish:
      for (int i = 0; i < hw; ++i) plane[i] = swish(plane[i] + b);
      break;
  }
}

// col[(ci, ky, kx), (oy, ox)] of one image.
void im2col(const ConvParams& p, const float* img, float* col) {
  const int ho = p.h_out(), wo = p.w_out(), k = p.kernel, top = p.top(), left = p.left();
  for (int ci = 0; ci < p.cin; ++ci) {
    const float* plane = img + size_t(ci) * p.h * p.w;
    for (int ky = 0; ky < k; ++ky) {
      for (int kx = 0; kx < k; ++kx) {
        float* dst = col + ((size_t(ci) * k + ky) * k + kx) * ho * wo;
        for (int oy = 0; oy < ho; ++oy) {
          const int iy = oy * p.stride - top + ky;
          float* row = dst + size_t(oy) * wo;
          if (iy < 0 || iy >= p.h) {
            std::fill(row, row + wo, 0.0f);
            continue;
          }
          const float* src = plane + size_t(iy) * p.w;
          for (int ox = 0; ox < wo; ++ox) {
            const int ix = ox * p.stride - left + kx;
            row[ox] = (ix >= 0 && ix < p.w) ? src[ix] : 0.0f;
          }
        }
      }
    }
  }
}

}  // namespace

ConvParams conv_params(const ConvShape& s, int batch) {
  ConvParams p;
  p.n = batch;
  p.cin = s.cin;
  p.h = s.h_in;
  p.w = s.w_in;
  p.cout = s.cout;
  p.kernel = s.kernel;
  p.stride = s.stride;
  p.pad = s.pad;
  p.pad_top = s.pad_top;
  p.pad_left = s.pad_left;
  return p;
}

size_t ConvParams::workspace_floats() const {
  if (is_pointwise(*this)) return 0;
  return size_t(cin) * kernel * kernel * h_out() * w_out();
}

void conv2d(const ConvParams& p, const float* in, const float* weight, const float* bias, Activation act, float* out,
            float* workspace) {
  const int ho = p.h_out(), wo = p.w_out();
  const int hw = ho * wo;
  const int kdim = p.cin * p.kernel * p.kernel;
  for (int b = 0; b < p.n; ++b) {
    const float* img = in + size_t(b) * p.cin * p.h * p.w;
    const float* col = img;
    if (!is_pointwise(p)) {
      im2col(p, img, workspace);
      col = workspace;
    }
    float* dst = out + size_t(b) * p.cout * hw;
    // dst[cout, hw] = weight[cout, kdim] * col[kdim, hw]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p.cout, hw, kdim, 1.0f, weight, kdim, col, hw, 0.0f, dst, hw);
    for (int o = 0; o < p.cout; ++o) bias_act(dst + size_t(o) * hw, hw, bias ? bias + o : nullptr, act);
  }
}

void avg_pool_2x2_same(const float* in, int n, int c, int h, int w, float* out) {
  avg_pool_2x2_same(in, n, c, h, w, 2, out);
}

void avg_pool_2x2_same(const float* in, int n, int c, int h, int w, int stride, float* out) {
  const int ho = (h + stride - 1) / stride, wo = (w + stride - 1) / stride;
  for (size_t plane = 0; plane < size_t(n) * c; ++plane) {
    const float* src = in + plane * h * w;
    float* dst = out + plane * ho * wo;
    for (int oy = 0; oy < ho; ++oy) {
      const int y0 = stride * oy, y1 = std::min(y0 + 1, h - 1);
      for (int ox = 0; ox < wo; ++ox) {
        const int x0 = stride * ox, x1 = std::min(x0 + 1, w - 1);
        float s = 0.0f;
        int cnt = 0;
        for (int y = y0; y <= y1; ++y) {
          for (int x = x0; x <= x1; ++x) {
            s += src[size_t(y) * w + x];
            ++cnt;
          }
        }
        dst[size_t(oy) * wo + ox] = s / float(cnt);
      }
    }
  }
}

void global_avg_pool(const float* in, int n, int c, int h, int w, float* out) {
  const size_t hw = size_t(h) * w;
  for (size_t plane = 0; plane < size_t(n) * c; ++plane) {
    const float* src = in + plane * hw;
    double s = 0.0;  // a plane has at most a few thousand values: a double sum keeps it exact enough
    for (size_t i = 0; i < hw; ++i) s += src[i];
    out[plane] = static_cast<float>(s / double(hw));
  }
}

void se_gate(const float* pooled, int n, int c, int r, const float* w1, const float* b1, const float* w2, const float* b2,
             float* hidden, float* gate) {
  dense(pooled, n, c, r, w1, b1, hidden);
  for (size_t i = 0; i < size_t(n) * r; ++i) hidden[i] = std::max(hidden[i], 0.0f);
  dense(hidden, n, r, c, w2, b2, gate);
  for (size_t i = 0; i < size_t(n) * c; ++i) gate[i] = 1.0f / (1.0f + std::exp(-gate[i]));
}

void excite_residual(const float* x, const float* gate, const float* shortcut, int n, int c, int hw, Activation act,
                     float* out) {
  for (size_t plane = 0; plane < size_t(n) * c; ++plane) {
    const float g = gate[plane];
    const size_t base = plane * hw;
    if (act == Activation::kRelu) {
      for (int i = 0; i < hw; ++i) out[base + i] = std::max(x[base + i] * g + shortcut[base + i], 0.0f);
    } else {
      for (int i = 0; i < hw; ++i) out[base + i] = x[base + i] * g + shortcut[base + i];
      bias_act(out + base, hw, nullptr, act);
    }
  }
}

void dense(const float* x, int n, int cin, int cout, const float* weight, const float* bias, float* y) {
  // y[n, cout] = x[n, cin] * weight^T[cin, cout]
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, cout, cin, 1.0f, x, cin, weight, cin, 0.0f, y, cout);
  if (bias) {
    for (int b = 0; b < n; ++b) {
      for (int o = 0; o < cout; ++o) y[size_t(b) * cout + o] += bias[o];
    }
  }
}

void normalize_input(const float* in, bool in_nhwc, int n, int h, int w, const std::array<float, 3>& mean,
                     const std::array<float, 3>& std, float* out) {
  const size_t hw = size_t(h) * w;
  for (int b = 0; b < n; ++b) {
    for (int c = 0; c < 3; ++c) {
      const float inv = 1.0f / std[c];
      float* dst = out + (size_t(b) * 3 + c) * hw;
      for (size_t i = 0; i < hw; ++i) {
        const float v = in_nhwc ? in[(size_t(b) * hw + i) * 3 + c] : in[(size_t(b) * 3 + c) * hw + i];
        dst[i] = (v - mean[c]) * inv;
      }
    }
  }
}

}  // namespace resnetrs::cpu
