// The C API on the CUDA backend (tag [cuda]: run only through `--require-cuda`, which skips
// visibly without a device). Checks what the C layer promises on the GPU: results agree with the
// CPU engine, run_device on callers' streams and with NULL, refusal of host pointers, ordering
// of runs from several threads on different streams, destroy waiting for pending work, and
// OUT_OF_MEMORY for an engine that cannot fit.
#include <cuda_runtime_api.h>

#include <cstring>
#include <thread>
#include <vector>

#include "api_test_util.h"
#include "support/compare.h"

using namespace resnetrs::apitest;

namespace {

constexpr int kCudaRes = 64;
constexpr int kCudaBatch = 2;

#define REQUIRE_CUDA(call)                                        \
  do {                                                            \
    const cudaError_t _e = (call);                                \
    INFO(#call << ": " << cudaGetErrorString(_e));                \
    REQUIRE(_e == cudaSuccess);                                   \
  } while (0)

resnetrs_options_t cuda_options(int cuda_graph = 1) {
  resnetrs_options_t o;
  REQUIRE(resnetrs_options_init(&o) == RESNETRS_STATUS_OK);
  o.backend = RESNETRS_BACKEND_CUDA;
  o.precision = RESNETRS_PRECISION_FP32;
  o.max_batch = kCudaBatch;
  o.height = o.width = kCudaRes;
  o.cuda_graph = cuda_graph;
  return o;
}

struct DeviceBuffer {
  float* ptr = nullptr;
  explicit DeviceBuffer(size_t floats) { REQUIRE_CUDA(cudaMalloc(reinterpret_cast<void**>(&ptr), floats * sizeof(float))); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

size_t cuda_image_floats() { return size_t(3) * kCudaRes * kCudaRes; }

std::vector<float> host_run(resnetrs_engine_t* e, const std::vector<float>& input, int batch) {
  std::vector<float> logits(size_t(batch) * 1000);
  const resnetrs_status_t s = resnetrs_engine_run_host(e, input.data(), batch, logits.data());
  INFO(resnetrs_last_error());
  REQUIRE(s == RESNETRS_STATUS_OK);
  return logits;
}

}  // namespace

TEST_CASE("CUDA engine: info, and fp32 logits agree with the CPU engine", "[cuda]") {
  const std::vector<float> input = pixels(cuda_image_floats() * kCudaBatch, 3);
  resnetrs_options_t cpu = cpu_options(kCudaBatch, kCudaRes);
  EnginePtr cpu_engine = make_synthetic(cpu);
  const std::vector<float> want = host_run(cpu_engine.get(), input, kCudaBatch);

  for (int graph : {0, 1}) {
    INFO("cuda_graph " << graph);
    EnginePtr e = make_synthetic(cuda_options(graph));
    resnetrs_engine_info_t info{};
    info.struct_size = sizeof(info);
    REQUIRE(resnetrs_engine_get_info(e.get(), &info) == RESNETRS_STATUS_OK);
    CHECK(info.backend == RESNETRS_BACKEND_CUDA);
    CHECK(info.device == 0);
    CHECK(info.cuda_graph == graph);
    CHECK(info.device_bytes > 0);
    const std::vector<float> got = host_run(e.get(), input, kCudaBatch);
    // Strict fp32 on both sides, different summation orders (and Winograd/FFT algorithms on the
    // GPU): agreement to ~1e-6 relative is typical; 1e-4 leaves room without hiding a bug.
    const auto r = resnetrs::test::compare(got, want, 1e-3, 1e-3);
    INFO(r.report);
    CHECK(r.rel_l2 < 1e-4);
    CHECK(resnetrs::test::argmax_rows(got, kCudaBatch, 1000) == resnetrs::test::argmax_rows(want, kCudaBatch, 1000));
    // A second run is bit-identical to the first.
    CHECK(host_run(e.get(), input, kCudaBatch) == got);
  }
}

TEST_CASE("run_device on a caller's stream and with NULL equals run_host", "[cuda]") {
  EnginePtr e = make_synthetic(cuda_options());
  const std::vector<float> input = pixels(cuda_image_floats() * kCudaBatch, 4);
  const std::vector<float> want = host_run(e.get(), input, kCudaBatch);
  DeviceBuffer d_in(input.size()), d_out(want.size());
  REQUIRE_CUDA(cudaMemcpy(d_in.ptr, input.data(), input.size() * sizeof(float), cudaMemcpyHostToDevice));
  std::vector<float> got(want.size());

  cudaStream_t stream = nullptr;
  REQUIRE_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  REQUIRE_CUDA(cudaMemsetAsync(d_out.ptr, 0, want.size() * sizeof(float), stream));
  const resnetrs_status_t s = resnetrs_engine_run_device(e.get(), d_in.ptr, kCudaBatch, d_out.ptr, stream);
  INFO(resnetrs_last_error());
  REQUIRE(s == RESNETRS_STATUS_OK);
  REQUIRE_CUDA(cudaMemcpyAsync(got.data(), d_out.ptr, got.size() * sizeof(float), cudaMemcpyDeviceToHost, stream));
  REQUIRE_CUDA(cudaStreamSynchronize(stream));
  CHECK(got == want);

  // NULL: the engine's own stream, finished when the call returns.
  REQUIRE_CUDA(cudaMemset(d_out.ptr, 0, want.size() * sizeof(float)));
  REQUIRE(resnetrs_engine_run_device(e.get(), d_in.ptr, kCudaBatch, d_out.ptr, nullptr) == RESNETRS_STATUS_OK);
  REQUIRE_CUDA(cudaMemcpy(got.data(), d_out.ptr, got.size() * sizeof(float), cudaMemcpyDeviceToHost));
  CHECK(got == want);
  REQUIRE_CUDA(cudaStreamDestroy(stream));
}

TEST_CASE("run_device refuses host memory and checks its arguments", "[cuda]") {
  EnginePtr e = make_synthetic(cuda_options());
  std::vector<float> host_in(cuda_image_floats() * kCudaBatch), host_out(1000 * kCudaBatch);
  DeviceBuffer d_in(host_in.size()), d_out(host_out.size());
  CHECK_FAILS_WITH(resnetrs_engine_run_device(e.get(), host_in.data(), 1, d_out.ptr, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "input points to host memory");
  CHECK_FAILS_WITH(resnetrs_engine_run_device(e.get(), d_in.ptr, 1, host_out.data(), nullptr), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "logits points to host memory");
  CHECK_FAILS_WITH(resnetrs_engine_run_device(e.get(), d_in.ptr, 0, d_out.ptr, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "batch is 0");
  CHECK_FAILS_WITH(resnetrs_engine_run_device(e.get(), d_in.ptr, kCudaBatch + 1, d_out.ptr, nullptr),
                   RESNETRS_STATUS_INVALID_ARGUMENT, "batch is 3");
  CHECK_FAILS_WITH(resnetrs_engine_run_device(e.get(), nullptr, 1, d_out.ptr, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "input must not be NULL");
  // Still usable after the refusals.
  CHECK(resnetrs_engine_run_device(e.get(), d_in.ptr, 1, d_out.ptr, nullptr) == RESNETRS_STATUS_OK);
}

TEST_CASE("device runs from several threads on their own streams are ordered", "[cuda]") {
  EnginePtr e = make_synthetic(cuda_options());
  constexpr int kThreads = 4, kRuns = 3;
  std::vector<std::vector<float>> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(pixels(cuda_image_floats() * kCudaBatch, 200 + t));
    expected.push_back(host_run(e.get(), inputs.back(), kCudaBatch));
  }
  std::vector<std::vector<float>> got(kThreads, std::vector<float>(1000 * kCudaBatch));
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      cudaStream_t s = nullptr;
      float *in = nullptr, *out = nullptr;
      if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) != cudaSuccess ||
          cudaMalloc(reinterpret_cast<void**>(&in), inputs[t].size() * sizeof(float)) != cudaSuccess ||
          cudaMalloc(reinterpret_cast<void**>(&out), got[t].size() * sizeof(float)) != cudaSuccess) {
        errors[t] = "CUDA setup failed";
        return;
      }
      cudaMemcpyAsync(in, inputs[t].data(), inputs[t].size() * sizeof(float), cudaMemcpyHostToDevice, s);
      for (int r = 0; r < kRuns && errors[t].empty(); ++r) {
        // No synchronization between runs: the engine must order them itself.
        if (resnetrs_engine_run_device(e.get(), in, kCudaBatch, out, s) != RESNETRS_STATUS_OK) errors[t] = resnetrs_last_error();
      }
      cudaMemcpyAsync(got[t].data(), out, got[t].size() * sizeof(float), cudaMemcpyDeviceToHost, s);
      if (cudaStreamSynchronize(s) != cudaSuccess) errors[t] = "stream failed";
      cudaFree(in);
      cudaFree(out);
      cudaStreamDestroy(s);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t << ": " << errors[t]);
    CHECK(errors[t].empty());
    CHECK(got[t] == expected[t]);
  }
}

TEST_CASE("destroy waits for the engine's pending device work", "[cuda]") {
  const std::vector<float> input = pixels(cuda_image_floats() * kCudaBatch, 8);
  // The reference comes from the same engine: two engines may tune to different algorithms
  // (chosen by timing), whose fp32 results differ in the last bits.
  EnginePtr e = make_synthetic(cuda_options());
  const std::vector<float> want = host_run(e.get(), input, kCudaBatch);
  DeviceBuffer d_in(input.size()), d_out(want.size());
  REQUIRE_CUDA(cudaMemcpy(d_in.ptr, input.data(), input.size() * sizeof(float), cudaMemcpyHostToDevice));
  cudaStream_t stream = nullptr;
  REQUIRE_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  REQUIRE(resnetrs_engine_run_device(e.get(), d_in.ptr, kCudaBatch, d_out.ptr, stream) == RESNETRS_STATUS_OK);
  e.reset();  // no synchronization before destroy
  std::vector<float> got(want.size());
  REQUIRE_CUDA(cudaMemcpyAsync(got.data(), d_out.ptr, got.size() * sizeof(float), cudaMemcpyDeviceToHost, stream));
  REQUIRE_CUDA(cudaStreamSynchronize(stream));
  CHECK(got == want);
  REQUIRE_CUDA(cudaStreamDestroy(stream));
}

TEST_CASE("an engine too large for the GPU is OUT_OF_MEMORY, and the GPU stays usable", "[cuda]") {
  resnetrs_options_t o = cuda_options();
  o.max_batch = 65536;  // RS-50 at 1024x1024: terabytes of activations
  o.height = o.width = 1024;
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, &o, &e), RESNETRS_STATUS_OUT_OF_MEMORY, "");
  CHECK(e == nullptr);
  EnginePtr ok = make_synthetic(cuda_options());  // nothing left behind
}

TEST_CASE("a device ordinal that does not exist is refused naming it", "[cuda]") {
  resnetrs_options_t o = cuda_options();
  o.device = 99;
  resnetrs_engine_t* e = nullptr;
  const resnetrs_status_t s = resnetrs_engine_create_synthetic(50, 1, &o, &e);
  INFO(resnetrs_status_string(s) << ": " << resnetrs_last_error());
  CHECK(s == RESNETRS_STATUS_INVALID_ARGUMENT);  // the C layer checks the ordinal before loading
  CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("options->device is 99"));
  CHECK(e == nullptr);
}
