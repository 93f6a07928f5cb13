// Helpers of the C API tests: RAII for engines and temporary folders, option presets, inputs,
// and a process-wide shared CPU engine so the many small cases do not each build one.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "resnetrs/resnetrs.h"

namespace resnetrs::apitest {

struct EngineDeleter {
  void operator()(resnetrs_engine_t* e) const { resnetrs_engine_destroy(e); }
};
using EnginePtr = std::unique_ptr<resnetrs_engine_t, EngineDeleter>;

// The smallest sensible CPU engine: RS-50 (the smallest depth) at the minimum resolution.
constexpr int kDepth = 50;
constexpr int kRes = 32;
constexpr int kMaxBatch = 2;
constexpr uint64_t kSeed = 7;

inline resnetrs_options_t cpu_options(int max_batch = kMaxBatch, int res = kRes) {
  resnetrs_options_t o;
  REQUIRE(resnetrs_options_init(&o) == RESNETRS_STATUS_OK);
  o.backend = RESNETRS_BACKEND_CPU;
  o.max_batch = max_batch;
  o.height = o.width = res;
  return o;
}

// Creates a synthetic engine and REQUIREs success, printing the library's message otherwise.
inline EnginePtr make_synthetic(const resnetrs_options_t& o, int depth = kDepth, uint64_t seed = kSeed) {
  resnetrs_engine_t* e = nullptr;
  const resnetrs_status_t s = resnetrs_engine_create_synthetic(depth, seed, &o, &e);
  INFO(resnetrs_last_error());
  REQUIRE(s == RESNETRS_STATUS_OK);
  REQUIRE(e != nullptr);
  return EnginePtr(e);
}

// One CPU engine per test process (cpu_options() defaults), built on first use.
inline resnetrs_engine_t* shared_cpu_engine() {
  static EnginePtr engine = make_synthetic(cpu_options());
  return engine.get();
}

// Deterministic pixels on the 0..255 scale.
inline std::vector<float> pixels(size_t count, uint32_t seed) {
  std::vector<float> v(count);
  uint32_t s = seed * 2654435761u + 12345u;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float((s >> 8) % 256u);
  }
  return v;
}

inline size_t image_floats(int res = kRes) { return size_t(3) * res * res; }

// A fresh folder under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    const auto base = std::filesystem::temp_directory_path();
    for (int i = 0;; ++i) {
      m_path = base / ("resnetrs_api_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(i));
      if (std::filesystem::create_directory(m_path)) break;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

// The status and the message of a failed call, checked together.
#define CHECK_FAILS_WITH(call, status, fragment)                                         \
  do {                                                                                   \
    const resnetrs_status_t _s = (call);                                                 \
    const std::string _msg = resnetrs_last_error();                                      \
    INFO(#call << " -> " << resnetrs_status_string(_s) << ": " << _msg);                 \
    CHECK(_s == (status));                                                               \
    CHECK_THAT(_msg, Catch::Matchers::Contains(fragment));                               \
  } while (0)

}  // namespace resnetrs::apitest
