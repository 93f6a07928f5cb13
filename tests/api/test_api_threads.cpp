// Threading contract: runs on one shared engine from several threads are serialized inside and
// give the same logits as sequential runs; separate engines run in parallel with identical
// results; get_info may run while runs are in flight; creating engines from a file (which forks)
// does not disturb runs in other threads.
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "api_test_util.h"
#include "io/weights_file.h"

using namespace resnetrs::apitest;

namespace {

constexpr int kThreads = 4;
constexpr int kRunsPerThread = 3;

std::vector<float> run_once(resnetrs_engine_t* e, const std::vector<float>& input) {
  std::vector<float> logits(1000);
  const resnetrs_status_t s = resnetrs_engine_run_host(e, input.data(), 1, logits.data());
  if (s != RESNETRS_STATUS_OK) logits.assign(1000, -1.0f);  // Catch2 assertions are not thread-safe: report by value
  return logits;
}

}  // namespace

TEST_CASE("threads sharing one engine get the sequential results", "[api][threads]") {
  EnginePtr engine = make_synthetic(cpu_options(1));
  std::vector<std::vector<float>> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(pixels(image_floats(), 100 + t));
    expected.push_back(run_once(engine.get(), inputs.back()));
  }
  std::vector<std::vector<std::vector<float>>> got(kThreads);
  std::atomic<int> info_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRunsPerThread; ++r) {
        got[t].push_back(run_once(engine.get(), inputs[t]));
        resnetrs_engine_info_t info{};
        info.struct_size = sizeof(info);
        if (resnetrs_engine_get_info(engine.get(), &info) != RESNETRS_STATUS_OK || info.depth != 50) ++info_failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(info_failures == 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int r = 0; r < kRunsPerThread; ++r) {
      INFO("thread " << t << " run " << r);
      CHECK(std::memcmp(got[t][r].data(), expected[t].data(), 1000 * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("separate engines run in parallel with identical results", "[api][threads]") {
  const resnetrs_options_t o = cpu_options(1);
  const std::vector<float> input = pixels(image_floats(), 42);
  constexpr int kEngines = 2;
  std::vector<resnetrs_status_t> created(kEngines, RESNETRS_STATUS_INTERNAL);
  std::vector<resnetrs_engine_t*> engines(kEngines, nullptr);
  std::vector<std::vector<float>> got(kEngines);
  std::vector<std::thread> threads;
  for (int i = 0; i < kEngines; ++i) {
    // Creation in parallel too (HDF5 is not involved; synthetic weights and the engine build are).
    threads.emplace_back([&, i] {
      created[i] = resnetrs_engine_create_synthetic(kDepth, kSeed, &o, &engines[i]);
      if (created[i] == RESNETRS_STATUS_OK) {
        for (int r = 0; r < kRunsPerThread; ++r) got[i] = run_once(engines[i], input);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<EnginePtr> owned;
  for (auto* e : engines) owned.emplace_back(e);
  for (int i = 0; i < kEngines; ++i) REQUIRE(created[i] == RESNETRS_STATUS_OK);
  const std::vector<float> reference = run_once(owned[0].get(), input);
  for (int i = 0; i < kEngines; ++i) {
    INFO("engine " << i);
    CHECK(std::memcmp(got[i].data(), reference.data(), 1000 * sizeof(float)) == 0);
  }
}

TEST_CASE("the last error is per thread", "[api][threads][leak]") {
  const float logits[2] = {1.0f, 2.0f};
  int32_t idx[1];
  REQUIRE(resnetrs_topk(logits, 0, 2, 1, idx, nullptr) == RESNETRS_STATUS_INVALID_ARGUMENT);
  std::string other_thread_error;
  std::thread th([&] {
    const resnetrs_status_t s = resnetrs_topk(nullptr, 1, 1, 1, nullptr, nullptr);
    other_thread_error = std::string(resnetrs_status_string(s)) + " " + resnetrs_last_error();
  });
  th.join();
  CHECK_THAT(other_thread_error, Catch::Matchers::Contains("INVALID_ARGUMENT") && Catch::Matchers::Contains("logits must not be NULL"));
  // This thread still sees its own failure, untouched by the other thread's.
  CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("batch is 0"));
}

TEST_CASE("engines created from a file while another thread runs inference", "[api][threads]") {
  // Each create forks a child that parses the file (docs/weights-format.md, "How a file is read"):
  // runs in flight in another thread, OpenBLAS's thread pool included, must neither change nor stall.
  const TempDir dir("threads_fork");
  const std::string file = dir.file("weights.h5");
  resnetrs::save_weights(resnetrs::synthetic_weights(kDepth, kSeed), file);
  EnginePtr engine = make_synthetic(cpu_options(1));
  const std::vector<float> input = pixels(image_floats(), 7);
  const std::vector<float> expected = run_once(engine.get(), input);
  std::atomic<bool> done{false};
  std::atomic<int> runs{0}, mismatches{0};
  std::thread runner([&] {
    while (!done) {
      if (std::memcmp(run_once(engine.get(), input).data(), expected.data(), 1000 * sizeof(float)) != 0) ++mismatches;
      ++runs;
    }
  });
  const resnetrs_options_t o = cpu_options(1);
  std::vector<resnetrs_status_t> created;
  for (int i = 0; i < 3; ++i) {
    resnetrs_engine_t* e = nullptr;
    created.push_back(resnetrs_engine_create_from_file(file.c_str(), &o, &e));
    resnetrs_engine_destroy(e);
  }
  done = true;
  runner.join();
  for (resnetrs_status_t s : created) CHECK(s == RESNETRS_STATUS_OK);
  CHECK(runs > 0);
  CHECK(mismatches == 0);
}
