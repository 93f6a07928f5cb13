#include "gpu_test_support.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>

#include "cuda/cuda_check.h"
#include "io/weights_file.h"
#include "model/config.h"
#include "support/compare.h"

namespace resnetrs::test {

DeviceArray::DeviceArray(size_t size) : m_buffer((size + kGuardFloats) * sizeof(float), "test array"), m_size(size) {
  poison();
}

DeviceArray::DeviceArray(const std::vector<float>& host) : DeviceArray(host.size()) { upload(host); }

void DeviceArray::upload(const std::vector<float>& host) {
  RESNETRS_CHECK_ARG(host.size() == m_size, "DeviceArray::upload: size mismatch");
  RESNETRS_CUDA_CHECK(cudaMemcpy(m_buffer.get(), host.data(), m_size * sizeof(float), cudaMemcpyHostToDevice));
  // A pageable copy may return before its DMA lands, and the engine/tests use non-blocking
  // streams that do not order after the legacy stream: wait here.
  RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
}

std::vector<float> DeviceArray::download() const {
  RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> host(m_size);
  RESNETRS_CUDA_CHECK(cudaMemcpy(host.data(), m_buffer.get(), m_size * sizeof(float), cudaMemcpyDeviceToHost));
  return host;
}

void DeviceArray::poison() {
  m_nan_poison = true;
  RESNETRS_CUDA_CHECK(cudaMemset(m_buffer.get(), 0xFF, m_buffer.bytes()));
  RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
}

void DeviceArray::fill(float value) {
  m_nan_poison = false;
  m_sentinel = value;
  const std::vector<float> host(m_size + kGuardFloats, value);
  RESNETRS_CUDA_CHECK(cudaMemcpy(m_buffer.get(), host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
  RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
}

bool DeviceArray::guard_intact() const {
  RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> guard(kGuardFloats);
  RESNETRS_CUDA_CHECK(cudaMemcpy(guard.data(), m_buffer.floats() + m_size, kGuardFloats * sizeof(float),
                                 cudaMemcpyDeviceToHost));
  for (float g : guard) {
    if (m_nan_poison ? !std::isnan(g) : g != m_sentinel) return false;
  }
  return true;
}

std::vector<float> nchw_to_nhwc(const std::vector<float>& v, int n, int c, int h, int w) {
  std::vector<float> out(v.size());
  for (int b = 0; b < n; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          out[((size_t(b) * h + y) * w + x) * c + ch] = v[((size_t(b) * c + ch) * h + y) * w + x];
  return out;
}

std::vector<float> nhwc_to_nchw(const std::vector<float>& v, int n, int c, int h, int w) {
  std::vector<float> out(v.size());
  for (int b = 0; b < n; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          out[((size_t(b) * c + ch) * h + y) * w + x] = v[((size_t(b) * h + y) * w + x) * c + ch];
  return out;
}

size_t count_non_finite(const std::vector<float>& v) {
  size_t bad = 0;
  for (float x : v) bad += std::isfinite(x) ? 0 : 1;
  return bad;
}

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("resnetrs_gpu_tests_" + std::to_string(long(getpid())));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

TempDir& temp_dir() {
  static TempDir dir;
  return dir;
}

}  // namespace

const std::string& shared_tuning_cache() {
  static const std::string path = [] {
    const char* env = std::getenv("RESNETRS_TEST_TUNING_CACHE");
    if (env && *env) return std::string(env);
    return (temp_dir().path / "tuning.cache").string();
  }();
  return path;
}

std::string fresh_tuning_cache(const std::string& tag) {
  static int counter = 0;
  const std::filesystem::path p = temp_dir().path / (tag + "_" + std::to_string(++counter) + ".cache");
  std::error_code ec;
  std::filesystem::remove(p, ec);
  return p.string();
}

const FoldedWeights& synthetic_folded(int depth) {
  // Generating RS-420's weights takes ~10 s on one core. A request for depth d also starts the
  // next depth in supported_depths() on a background thread (synthetic_weights is a pure
  // function), so the network tests, which go through the depths in order, rarely wait. Every
  // depth generated stays cached (~3 GB of host memory for all seven).
  using Future = std::shared_future<std::shared_ptr<const FoldedWeights>>;
  static std::mutex mutex;
  static std::map<int, Future> futures;
  std::lock_guard<std::mutex> lock(mutex);
  auto start = [&](int d) {
    if (futures.count(d)) return;
    futures[d] = std::async(std::launch::async, [d] {
                   return std::shared_ptr<const FoldedWeights>(
                       std::make_shared<FoldedWeights>(fold_weights(synthetic_weights(d, 20260401u))));
                 }).share();
  };
  const std::vector<int>& depths = supported_depths();
  const auto pos = std::find(depths.begin(), depths.end(), depth);
  RESNETRS_CHECK_ARG(pos != depths.end(), "no synthetic weights for depth " + std::to_string(depth));
  start(depth);
  if (pos + 1 != depths.end()) start(*(pos + 1));
  return *futures[depth].get();
}

void check_top1(const std::vector<float>& got, const std::vector<float>& ref, int rows, int cols, bool allow_tie,
                const std::string& what) {
  const std::vector<int> a = argmax_rows(got, rows, cols), b = argmax_rows(ref, rows, cols);
  for (int r = 0; r < rows; ++r) {
    if (a[size_t(r)] == b[size_t(r)]) continue;
    const float* rr = ref.data() + size_t(r) * cols;
    const float* gr = got.data() + size_t(r) * cols;
    float second = -1e30f, maxdiff = 0;
    for (int c = 0; c < cols; ++c) {
      if (c != b[size_t(r)]) second = std::max(second, rr[c]);
      maxdiff = std::max(maxdiff, std::fabs(gr[c] - rr[c]));
    }
    const float margin = rr[b[size_t(r)]] - second;
    const bool ambiguous = margin <= 2 * maxdiff;
    std::printf("  %s: row %d top-1 differs (gpu %d, cpu %d), cpu top-2 margin %g, max |diff| %g%s\n", what.c_str(), r,
                a[size_t(r)], b[size_t(r)], double(margin), double(maxdiff), ambiguous ? " (numerical tie)" : "");
    INFO(what << ": row " << r << " top-1 gpu " << a[size_t(r)] << " cpu " << b[size_t(r)] << ", margin " << margin
              << ", max diff " << maxdiff);
    CHECK((allow_tie && ambiguous));
  }
}


}  // namespace resnetrs::test
