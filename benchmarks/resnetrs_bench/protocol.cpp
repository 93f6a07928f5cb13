#include "protocol.h"

#include <chrono>

namespace bench {

TimedRuns run_protocol(const Protocol& protocol, const std::function<void()>& warmup,
                       const std::function<IterationTimes()>& iteration) {
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  TimedRuns r;
  const Clock::time_point warm_start = Clock::now();
  do {
    warmup();
    ++r.warmup_iterations;
  } while (seconds_since(warm_start) * 1000.0 < protocol.warmup_ms);
  r.warmup_s = seconds_since(warm_start);

  const Clock::time_point start = Clock::now();
  while (int(r.iterations.size()) < protocol.min_iterations || seconds_since(start) < protocol.min_duration_s) {
    r.iterations.push_back(iteration());
  }
  r.timed_s = seconds_since(start);
  return r;
}

}  // namespace bench
