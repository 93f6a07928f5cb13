// The CPU runner: resnetrs_engine_run_host timed by steady_clock around each call. No device
// memory is involved, so the memory fields stay empty.
#include <chrono>
#include <vector>

#include "api_check.h"
#include "protocol.h"
#include "runners.h"

namespace bench {

std::optional<ConfigResult> run_cpu_config(const RunSpec& spec, const Protocol& protocol) {
  using Clock = std::chrono::steady_clock;
  ConfigResult r;
  r.spec = spec;
  r.batch = spec.batch;
  resnetrs_engine_t* raw = create_engine_or_null(spec, &r.build_s);
  if (!raw) return std::nullopt;
  Engine engine(raw);
  const resnetrs_engine_info_t info = engine_info(engine.get());
  fill_from_info(info, r);

  std::vector<float> input(size_t(spec.batch) * 3 * spec.resolution * spec.resolution);
  fill_pixels(input.data(), input.size());
  std::vector<float> logits(size_t(spec.batch) * size_t(info.num_classes));
  auto run = [&] { check_api(resnetrs_engine_run_host(engine.get(), input.data(), spec.batch, logits.data())); };
  auto iteration = [&] {
    const Clock::time_point t0 = Clock::now();
    run();
    IterationTimes t;
    t.latency_ms = t.host_ms = t.enqueue_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return t;
  };
  const TimedRuns runs = run_protocol(protocol, run, iteration);

  fill_timing(runs, logits, r);
  r.host_ms = r.latency_ms;  // on the CPU the timed call is the whole iteration
  return r;
}

}  // namespace bench
