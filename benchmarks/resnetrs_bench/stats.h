// Summary statistics of per-iteration times, as trtexec reports them: min, max, mean, median and
// the 90th/95th/99th percentiles. Percentiles use the nearest-rank method (the smallest sample
// with at least p% of the samples at or below it); the median is the middle sample, or the mean
// of the two middle ones. benchmarks/peers/bench_schema.py computes the same.
#pragma once

#include <vector>

namespace bench {

struct Summary {
  double min = 0, max = 0, mean = 0, median = 0, p90 = 0, p95 = 0, p99 = 0;
};

// `samples` must not be empty.
Summary summarize(std::vector<double> samples);

// Nearest-rank percentile of sorted samples, p in 1..100: rank ceil(p n / 100), in integers so
// that every implementation picks the same sample.
double percentile_sorted(const std::vector<double>& sorted, int p);

}  // namespace bench
