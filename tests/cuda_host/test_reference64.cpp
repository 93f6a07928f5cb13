// The GPU tests' float64 network (tests/gpu/reference64.h) checked on the host against the CPU
// engine (fp32): it is the yardstick for fp32x3 vs strict fp32 vs TF32 on the device, so it must
// be right before a GPU ever uses it.
#include <catch2/catch.hpp>

#include <cstdio>
#include <vector>

#include "engine/engine.h"
#include "gpu/reference64.h"
#include "io/weights_file.h"
#include "model/config.h"
#include "model/fold.h"
#include "support/compare.h"

using namespace resnetrs;
using namespace resnetrs::test;

TEST_CASE("the float64 reference network agrees with the CPU engine", "[cuda-host][reference64]") {
  const FoldedWeights w = fold_weights(synthetic_weights(50, 11));
  EngineOptions o;
  o.backend = Backend::kCpu;
  o.max_batch = 1;
  o.height = o.width = 64;
  auto cpu = make_cpu_reference_engine(w, o);
  const std::vector<float> pixels = random_floats(size_t(3) * 64 * 64, 5, 0.0f, 255.0f);
  std::vector<float> logits(size_t(cpu->network().num_classes));
  cpu->run_host(pixels.data(), 1, logits.data());
  const std::vector<double> ref = test::reference_logits_f64(cpu->network(), w, pixels, 1);
  const double l2 = relative_l2(logits, ref);
  std::printf("  float64 reference vs CPU fp32 engine, RS-50 @64: rel L2 %.3g\n", l2);
  CHECK(l2 < 1e-5);   // fp32 accumulation error only
  CHECK(l2 > 1e-12);  // and it is a different computation (double throughout)
  CHECK(argmax_rows(logits, 1, int(logits.size()))[0] == argmax_rows(std::vector<float>(ref.begin(), ref.end()), 1,
                                                                     int(ref.size()))[0]);
}
