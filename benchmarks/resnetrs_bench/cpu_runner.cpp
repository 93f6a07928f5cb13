// The CPU runner: resnetrs_engine_run_host timed by steady_clock around each call. No device
// memory is involved, so the memory fields stay empty.
#include <chrono>
#include <cmath>
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

  bool finite = true;
  for (float v : logits) finite = finite && std::isfinite(v);
  r.outputs_finite = finite;
  for (const IterationTimes& t : runs.iterations) r.samples_ms.push_back(t.latency_ms);
  r.latency_ms = summarize(r.samples_ms);
  r.host_ms = r.latency_ms;
  r.iterations = int(r.samples_ms.size());
  r.warmup_iterations = runs.warmup_iterations;
  r.warmup_s = runs.warmup_s;
  r.timed_s = runs.timed_s;
  r.images_per_s = double(spec.batch) * r.iterations / runs.timed_s;
  r.ok = true;
  return r;
}

}  // namespace bench
