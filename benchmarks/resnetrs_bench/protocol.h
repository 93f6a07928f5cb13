// The timing loop shared by the GPU and CPU runners.
#pragma once

#include <functional>
#include <vector>

#include "measurement.h"

namespace bench {

struct IterationTimes {
  double latency_ms = 0;  // what the table reports (GPU events, or wall time on the CPU)
  double host_ms = 0;     // wall time of the whole iteration
  double enqueue_ms = 0;  // wall time inside the run call
};

struct TimedRuns {
  int warmup_iterations = 0;
  double warmup_s = 0;
  double timed_s = 0;
  std::vector<IterationTimes> iterations;
};

// Warm-up: calls `warmup()` until `protocol.warmup_ms` of wall time has passed (at least once).
// Then calls `iteration()` until at least min_iterations calls and min_duration_s seconds.
TimedRuns run_protocol(const Protocol& protocol, const std::function<void()>& warmup,
                       const std::function<IterationTimes()>& iteration);

}  // namespace bench
