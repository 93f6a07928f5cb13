#include "cpu/fast/conv_error_probe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"

namespace resnetrs::cpu::fast {

namespace {
// splitmix64: a small generator whose sequence is the same with every standard library.
uint64_t next(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

ConvParams probe_geometry(const ConvShape& s, int batch, int h, int w) {
  ConvParams g = conv_params(s, batch);
  g.h = h;
  g.w = w;
  return g;
}

ConvErrorProbe::ConvErrorProbe(const ConvParams& g, const float* weight, const float* bias, IsaAct act,
                               uint64_t seed)
    : g_(g) {
  const int top = g.pad_top < 0 ? g.pad : g.pad_top, left = g.pad_left < 0 ? g.pad : g.pad_left;
  RESNETRS_CHECK_ARG(g.n >= 1 && g.cin >= 1 && g.cout >= 1 && g.h >= 1 && g.w >= 1 && g.kernel >= 1 &&
                         g.stride >= 1 && g.pad >= 0 && top >= 0 && left >= 0 && top <= g.pad && left <= g.pad,
                     "ConvErrorProbe: bad geometry (batch " + std::to_string(g.n) + ", cin " + std::to_string(g.cin) +
                         ", cout " + std::to_string(g.cout) + ", " + std::to_string(g.h) + "x" + std::to_string(g.w) +
                         ", kernel " + std::to_string(g.kernel) + ", stride " + std::to_string(g.stride) + ", pad " +
                         std::to_string(g.pad) + ")");
  RESNETRS_CHECK_ARG(g.h_out() >= 1 && g.w_out() >= 1, "ConvErrorProbe: the output would be empty");
  RESNETRS_CHECK_ARG(weight != nullptr, "ConvErrorProbe: weight is null");
  input_.resize(size_t(g.n) * g.h * g.w * g.cin);
  for (float& x : input_) x = float(-1.0 + 3.0 * double(next(seed) >> 11) * 0x1.0p-53);

  const int ho = g.h_out(), wo = g.w_out(), k = g.kernel;
  // Weights as [ky][kx][ci][co] in double, so the innermost loop runs over co contiguously.
  std::vector<double> wt(size_t(k) * k * g.cin * g.cout);
  for (int co = 0; co < g.cout; ++co)
    for (int ci = 0; ci < g.cin; ++ci)
      for (int t = 0; t < k * k; ++t)
        wt[(size_t(t) * g.cin + ci) * g.cout + co] = weight[(size_t(co) * g.cin + ci) * k * k + t];
  // Eight outputs of a row at a time: each weight row (cout doubles) is read once per group while
  // the group's accumulators (8 x cout doubles) stay in cache. Every product of two floats is
  // exact in double; the sums' rounding (about 1e-16 relative) is far below any float32 error.
  constexpr int kGroup = 8;
  ref_.assign(size_t(g.n) * ho * wo * g.cout, 0.0);
  for (int n = 0; n < g.n; ++n) {
    for (int oy = 0; oy < ho; ++oy) {
      for (int ox0 = 0; ox0 < wo; ox0 += kGroup) {
        const int np = std::min(kGroup, wo - ox0);
        double* acc0 = ref_.data() + ((size_t(n) * ho + oy) * wo + ox0) * g.cout;
        for (int j = 0; j < np; ++j)
          for (int co = 0; co < g.cout; ++co) acc0[size_t(j) * g.cout + co] = bias ? double(bias[co]) : 0.0;
        for (int ky = 0; ky < k; ++ky) {
          const int y = oy * g.stride - top + ky;
          if (y < 0 || y >= g.h) continue;
          for (int kx = 0; kx < k; ++kx) {
            const double* wk = wt.data() + size_t(ky * k + kx) * g.cin * g.cout;
            for (int j = 0; j < np; ++j) {
              const int x = (ox0 + j) * g.stride - left + kx;
              if (x < 0 || x >= g.w) continue;
              const float* px = input_.data() + ((size_t(n) * g.h + y) * g.w + x) * g.cin;
              double* acc = acc0 + size_t(j) * g.cout;
              // Four input channels per pass over the accumulators (a quarter of the stores).
              int ci = 0;
              for (; ci + 4 <= g.cin; ci += 4) {
                const double a0 = px[ci], a1 = px[ci + 1], a2 = px[ci + 2], a3 = px[ci + 3];
                const double* w0 = wk + size_t(ci) * g.cout;
                const double *w1 = w0 + g.cout, *w2 = w1 + g.cout, *w3 = w2 + g.cout;
                for (int co = 0; co < g.cout; ++co) acc[co] += (a0 * w0[co] + a1 * w1[co]) + (a2 * w2[co] + a3 * w3[co]);
              }
              for (; ci < g.cin; ++ci) {
                const double a = px[ci];
                const double* wr = wk + size_t(ci) * g.cout;
                for (int co = 0; co < g.cout; ++co) acc[co] += a * wr[co];
              }
            }
          }
        }
      }
    }
  }
  for (double& v : ref_) {
    if (act == IsaAct::kRelu) v = v > 0 ? v : 0;
    else if (act == IsaAct::kSwish) v = v / (1.0 + std::exp(-v));
  }
  for (double v : ref_) ref_scale_ = std::max(ref_scale_, std::fabs(v));
}

double ConvErrorProbe::error(const float* got_nhwc) const {
  RESNETRS_CHECK_ARG(got_nhwc != nullptr, "ConvErrorProbe::error: output is null");
  double worst = 0;
  for (size_t i = 0; i < ref_.size(); ++i) {
    const double d = std::fabs(double(got_nhwc[i]) - ref_[i]);
    if (!std::isfinite(d)) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, d);
  }
  return ref_scale_ > 0 ? worst / ref_scale_ : worst;
}

}  // namespace resnetrs::cpu::fast
