// Comparison helpers shared by the CPU and GPU tests: elementwise |got - ref| <= atol + rtol |ref|,
// relative L2 error, and a report of the worst mismatches when a check fails.
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace resnetrs::test {

struct CompareResult {
  bool ok = true;
  double max_abs = 0, max_rel = 0, rel_l2 = 0;
  size_t mismatches = 0;
  std::string report;  // first mismatches and summary, for failure messages
};

template <typename Got, typename Ref>
CompareResult compare(const Got* got, const Ref* ref, size_t n, double rtol, double atol) {
  CompareResult r;
  double err2 = 0, ref2 = 0;
  std::ostringstream os;
  for (size_t i = 0; i < n; ++i) {
    const double g = double(got[i]), e = double(ref[i]);
    if (!std::isfinite(g) || !std::isfinite(e)) {
      if (!(std::isnan(g) && std::isnan(e)) && g != e) {
        if (r.mismatches++ < 10) os << "  [" << i << "] got " << g << " expected " << e << " (non-finite)\n";
        r.ok = false;
      }
      continue;
    }
    const double d = std::fabs(g - e);
    err2 += d * d;
    ref2 += e * e;
    r.max_abs = std::max(r.max_abs, d);
    if (std::fabs(e) > 0) r.max_rel = std::max(r.max_rel, d / std::fabs(e));
    if (d > atol + rtol * std::fabs(e)) {
      if (r.mismatches++ < 10) os << "  [" << i << "] got " << g << " expected " << e << " |diff| " << d << "\n";
      r.ok = false;
    }
  }
  r.rel_l2 = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  os << "  " << r.mismatches << " of " << n << " outside |diff| <= " << atol << " + " << rtol << "|ref|; max abs " << r.max_abs
     << ", max rel " << r.max_rel << ", rel L2 " << r.rel_l2;
  r.report = os.str();
  return r;
}

template <typename Got, typename Ref>
CompareResult compare(const std::vector<Got>& got, const std::vector<Ref>& ref, double rtol, double atol) {
  if (got.size() != ref.size()) {
    CompareResult r;
    r.ok = false;
    r.report = "size mismatch: got " + std::to_string(got.size()) + " expected " + std::to_string(ref.size());
    return r;
  }
  return compare(got.data(), ref.data(), got.size(), rtol, atol);
}

// Relative L2 error ||got - ref|| / ||ref||.
template <typename A, typename B>
double relative_l2(const std::vector<A>& got, const std::vector<B>& ref) {
  double e = 0, r = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = double(got[i]) - double(ref[i]);
    e += d * d;
    r += double(ref[i]) * double(ref[i]);
  }
  return std::sqrt(e / r);
}

// Seeded uniform random floats in [lo, hi) (portable LCG-free splitmix generator).
inline std::vector<float> random_floats(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& x : v) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    x = lo + (hi - lo) * float((z >> 40) * (1.0 / 16777216.0));
  }
  return v;
}

// Index of the largest value in each row of [rows, cols].
inline std::vector<int> argmax_rows(const std::vector<float>& v, int rows, int cols) {
  std::vector<int> idx(rows);
  for (int r = 0; r < rows; ++r) {
    int best = 0;
    for (int c = 1; c < cols; ++c) {
      if (v[size_t(r) * cols + c] > v[size_t(r) * cols + best]) best = c;
    }
    idx[r] = best;
  }
  return idx;
}

}  // namespace resnetrs::test
