// The fast CPU engine (src/cpu/fast/) against the reference CPU engine (im2col + OpenBLAS, itself
// tested against src/ref's float64 operators): every depth, both input layouts, odd resolutions,
// the Model Garden variant, the Winograd modes, thread counts 1-3 bit-identical, batch splitting,
// and the generic instruction-set path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "cpu/fast/cpu_isa.h"
#include "cpu/fast/fast_cpu_engine.h"
#include "engine/engine.h"
#include "io/weights_file.h"
#include "support/compare.h"
#include "weights_test_files.h"

using namespace resnetrs;
using cpu::fast::fast_engine_facts;
using cpu::fast::make_fast_engine;
using namespace resnetrs::weightstest;

namespace {

EngineOptions cpu_options(int res, int batch, Layout layout = Layout::kNCHW) {
  EngineOptions o;
  o.backend = Backend::kCpu;
  o.height = o.width = res;
  o.max_batch = batch;
  o.input_layout = layout;
  o.cpu_threads = 2;
  return o;
}

std::vector<float> pixels(int n, int res, uint64_t seed) { return test::random_floats(size_t(n) * 3 * res * res, seed, 0.0f, 255.0f); }

std::vector<float> run(Engine& e, const std::vector<float>& x, int batch) {
  std::vector<float> y(size_t(batch) * e.network().num_classes, NAN);
  e.run_host(x.data(), batch, y.data());
  return y;
}

int argmax(const float* v, int n) { return int(std::max_element(v, v + n) - v); }

// rel L2 within `tol` of the reference engine and the same top-1 for every image.
void check_against_reference(const FoldedWeights& w, const EngineOptions& o, int batch, double tol, uint64_t seed) {
  auto fast = make_fast_engine(w, o);
  auto ref = make_cpu_reference_engine(w, o);
  const auto x = pixels(batch, o.height, seed);
  const auto got = run(*fast, x, batch), want = run(*ref, x, batch);
  const auto cmp = test::compare(got, std::vector<double>(want.begin(), want.end()), 1e30, 1e30);
  INFO("rel L2 " << cmp.rel_l2 << ", max abs " << cmp.max_abs);
  CHECK(cmp.rel_l2 <= tol);
  const int k = fast->network().num_classes;
  for (int n = 0; n < batch; ++n) CHECK(argmax(got.data() + n * k, k) == argmax(want.data() + n * k, k));
}

std::vector<std::string> plan_of(const Engine& e) {
  std::vector<std::string> names;
  for (const auto& l : fast_engine_facts(e).plan) names.push_back(l.algorithm);
  return names;
}

}  // namespace

// Tolerance: both engines compute in float32 with different summation orders (and, where chosen,
// Winograd with at most 2x the direct path's error); logits of these synthetic networks agree to
// ~1e-6 relative L2, and 1e-4 leaves room without hiding a wrong layer (a wrong layer gives > 1e-1).
TEST_CASE("fast CPU engine: every depth at 64x64 matches the reference engine", "[engine][cpu][fast]") {
  for (int depth : supported_depths()) {
    INFO("depth " << depth);
    check_against_reference(fold_weights(synthetic_weights(depth, 11)), cpu_options(64, 2), 2, 1e-4, depth);
  }
}

TEST_CASE("fast CPU engine: RS-50 at odd and non-square sizes, both layouts, batch 3", "[engine][cpu][fast]") {
  const FoldedWeights w = fold_weights(synthetic_weights(50, 3));
  for (int res : {75, 97}) {
    for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
      INFO("res " << res << " layout " << layout_name(layout));
      check_against_reference(w, cpu_options(res, 3, layout), 3, 1e-4, res);
    }
  }
  EngineOptions o = cpu_options(64, 1);
  o.height = 96;
  o.width = 67;
  auto fast = make_fast_engine(w, o);
  auto ref = make_cpu_reference_engine(w, o);
  const auto x = test::random_floats(size_t(3) * 96 * 67, 9, 0.0f, 255.0f);
  const auto got = run(*fast, x, 1), want = run(*ref, x, 1);
  CHECK(test::compare(got, std::vector<double>(want.begin(), want.end()), 1e30, 1e30).rel_l2 <= 1e-4);
}

TEST_CASE("fast CPU engine: the Model Garden variant matches the reference engine", "[engine][cpu][fast][garden]") {
  RawWeights raw = synthetic_weights(50, 11, 1001);
  raw.config.variant = model_garden_variant();
  const FoldedWeights w = fold_weights(raw);
  for (int res : {64, 75}) {
    INFO("res " << res);
    check_against_reference(w, cpu_options(res, 2), 2, 1e-4, res);
  }
}

TEST_CASE("fast CPU engine: thread counts 1, 2 and 3 give bit-identical logits", "[engine][cpu][fast][threads]") {
  const FoldedWeights w = fold_weights(synthetic_weights(50, 5));
  EngineOptions o = cpu_options(96, 4);
  o.cpu_threads = 1;
  auto one = make_fast_engine(w, o);
  CHECK(fast_engine_facts(*one).threads == 1);
  const std::vector<std::string> plan = plan_of(*one);  // the same algorithms everywhere
  const auto x = pixels(4, 96, 1);
  for (int batch : {1, 4}) {
    const auto y1 = run(*one, x, batch);
    for (int t : {2, 3}) {
      INFO("threads " << t << " batch " << batch);
      o.cpu_threads = t;
      auto e = make_fast_engine(w, o, plan);
      CHECK(fast_engine_facts(*e).threads == t);
      CHECK(plan_of(*e) == plan);
      const auto yt = run(*e, x, batch);
      CHECK(std::memcmp(y1.data(), yt.data(), y1.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("fast CPU engine: a batch equals its images run one by one", "[engine][cpu][fast]") {
  const FoldedWeights w = fold_weights(synthetic_weights(50, 5));
  auto e = make_fast_engine(w, cpu_options(64, 7));  // 7 = 4 + 2 + 1: every oneDNN batch piece
  const auto x = pixels(7, 64, 3);
  const auto all = run(*e, x, 7);
  const size_t image = size_t(3) * 64 * 64;
  for (int n = 0; n < 7; ++n) {
    const std::vector<float> one(x.begin() + n * image, x.begin() + (n + 1) * image);
    const auto y = run(*e, one, 1);
    const std::vector<float> part(all.begin() + n * 1000, all.begin() + (n + 1) * 1000);
    CHECK(test::compare(part, std::vector<double>(y.begin(), y.end()), 1e30, 1e30).rel_l2 <= 1e-5);
  }
}

TEST_CASE("fast CPU engine: Winograd off, auto and fast", "[engine][cpu][fast][winograd]") {
  const FoldedWeights w = fold_weights(synthetic_weights(50, 5));
  EngineOptions o = cpu_options(96, 2);
  o.cpu_winograd = CpuWinograd::kOff;
  auto off = make_fast_engine(w, o);
  for (const auto& l : fast_engine_facts(*off).plan) {
    INFO(l.layer);
    CHECK(l.algorithm.find("winograd") == std::string::npos);
  }
  o.cpu_winograd = CpuWinograd::kAuto;
  auto autow = make_fast_engine(w, o);
  bool probed = false;
  for (const auto& l : fast_engine_facts(*autow).plan) {
    for (const auto& c : l.candidates) {
      if (c.name.find("winograd") == std::string::npos || c.error < 0) continue;
      probed = true;
      INFO(l.layer << " " << c.name << " error " << c.error << " direct " << c.direct_error);
      CHECK(c.error > 0);
      CHECK(c.direct_error > 0);
      CHECK(c.eligible == (c.error <= 2 * c.direct_error));
      if (c.name == l.algorithm) CHECK(c.error <= 2 * c.direct_error);
    }
  }
  CHECK(probed);  // RS-50 has 3x3 stride-1 layers: their Winograd candidates were measured
  o.cpu_winograd = CpuWinograd::kFast;
  auto fastw = make_fast_engine(w, o);
  for (const auto& l : fast_engine_facts(*fastw).plan) {
    for (const auto& c : l.candidates) CHECK(c.eligible);
  }
  // Whatever was chosen, the network still matches the reference at F(4x4)'s accuracy.
  auto ref = make_cpu_reference_engine(w, o);
  const auto x = pixels(2, 96, 4);
  const auto got = run(*fastw, x, 2), want = run(*ref, x, 2);
  CHECK(test::compare(got, std::vector<double>(want.begin(), want.end()), 1e30, 1e30).rel_l2 <= 1e-3);
}

TEST_CASE("fast CPU engine: bad options are refused with a message naming them", "[engine][cpu][fast]") {
  const FoldedWeights w = fold_weights(synthetic_weights(50, 5));
  EngineOptions o = cpu_options(64, 1);
  o.cpu_threads = -1;
  CHECK_THROWS_WITH(make_fast_engine(w, o), Catch::Contains("cpu_threads"));
  o.cpu_threads = 1;
  CHECK_THROWS_WITH(make_fast_engine(w, o, {"no such algorithm"}), Catch::Contains("forced algorithms"));
  auto e = make_fast_engine(w, o);
  std::vector<std::string> plan = plan_of(*e);
  plan[0] = "gemm 1x1";  // the stem's first layer is a 3x3 stride-2 convolution
  CHECK_THROWS_WITH(make_fast_engine(w, o, plan), Catch::Contains("not a candidate"));
  std::vector<float> y(1000);
  const auto x = pixels(1, 64, 1);
  CHECK_THROWS_WITH(e->run_host(x.data(), 2, y.data()), Catch::Contains("batch 2"));
  CHECK_THROWS_WITH(e->run_device(x.data(), 1, y.data(), nullptr), Catch::Contains("CUDA"));
}

// Forcing the portable path: in-process our kernels switch; oneDNN's limit is per process, so the
// ctest entry "unit: fast CPU engine, generic instruction set" runs this case alone with
// RESNETRS_CPU_ISA=generic, where oneDNN must run SSE4.1 code too.
TEST_CASE("fast CPU engine: the generic instruction-set path matches the reference", "[engine][cpu][fast][generic]") {
  const FoldedWeights w = fold_weights(synthetic_weights(50, 5));
  EngineOptions o = cpu_options(64, 2);
  o.cpu_isa = CpuIsa::kGeneric;
  auto e = make_fast_engine(w, o);
  CHECK(fast_engine_facts(*e).isa == "generic");
  const char* env = std::getenv("RESNETRS_CPU_ISA");
  if (env && std::string(env) == "generic") CHECK(fast_engine_facts(*e).onednn_isa == "sse41");
  check_against_reference(w, o, 2, 1e-4, 12);
}

TEST_CASE("fast CPU engine: the tuning cache file decides and is written", "[engine][cpu][fast][cache]") {
  const fs::path path = temp_dir() / "cpu-tuning.cache";
  fs::remove(path);
  const FoldedWeights w = fold_weights(synthetic_weights(50, 77));  // weights no other test times
  EngineOptions o = cpu_options(64, 2);
  o.tuning_cache_path = path.string();
  auto first = make_fast_engine(w, o);
  const auto& plan = fast_engine_facts(*first).plan;
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) {
    if (line.rfind("cpu1|", 0) == 0) lines.push_back(line);
  }
  CHECK(!lines.empty());
  CHECK(lines.size() <= plan.size());  // one per distinct layer

  // Rewrite every choice of a 1x1 stride-1 layer to the other candidate: the next engine follows the file.
  std::string text;
  {
    std::ifstream again(path);
    std::stringstream all;
    all << again.rdbuf();
    text = all.str();
  }
  std::string direct_1x1;
  for (const auto& l : plan) {
    if (l.layer == "stage1/block0/conv1") {
      for (const auto& c : l.candidates) {
        if (c.name.rfind("onednn direct", 0) == 0) direct_1x1 = c.name;
      }
    }
  }
  REQUIRE(!direct_1x1.empty());
  std::string flipped;
  std::istringstream lines_in(text);
  while (std::getline(lines_in, line)) {
    const size_t tab = line.find('\t');
    if (tab != std::string::npos && line.find(" k1 s1 ") != std::string::npos) {
      const std::string value = line.substr(tab + 1);
      line = line.substr(0, tab + 1) + (value == "gemm 1x1" ? direct_1x1 : std::string("gemm 1x1"));
    }
    flipped += line + "\n";
  }
  { std::ofstream(path) << flipped << "cpu1|" << "stale entry\tno such algorithm\n"; }
  auto second = make_fast_engine(w, o);
  const auto& plan2 = fast_engine_facts(*second).plan;
  REQUIRE(plan2.size() == plan.size());
  int flipped_layers = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    bool is_1x1 = false;  // the 1x1 stride-1 layers are those with a GEMM candidate
    for (const auto& c : plan[i].candidates) is_1x1 = is_1x1 || c.name == "gemm 1x1";
    INFO(plan[i].layer << ": " << plan[i].algorithm << " -> " << plan2[i].algorithm);
    if (is_1x1) {
      CHECK(plan2[i].algorithm != plan[i].algorithm);
      ++flipped_layers;
    } else {
      CHECK(plan2[i].algorithm == plan[i].algorithm);
    }
  }
  CHECK(flipped_layers > 30);  // RS-50: conv1 and conv3 of 16 blocks, 4 projections
  // Still the same network.
  auto ref = make_cpu_reference_engine(w, o);
  const auto x = pixels(2, 64, 5);
  const auto got = run(*second, x, 2), want = run(*ref, x, 2);
  CHECK(test::compare(got, std::vector<double>(want.begin(), want.end()), 1e30, 1e30).rel_l2 <= 1e-4);
}
