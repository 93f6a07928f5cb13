// Helpers shared by the GPU tests: device arrays with poisoned guard zones, layout transforms,
// a process-wide tuning cache file, cached synthetic weights, and comparison shorthands.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cuda/cuda_raii.h"
#include "model/fold.h"

namespace resnetrs::test {

// A device float array of `size` values followed by a guard zone. poison() fills everything with
// NaN (0xFF bytes); guard_intact() checks that no kernel wrote past the end.
class DeviceArray {
 public:
  static constexpr size_t kGuardFloats = 64;

  explicit DeviceArray(size_t size);
  explicit DeviceArray(const std::vector<float>& host);

  float* get() { return m_buffer.floats(); }
  const float* get() const { return m_buffer.floats(); }
  size_t size() const { return m_size; }

  void upload(const std::vector<float>& host);
  std::vector<float> download() const;
  void poison();                  // NaN everywhere, guard included
  void fill(float value);         // a finite sentinel everywhere, guard included
  bool guard_intact() const;      // the guard zone still holds the poison/sentinel pattern

 private:
  cuda::DeviceBuffer m_buffer;
  size_t m_size = 0;
  bool m_nan_poison = true;
  float m_sentinel = 0;
};

std::vector<float> nchw_to_nhwc(const std::vector<float>& v, int n, int c, int h, int w);
std::vector<float> nhwc_to_nchw(const std::vector<float>& v, int n, int c, int h, int w);
template <typename T>
std::vector<double> to_double(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// Number of values that are NaN or inf.
size_t count_non_finite(const std::vector<float>& v);

// The tuning cache every engine in this process shares: $RESNETRS_TEST_TUNING_CACHE when set
// (keep it between runs), else a file in a per-process temporary directory removed at exit.
const std::string& shared_tuning_cache();
// A fresh, empty cache path in the temporary directory (for the cache-reuse test).
std::string fresh_tuning_cache(const std::string& tag);

// Folded synthetic weights for `depth` (seed fixed), cached for the whole run; also starts
// generating the next depth in the background.
const FoldedWeights& synthetic_folded(int depth);

// Catch2 checks that every row's top-1 of `got` equals `ref`'s ([rows, cols] logits); a differing
// top-1 passes only when `allow_tie` and the reference's top-2 margin is at most twice the row's
// largest absolute difference (a numerical tie). Each difference is printed for the device log.
void check_top1(const std::vector<float>& got, const std::vector<float>& ref, int rows, int cols, bool allow_tie,
                const std::string& what);

}  // namespace resnetrs::test
