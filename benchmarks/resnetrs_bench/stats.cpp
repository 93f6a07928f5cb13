#include "stats.h"

#include <algorithm>
#include <numeric>

namespace bench {

double percentile_sorted(const std::vector<double>& sorted, int p) {
  const size_t n = sorted.size();
  const size_t rank = (size_t(p) * n + 99) / 100;  // 1-based ceil(p n / 100)
  return sorted[std::min(n, std::max<size_t>(rank, 1)) - 1];
}

Summary summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  Summary s;
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / double(n);
  s.median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  s.p90 = percentile_sorted(samples, 90);
  s.p95 = percentile_sorted(samples, 95);
  s.p99 = percentile_sorted(samples, 99);
  return s;
}

}  // namespace bench
