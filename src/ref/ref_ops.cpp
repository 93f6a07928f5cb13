#include "ref/ref_ops.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace resnetrs::ref {

namespace {
// TF's 'SAME' rule for one dimension: {output size, padding before}.
std::pair<int, int> tf_same(int size, int kernel, int stride) {
  const int out = (size + stride - 1) / stride;
  const int total = std::max((out - 1) * stride + kernel - size, 0);
  return {out, total / 2};
}
double swish(double x) { return x / (1.0 + std::exp(-x)); }

// The convolution with its output size and leading padding given (cells outside the input count
// as zero); `act`: 0 none, 1 relu, 2 swish.
std::vector<double> conv2d_padded(const std::vector<float>& in, int n, int cin, int h, int w, const std::vector<float>& weight,
                                  const std::vector<float>& bias, int cout, int kernel, int stride, int ho, int wo, int top,
                                  int left, int act) {
  std::vector<double> out(size_t(n) * cout * ho * wo);
  for (int b = 0; b < n; ++b)
    for (int o = 0; o < cout; ++o)
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) {
          double s = bias.empty() ? 0.0 : bias[o];
          for (int c = 0; c < cin; ++c)
            for (int ky = 0; ky < kernel; ++ky)
              for (int kx = 0; kx < kernel; ++kx) {
                const int iy = oy * stride - top + ky, ix = ox * stride - left + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += double(in[((size_t(b) * cin + c) * h + iy) * w + ix]) *
                     double(weight[((size_t(o) * cin + c) * kernel + ky) * kernel + kx]);
              }
          out[((size_t(b) * cout + o) * ho + oy) * wo + ox] = act == 1 ? std::max(s, 0.0) : act == 2 ? swish(s) : s;
        }
  return out;
}
}  // namespace

std::vector<double> conv2d(const std::vector<float>& in, int n, int cin, int h, int w, const std::vector<float>& weight,
                           const std::vector<float>& bias, int cout, int kernel, int stride, int pad, bool relu) {
  const int ho = (h + 2 * pad - kernel) / stride + 1, wo = (w + 2 * pad - kernel) / stride + 1;
  return conv2d_padded(in, n, cin, h, w, weight, bias, cout, kernel, stride, ho, wo, pad, pad, relu ? 1 : 0);
}

std::vector<double> conv2d_tf_same(const std::vector<float>& in, int n, int cin, int h, int w, const std::vector<float>& weight,
                                   const std::vector<float>& bias, int cout, int kernel, int stride, int act) {
  const auto [ho, top] = tf_same(h, kernel, stride);
  const auto [wo, left] = tf_same(w, kernel, stride);
  return conv2d_padded(in, n, cin, h, w, weight, bias, cout, kernel, stride, ho, wo, top, left, act);
}

// 2x2/2 'same' is TF's SAME rule at stride 2: ceil(h/2) outputs, no padding before, and the divisor
// counts the valid cells only.
std::vector<double> avg_pool_2x2_same(const std::vector<float>& in, int n, int c, int h, int w) {
  return avg_pool_2x2_tf_same(in, n, c, h, w, 2);
}

std::vector<double> avg_pool_2x2_tf_same(const std::vector<float>& in, int n, int c, int h, int w, int stride) {
  const auto [ho, top] = tf_same(h, 2, stride);
  const auto [wo, left] = tf_same(w, 2, stride);
  std::vector<double> out(size_t(n) * c * ho * wo);
  for (size_t p = 0; p < size_t(n) * c; ++p)
    for (int oy = 0; oy < ho; ++oy)
      for (int ox = 0; ox < wo; ++ox) {
        double s = 0;
        int cnt = 0;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) {
            const int y = oy * stride - top + dy, x = ox * stride - left + dx;
            if (y >= 0 && y < h && x >= 0 && x < w) {
              s += in[(p * h + y) * w + x];
              ++cnt;
            }
          }
        out[(p * ho + oy) * wo + ox] = s / cnt;
      }
  return out;
}

std::vector<double> excite_residual_swish(const std::vector<float>& x, const std::vector<float>& gate,
                                          const std::vector<float>& shortcut, int n, int c, int hw) {
  std::vector<double> out(x.size());
  for (size_t p = 0; p < size_t(n) * c; ++p)
    for (int i = 0; i < hw; ++i) out[p * hw + i] = swish(double(x[p * hw + i]) * gate[p] + shortcut[p * hw + i]);
  return out;
}

std::vector<double> global_avg_pool(const std::vector<float>& in, int n, int c, int h, int w) {
  std::vector<double> out(size_t(n) * c);
  for (size_t p = 0; p < out.size(); ++p) {
    double s = 0;
    for (int i = 0; i < h * w; ++i) s += in[p * h * w + i];
    out[p] = s / (h * w);
  }
  return out;
}

std::vector<double> se_gate(const std::vector<float>& pooled, int n, int c, int r, const std::vector<float>& w1,
                            const std::vector<float>& b1, const std::vector<float>& w2, const std::vector<float>& b2) {
  std::vector<double> gate(size_t(n) * c);
  std::vector<double> hidden(r);
  for (int b = 0; b < n; ++b) {
    for (int j = 0; j < r; ++j) {
      double s = b1[j];
      for (int i = 0; i < c; ++i) s += double(w1[size_t(j) * c + i]) * pooled[size_t(b) * c + i];
      hidden[j] = std::max(s, 0.0);
    }
    for (int i = 0; i < c; ++i) {
      double s = b2[i];
      for (int j = 0; j < r; ++j) s += double(w2[size_t(i) * r + j]) * hidden[j];
      gate[size_t(b) * c + i] = 1.0 / (1.0 + std::exp(-s));
    }
  }
  return gate;
}

std::vector<double> excite_residual_relu(const std::vector<float>& x, const std::vector<float>& gate,
                                         const std::vector<float>& shortcut, int n, int c, int hw) {
  std::vector<double> out(size_t(n) * c * hw);
  for (size_t p = 0; p < size_t(n) * c; ++p)
    for (int i = 0; i < hw; ++i)
      out[p * hw + i] = std::max(double(x[p * hw + i]) * gate[p] + double(shortcut[p * hw + i]), 0.0);
  return out;
}

std::vector<double> dense(const std::vector<float>& x, int n, int cin, int cout, const std::vector<float>& weight,
                          const std::vector<float>& bias) {
  std::vector<double> y(size_t(n) * cout);
  for (int b = 0; b < n; ++b)
    for (int o = 0; o < cout; ++o) {
      double s = bias.empty() ? 0.0 : bias[o];
      for (int i = 0; i < cin; ++i) s += double(x[size_t(b) * cin + i]) * weight[size_t(o) * cin + i];
      y[size_t(b) * cout + o] = s;
    }
  return y;
}

std::vector<double> normalize_input(const std::vector<float>& in, bool in_nhwc, int n, int h, int w,
                                    const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  std::vector<double> out(size_t(n) * 3 * h * w);
  const size_t hw = size_t(h) * w;
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < 3; ++c)
      for (size_t i = 0; i < hw; ++i) {
        const double v = in_nhwc ? in[(size_t(b) * hw + i) * 3 + c] : in[(size_t(b) * 3 + c) * hw + i];
        out[(size_t(b) * 3 + c) * hw + i] = (v - mean[c]) / std[c];
      }
  return out;
}

std::vector<double> batch_norm(const std::vector<double>& x, int n, int c, int hw, const std::vector<float>& gamma,
                               const std::vector<float>& beta, const std::vector<float>& mean, const std::vector<float>& var,
                               double eps) {
  std::vector<double> out(x.size());
  for (int b = 0; b < n; ++b)
    for (int ch = 0; ch < c; ++ch) {
      const double s = gamma[ch] / std::sqrt(double(var[ch]) + eps);
      for (int i = 0; i < hw; ++i) {
        const size_t idx = (size_t(b) * c + ch) * hw + i;
        out[idx] = (x[idx] - mean[ch]) * s + beta[ch];
      }
    }
  return out;
}

}  // namespace resnetrs::ref
