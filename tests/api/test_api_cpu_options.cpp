// The CPU options of API version 4 (resnetrs_options_t.cpu_threads and .cpu_winograd,
// resnetrs_engine_info_t.cpu_threads): defaults, validation, the threads an engine reports, and
// callers compiled against API versions 1-3, whose options struct ends before the new fields.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "api_test_util.h"
#include "engine/engine.h"
#include "io/weights_file.h"
#include "model/fold.h"

using namespace resnetrs::apitest;

namespace {

// The struct an API 1-3 header declares: resnetrs_options_t up to (not including) cpu_threads.
constexpr size_t kOldOptionsSize = offsetof(resnetrs_options_t, cpu_threads);

// An old caller's options inside a larger buffer whose bytes past the old struct are garbage the
// library must neither read nor write.
struct OldCallerOptions {
  static constexpr unsigned char kGarbage = 0xAB;
  alignas(resnetrs_options_t) unsigned char bytes[sizeof(resnetrs_options_t) + 16];
  OldCallerOptions() { std::memset(bytes, kGarbage, sizeof(bytes)); }
  resnetrs_options_t* options() { return reinterpret_cast<resnetrs_options_t*>(bytes); }
  bool tail_untouched() const {
    return std::all_of(bytes + kOldOptionsSize, bytes + sizeof(bytes), [](unsigned char b) { return b == kGarbage; });
  }
};

int info_cpu_threads(const resnetrs_engine_t* e) {
  resnetrs_engine_info_t info{};
  info.struct_size = sizeof(info);
  REQUIRE(resnetrs_engine_get_info(e, &info) == RESNETRS_STATUS_OK);
  return info.cpu_threads;
}

}  // namespace

TEST_CASE("options_init: API 4 defaults of cpu_threads and cpu_winograd", "[api][args][cpu_options][leak]") {
  resnetrs_options_t o;
  std::memset(&o, 0x5C, sizeof(o));
  REQUIRE(resnetrs_options_init(&o) == RESNETRS_STATUS_OK);
  CHECK(o.cpu_threads == 0);
  CHECK(o.cpu_winograd == RESNETRS_CPU_WINOGRAD_AUTO);
  CHECK(RESNETRS_API_VERSION == 4);
}

TEST_CASE("options_init: an API 1-3 caller's struct is written only up to its size", "[api][args][cpu_options][leak]") {
  for (uint32_t version : {1u, 2u, 3u}) {
    INFO("API version " << version);
    OldCallerOptions old;
    REQUIRE(resnetrs_options_init_versioned(old.options(), kOldOptionsSize, version) == RESNETRS_STATUS_OK);
    CHECK(old.options()->struct_size == kOldOptionsSize);
    CHECK(old.options()->api_version == version);
    CHECK(old.options()->max_batch == 1);
    CHECK(old.options()->tuning_cache_path == nullptr);
    CHECK(old.tail_untouched());
  }
  // Each version has exactly one size: the new size with an old version and the reverse are refused.
  resnetrs_options_t o;
  CHECK_FAILS_WITH(resnetrs_options_init_versioned(&o, sizeof(o), 3), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "expects " + std::to_string(kOldOptionsSize) + " from an API version 3 header");
  CHECK_FAILS_WITH(resnetrs_options_init_versioned(&o, kOldOptionsSize, RESNETRS_API_VERSION), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "expects " + std::to_string(sizeof(o)) + " from an API version 4 header");
}

TEST_CASE("create: cpu_threads and cpu_winograd out of range are refused naming the field", "[api][args][cpu_options][leak]") {
  struct BadCase {
    int32_t threads, winograd;
    const char* fragment;
  };
  const BadCase cases[] = {
      {-1, RESNETRS_CPU_WINOGRAD_AUTO, "options->cpu_threads is -1, expected 0 (the cores this process may run on) or 1..1024"},
      {1025, RESNETRS_CPU_WINOGRAD_AUTO, "options->cpu_threads is 1025"},
      {INT32_MIN, RESNETRS_CPU_WINOGRAD_AUTO, "options->cpu_threads is -2147483648"},
      {0, 3, "options->cpu_winograd is 3, not one of RESNETRS_CPU_WINOGRAD_AUTO (0)"},
      {0, -1, "options->cpu_winograd is -1"},
  };
  for (const BadCase& c : cases) {
    INFO(c.fragment);
    for (int32_t backend : {RESNETRS_BACKEND_CPU, RESNETRS_BACKEND_CUDA}) {  // a bad value is bad on any backend
      resnetrs_options_t o = cpu_options();
      o.backend = backend;
      o.cpu_threads = c.threads;
      o.cpu_winograd = c.winograd;
      resnetrs_engine_t* e = reinterpret_cast<resnetrs_engine_t*>(0x1);
      CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, &o, &e), RESNETRS_STATUS_INVALID_ARGUMENT, c.fragment);
      CHECK(e == nullptr);
      e = reinterpret_cast<resnetrs_engine_t*>(0x1);
      CHECK_FAILS_WITH(resnetrs_engine_create_from_file("/nonexistent/weights.h5", &o, &e), RESNETRS_STATUS_INVALID_ARGUMENT,
                       c.fragment);
      CHECK(e == nullptr);
    }
  }
}

TEST_CASE("create: options from an API 3 caller get the CPU defaults and build an engine", "[api][cpu_options]") {
  OldCallerOptions old;
  REQUIRE(resnetrs_options_init_versioned(old.options(), kOldOptionsSize, 3) == RESNETRS_STATUS_OK);
  resnetrs_options_t* o = old.options();
  o->backend = RESNETRS_BACKEND_CPU;
  o->max_batch = 1;
  o->height = o->width = kRes;
  // The garbage where an API 4 struct has cpu_threads (-1414812757) would be refused if it were read.
  EnginePtr e = make_synthetic(*o);
  CHECK(old.tail_untouched());
  // ENGINE-DEPENDENT (issue 20): 0 until the fast CPU engine overrides Engine::cpu_threads(); then
  // the default resolves to the cores this process may run on, at least 1.
  CHECK(info_cpu_threads(e.get()) >= 1);

  // An API 3 caller's info struct ends before cpu_threads where the ABI leaves no tail padding
  // (on LP64 its sizeof is the same as API 4's): nothing past its size is written.
  resnetrs_engine_info_t info;
  info.struct_size = offsetof(resnetrs_engine_info_t, cpu_threads);
  info.cpu_threads = -7;
  REQUIRE(resnetrs_engine_get_info(e.get(), &info) == RESNETRS_STATUS_OK);
  CHECK(info.cpu_threads == -7);
  CHECK(info.height == kRes);
}

TEST_CASE("create: cpu_threads and cpu_winograd reach a working CPU engine", "[api][engine][cpu_options]") {
  const int batch = 1;
  const std::vector<float> input = pixels(image_floats(), 23);
  static const resnetrs::FoldedWeights folded = resnetrs::fold_weights(resnetrs::synthetic_weights(kDepth, kSeed));
  resnetrs::EngineOptions ro;
  ro.backend = resnetrs::Backend::kCpu;
  ro.height = ro.width = kRes;
  std::vector<float> want(1000);
  resnetrs::make_cpu_reference_engine(folded, ro)->run_host(input.data(), batch, want.data());
  float scale = 0;
  for (float v : want) scale = std::max(scale, std::fabs(v));
  REQUIRE(scale > 0);

  struct Case {
    int32_t threads, winograd;
    double tolerance;  // of the largest |logit|: Winograd FAST trades accuracy for speed (docs/cpu-engine.md)
  };
  const Case cases[] = {{1, RESNETRS_CPU_WINOGRAD_OFF, 1e-3},  {3, RESNETRS_CPU_WINOGRAD_OFF, 1e-3},
                        {2, RESNETRS_CPU_WINOGRAD_AUTO, 1e-3}, {0, RESNETRS_CPU_WINOGRAD_AUTO, 1e-3},
                        {2, RESNETRS_CPU_WINOGRAD_FAST, 1e-2}};
  for (const Case& c : cases) {
    INFO("cpu_threads " << c.threads << ", cpu_winograd " << c.winograd);
    resnetrs_options_t o = cpu_options(batch);
    o.cpu_threads = c.threads;
    o.cpu_winograd = c.winograd;
    EnginePtr e = make_synthetic(o);
    // ENGINE-DEPENDENT (issue 20): the C API reports Engine::cpu_threads(), 0 until the fast CPU
    // engine overrides it; then a requested count is used as is, and 0 resolves to >= 1.
    if (c.threads > 0) {
      CHECK(info_cpu_threads(e.get()) == c.threads);
    } else {
      CHECK(info_cpu_threads(e.get()) >= 1);
    }
    std::vector<float> got(1000);
    REQUIRE(resnetrs_engine_run_host(e.get(), input.data(), batch, got.data()) == RESNETRS_STATUS_OK);
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - want[i])));
    CHECK(worst <= c.tolerance * scale);
  }
}
