#include "reference64.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace resnetrs::test {
namespace {

struct T {
  int n = 0, c = 0, h = 0, w = 0;
  std::vector<double> v;
  double& at(int i, int ch, int y, int x) { return v[((size_t(i) * c + ch) * h + y) * w + x]; }
  double at(int i, int ch, int y, int x) const { return v[((size_t(i) * c + ch) * h + y) * w + x]; }
};

T make(int n, int c, int h, int w) { return T{n, c, h, w, std::vector<double>(size_t(n) * c * h * w, 0.0)}; }

// conv + folded-BN bias (+ ReLU), symmetric padding (the TF1 release).
T conv(const T& in, const ConvShape& s, const FoldedConv& f) {
  if (in.c != s.cin || in.h != s.h_in || in.w != s.w_in || !s.symmetric_padding()) {
    throw std::runtime_error("reference64: shape mismatch at " + s.name);
  }
  T out = make(in.n, s.cout, s.h_out, s.w_out);
  const int k = s.kernel;
  for (int i = 0; i < in.n; ++i)
    for (int o = 0; o < s.cout; ++o)
      for (int y = 0; y < s.h_out; ++y)
        for (int x = 0; x < s.w_out; ++x) {
          double acc = f.bias[size_t(o)];
          for (int ci = 0; ci < s.cin; ++ci)
            for (int ky = 0; ky < k; ++ky) {
              const int iy = y * s.stride - s.pad + ky;
              if (iy < 0 || iy >= in.h) continue;
              for (int kx = 0; kx < k; ++kx) {
                const int ix = x * s.stride - s.pad + kx;
                if (ix < 0 || ix >= in.w) continue;
                acc += double(f.weight[((size_t(o) * s.cin + ci) * k + ky) * k + kx]) * in.at(i, ci, iy, ix);
              }
            }
          out.at(i, o, y, x) = s.relu() ? std::max(acc, 0.0) : acc;
        }
  return out;
}

// 2x2 stride-2 'same' average pool: bottom/right padding, divisor = valid cells.
T pool2(const T& in) {
  T out = make(in.n, in.c, (in.h + 1) / 2, (in.w + 1) / 2);
  for (int i = 0; i < in.n; ++i)
    for (int ch = 0; ch < in.c; ++ch)
      for (int y = 0; y < out.h; ++y)
        for (int x = 0; x < out.w; ++x) {
          double s = 0;
          int cnt = 0;
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) {
              const int iy = 2 * y + dy, ix = 2 * x + dx;
              if (iy < in.h && ix < in.w) {
                s += in.at(i, ch, iy, ix);
                ++cnt;
              }
            }
          out.at(i, ch, y, x) = s / cnt;
        }
  return out;
}

std::vector<double> mean_hw(const T& t) {
  std::vector<double> m(size_t(t.n) * t.c, 0.0);
  for (int i = 0; i < t.n; ++i)
    for (int ch = 0; ch < t.c; ++ch) {
      double s = 0;
      for (int y = 0; y < t.h; ++y)
        for (int x = 0; x < t.w; ++x) s += t.at(i, ch, y, x);
      m[size_t(i) * t.c + ch] = s / (double(t.h) * t.w);
    }
  return m;
}

// y[n, out] = W[out, in] x[n, in] + b[out]
std::vector<double> dense(const std::vector<double>& x, int n, int in, int out, const std::vector<float>& w,
                          const std::vector<float>& b) {
  std::vector<double> y(size_t(n) * out);
  for (int i = 0; i < n; ++i)
    for (int o = 0; o < out; ++o) {
      double acc = b[size_t(o)];
      for (int j = 0; j < in; ++j) acc += double(w[size_t(o) * in + j]) * x[size_t(i) * in + j];
      y[size_t(i) * out + o] = acc;
    }
  return y;
}

}  // namespace

std::vector<double> reference_logits_f64(const NetworkDesc& net, const FoldedWeights& w, const std::vector<float>& pixels,
                                         int n) {
  T x = make(n, 3, net.height, net.width);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < net.height; ++y)
        for (int xx = 0; xx < net.width; ++xx) {
          const double p = pixels[((size_t(i) * 3 + c) * net.height + y) * net.width + xx];
          x.at(i, c, y, xx) = (p - double(w.input_mean[size_t(c)])) / double(w.input_std[size_t(c)]);
        }
  for (int s = 0; s < 4; ++s) x = conv(x, net.stem[s], w.stem[s]);
  for (size_t bi = 0; bi < net.blocks.size(); ++bi) {
    const BlockShape& b = net.blocks[bi];
    const FoldedBlock& f = w.blocks[bi];
    const T t1 = conv(x, b.conv1, f.conv1);
    const T t2 = conv(t1, b.conv2, f.conv2);
    const T t3 = conv(t2, b.conv3, f.conv3);
    const std::vector<double> pooled = mean_hw(t3);
    std::vector<double> hidden = dense(pooled, n, b.cout, b.se_channels, f.se_reduce_weight, f.se_reduce_bias);
    for (double& h : hidden) h = std::max(h, 0.0);
    std::vector<double> gate = dense(hidden, n, b.se_channels, b.cout, f.se_expand_weight, f.se_expand_bias);
    for (double& g : gate) g = 1.0 / (1.0 + std::exp(-g));
    T sc = x;
    if (b.has_projection) sc = conv(b.pool_shortcut ? pool2(x) : x, b.shortcut, f.shortcut);
    T out = make(n, b.cout, b.h_out, b.w_out);
    for (int i = 0; i < n; ++i)
      for (int ch = 0; ch < b.cout; ++ch)
        for (int y = 0; y < b.h_out; ++y)
          for (int xx = 0; xx < b.w_out; ++xx)
            out.at(i, ch, y, xx) = std::max(t3.at(i, ch, y, xx) * gate[size_t(i) * b.cout + ch] + sc.at(i, ch, y, xx), 0.0);
    x = std::move(out);
  }
  return dense(mean_hw(x), n, kFinalChannels, net.num_classes, w.dense_weight, w.dense_bias);
}

}  // namespace resnetrs::test
