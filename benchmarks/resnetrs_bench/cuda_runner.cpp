// The GPU runner: input already on the device, CUDA events around each resnetrs_engine_run_device
// on the bench's own stream, a synchronization after each iteration. H2D and D2H copies are not
// timed. Memory: cudaMemGetInfo used bytes after the build and after the runs, minus a baseline
// taken after the bench's own buffers were allocated.
#include <cuda_runtime_api.h>

#include <chrono>
#include <vector>

#include "api_check.h"
#include "protocol.h"
#include "runners.h"

namespace bench {
namespace {

struct OutOfMemory {};  // the batch does not fit: unwinds to run_cuda_config, which halves

void cuda_check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  cudaGetLastError();
  if (err == cudaErrorMemoryAllocation) throw OutOfMemory{};
  throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

void api_check_oom(resnetrs_status_t s) {
  if (s == RESNETRS_STATUS_OUT_OF_MEMORY) throw OutOfMemory{};
  check_api(s);
}

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t floats) { cuda_check(cudaMalloc(&m_ptr, floats * sizeof(float)), "cudaMalloc"); }
  ~DeviceBuffer() { cudaFree(m_ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  float* get() const { return static_cast<float*>(m_ptr); }

 private:
  void* m_ptr = nullptr;
};

class Stream {
 public:
  Stream() { cuda_check(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~Stream() { cudaStreamDestroy(m_stream); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return m_stream; }

 private:
  cudaStream_t m_stream = nullptr;
};

class Event {
 public:
  Event() { cuda_check(cudaEventCreate(&m_event), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(m_event); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return m_event; }

 private:
  cudaEvent_t m_event = nullptr;
};

int64_t used_device_bytes() {
  size_t free_b = 0, total_b = 0;
  cuda_check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  return int64_t(total_b - free_b);
}

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

ConfigResult measure(const RunSpec& spec, const Protocol& protocol) {
  using Clock = std::chrono::steady_clock;
  ConfigResult r;
  r.spec = spec;
  r.batch = spec.batch;
  cuda_check(cudaSetDevice(spec.device), "cudaSetDevice");

  // The bench's buffers first, so the baseline includes them and the deltas are the engine's.
  const size_t in_floats = size_t(spec.batch) * 3 * spec.resolution * spec.resolution;
  constexpr int kReleaseClasses = 1000;  // synthetic weights; a file with more classes reallocates below
  DeviceBuffer input(in_floats);
  auto output = std::make_unique<DeviceBuffer>(size_t(spec.batch) * kReleaseClasses);
  {
    std::vector<float> pixels(in_floats);
    fill_pixels(pixels.data(), pixels.size());
    cuda_check(cudaMemcpy(input.get(), pixels.data(), in_floats * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
  }
  const int64_t baseline = used_device_bytes();
  r.memory.baseline_used = baseline;

  resnetrs_engine_t* raw = create_engine_or_null(spec, &r.build_s);
  if (!raw) throw OutOfMemory{};
  Engine engine(raw);
  r.memory.after_build = used_device_bytes() - baseline;
  const resnetrs_engine_info_t info = engine_info(engine.get());
  fill_from_info(info, r);
  r.memory.engine = int64_t(info.device_bytes);
  const size_t out_floats = size_t(spec.batch) * size_t(info.num_classes);
  if (info.num_classes > kReleaseClasses) output = std::make_unique<DeviceBuffer>(out_floats);

  Stream stream;
  Event start, stop;
  auto warmup = [&] {
    api_check_oom(resnetrs_engine_run_device(engine.get(), input.get(), spec.batch, output->get(), stream.get()));
    cuda_check(cudaStreamSynchronize(stream.get()), "cudaStreamSynchronize (warm-up)");
  };
  auto iteration = [&] {
    IterationTimes t;
    const Clock::time_point h0 = Clock::now();
    cuda_check(cudaEventRecord(start.get(), stream.get()), "cudaEventRecord");
    const Clock::time_point e0 = Clock::now();
    check_api(resnetrs_engine_run_device(engine.get(), input.get(), spec.batch, output->get(), stream.get()));
    const Clock::time_point e1 = Clock::now();
    cuda_check(cudaEventRecord(stop.get(), stream.get()), "cudaEventRecord");
    cuda_check(cudaEventSynchronize(stop.get()), "cudaEventSynchronize (a run failed on the GPU)");
    const Clock::time_point h1 = Clock::now();
    float gpu_ms = 0;
    cuda_check(cudaEventElapsedTime(&gpu_ms, start.get(), stop.get()), "cudaEventElapsedTime");
    t.latency_ms = gpu_ms;
    t.enqueue_ms = ms_between(e0, e1);
    t.host_ms = ms_between(h0, h1);
    return t;
  };
  const TimedRuns runs = run_protocol(protocol, warmup, iteration);
  r.memory.after_runs = used_device_bytes() - baseline;
  r.memory.peak = std::max(*r.memory.after_build, *r.memory.after_runs);

  // The logits of the last run must be finite (a cheap guard against timing a broken engine).
  std::vector<float> logits(out_floats);
  cuda_check(cudaMemcpy(logits.data(), output->get(), out_floats * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
  fill_timing(runs, logits, r);
  std::vector<double> host, enq;
  for (const IterationTimes& t : runs.iterations) {
    host.push_back(t.host_ms);
    enq.push_back(t.enqueue_ms);
  }
  r.host_ms = summarize(host);
  r.enqueue_ms = summarize(enq);
  return r;
}

}  // namespace

std::optional<ConfigResult> run_cuda_config(const RunSpec& spec, const Protocol& protocol) {
  try {
    return measure(spec, protocol);
  } catch (const OutOfMemory&) {
    return std::nullopt;  // everything allocated above is freed by now (RAII)
  }
}

}  // namespace bench
