// Each float32 CPU operator against its naive double-precision reference on seeded random data
// of awkward sizes. Tolerance: |got - ref| <= 1e-5 + 1e-4 |ref| (float32 accumulation over up to
// a few thousand terms; BLAS may reorder sums).
#include <catch2/catch.hpp>

#include "cpu/cpu_ops.h"
#include "ref/ref_ops.h"
#include "support/compare.h"

using namespace resnetrs;
using test::compare;
using test::random_floats;

namespace {
constexpr double kRtol = 1e-4, kAtol = 1e-5;

void check_conv(int n, int cin, int h, int w, int cout, int k, int stride, bool relu, uint64_t seed) {
  const Activation act = relu ? Activation::kRelu : Activation::kNone;
  cpu::ConvParams p;
  p.n = n;
  p.cin = cin;
  p.h = h;
  p.w = w;
  p.cout = cout;
  p.kernel = k;
  p.stride = stride;
  p.pad = k / 2;
  const auto x = random_floats(size_t(n) * cin * h * w, seed);
  const auto wt = random_floats(size_t(cout) * cin * k * k, seed + 1, -0.5f, 0.5f);
  const auto b = random_floats(cout, seed + 2);
  std::vector<float> out(size_t(n) * cout * p.h_out() * p.w_out(), -7.0f);
  std::vector<float> ws(std::max<size_t>(p.workspace_floats(), 1));
  cpu::conv2d(p, x.data(), wt.data(), b.data(), act, out.data(), ws.data());
  const auto ref = ref::conv2d(x, n, cin, h, w, wt, b, cout, k, stride, k / 2, relu);
  const auto r = compare(out, ref, kRtol, kAtol);
  INFO("conv n=" << n << " cin=" << cin << " " << h << "x" << w << " cout=" << cout << " k=" << k << " s=" << stride << "\n"
                 << r.report);
  CHECK(r.ok);
}
}  // namespace

TEST_CASE("conv2d matches the reference (3x3 s1/s2, 1x1, odd sizes, stem)", "[cpu][ops]") {
  check_conv(1, 3, 33, 35, 32, 3, 2, true, 1);   // stem conv 1 on an odd input
  check_conv(2, 32, 17, 17, 32, 3, 1, true, 2);  // stride 1, 3x3
  check_conv(3, 20, 15, 9, 13, 3, 2, true, 3);   // stride 2 on odd sizes, odd channel counts
  check_conv(2, 37, 7, 5, 19, 1, 1, false, 4);   // 1x1 (no im2col), no ReLU
  check_conv(1, 64, 10, 10, 256, 1, 1, false, 5);
}

TEST_CASE("2x2/2 'same' average pool divides by valid cells on odd sizes", "[cpu][ops]") {
  for (auto [h, w] : {std::pair{8, 6}, {7, 5}, {1, 3}, {75, 75}}) {
    const auto x = random_floats(size_t(2) * 3 * h * w, 10 + h);
    std::vector<float> out(size_t(2) * 3 * ((h + 1) / 2) * ((w + 1) / 2), -7.0f);
    cpu::avg_pool_2x2_same(x.data(), 2, 3, h, w, out.data());
    const auto r = compare(out, ref::avg_pool_2x2_same(x, 2, 3, h, w), kRtol, kAtol);
    INFO(h << "x" << w << "\n" << r.report);
    CHECK(r.ok);
  }
  // Hand-checked corner: the last column of a 2x3 input averages only its 2 valid cells.
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  std::vector<float> out(2);
  cpu::avg_pool_2x2_same(x.data(), 1, 1, 2, 3, out.data());
  CHECK(out[0] == Approx((1 + 2 + 4 + 5) / 4.0));
  CHECK(out[1] == Approx((3 + 6) / 2.0));
}

TEST_CASE("global average pool, SE gate, tail, dense and normalization match the reference", "[cpu][ops]") {
  const int n = 3, c = 37, h = 7, w = 5, r = 9;
  const auto x = random_floats(size_t(n) * c * h * w, 21);
  std::vector<float> pooled(size_t(n) * c);
  cpu::global_avg_pool(x.data(), n, c, h, w, pooled.data());
  CHECK(compare(pooled, ref::global_avg_pool(x, n, c, h, w), kRtol, kAtol).ok);

  const auto w1 = random_floats(size_t(r) * c, 22), b1 = random_floats(r, 23);
  const auto w2 = random_floats(size_t(c) * r, 24), b2 = random_floats(c, 25);
  std::vector<float> hidden(size_t(n) * r), gate(size_t(n) * c);
  cpu::se_gate(pooled.data(), n, c, r, w1.data(), b1.data(), w2.data(), b2.data(), hidden.data(), gate.data());
  const auto rg = compare(gate, ref::se_gate(pooled, n, c, r, w1, b1, w2, b2), kRtol, kAtol);
  INFO(rg.report);
  CHECK(rg.ok);

  const auto sc = random_floats(x.size(), 26);
  std::vector<float> out(x.size());
  cpu::excite_residual(x.data(), gate.data(), sc.data(), n, c, h * w, Activation::kRelu, out.data());
  CHECK(compare(out, ref::excite_residual_relu(x, gate, sc, n, c, h * w), kRtol, kAtol).ok);
  cpu::excite_residual(x.data(), gate.data(), sc.data(), n, c, h * w, Activation::kSwish, out.data());
  const auto rs = compare(out, ref::excite_residual_swish(x, gate, sc, n, c, h * w), kRtol, kAtol);
  INFO("swish tail\n" << rs.report);
  CHECK(rs.ok);

  const auto dw = random_floats(size_t(11) * c, 27), db = random_floats(11, 28);
  std::vector<float> y(size_t(n) * 11);
  cpu::dense(pooled.data(), n, c, 11, dw.data(), db.data(), y.data());
  CHECK(compare(y, ref::dense(pooled, n, c, 11, dw, db), kRtol, kAtol).ok);

  const std::array<float, 3> mean = {123.675f, 116.28f, 103.53f}, stdv = {58.395f, 57.12f, 57.375f};
  const auto px = random_floats(size_t(2) * 3 * 9 * 7, 29, 0.0f, 255.0f);
  for (bool nhwc : {false, true}) {
    std::vector<float> norm(px.size());
    cpu::normalize_input(px.data(), nhwc, 2, 9, 7, mean, stdv, norm.data());
    CHECK(compare(norm, ref::normalize_input(px, nhwc, 2, 9, 7, mean, stdv), kRtol, kAtol).ok);
  }
}

// The Model Garden variant: Keras 'same' stride-2 convs (padding after on even sizes) with swish,
// against a reference written from TF's SAME definition (not from our ConvParams).
TEST_CASE("Keras 'same' stride-2 conv with swish matches TF's SAME rule on even and odd sizes", "[cpu][ops][garden]") {
  struct Case { int n, cin, h, w, cout, k, stride; };
  const Case cases[] = {{1, 3, 32, 33, 32, 3, 2}, {2, 16, 10, 7, 8, 3, 2}, {1, 8, 9, 12, 5, 3, 2}, {2, 11, 6, 6, 7, 3, 1},
                        {2, 9, 5, 4, 6, 1, 1}};
  uint64_t seed = 40;
  for (const Case& c : cases) {
    cpu::ConvParams p;
    p.n = c.n;
    p.cin = c.cin;
    p.h = c.h;
    p.w = c.w;
    p.cout = c.cout;
    p.kernel = c.k;
    p.stride = c.stride;
    p.pad = c.k / 2;
    if (c.stride == 2) {  // what describe_network sets for the 'same' rule: 0 before on even sizes
      p.pad_top = c.h % 2 == 0 ? 0 : 1;
      p.pad_left = c.w % 2 == 0 ? 0 : 1;
    }
    const auto x = random_floats(size_t(c.n) * c.cin * c.h * c.w, ++seed);
    const auto wt = random_floats(size_t(c.cout) * c.cin * c.k * c.k, ++seed, -0.5f, 0.5f);
    const auto b = random_floats(c.cout, ++seed);
    const auto ref = ref::conv2d_tf_same(x, c.n, c.cin, c.h, c.w, wt, b, c.cout, c.k, c.stride, 2);
    std::vector<float> out(size_t(c.n) * c.cout * p.h_out() * p.w_out(), -7.0f);
    REQUIRE(out.size() == ref.size());
    std::vector<float> ws(std::max<size_t>(p.workspace_floats(), 1));
    cpu::conv2d(p, x.data(), wt.data(), b.data(), Activation::kSwish, out.data(), ws.data());
    const auto r = compare(out, ref, kRtol, kAtol);
    INFO(c.h << "x" << c.w << " k=" << c.k << " s=" << c.stride << "\n" << r.report);
    CHECK(r.ok);
    if (c.stride == 2 && (c.h % 2 == 0 || c.w % 2 == 0)) {
      // On an even size the symmetric (TF1) padding gives a different result: the test can fail.
      p.pad_top = p.pad_left = -1;
      cpu::conv2d(p, x.data(), wt.data(), b.data(), Activation::kSwish, out.data(), ws.data());
      CHECK_FALSE(compare(out, ref, kRtol, kAtol).ok);
    }
  }
  // Hand-checked: swish(1) = 1 / (1 + e^-1), swish(-2) = -2 / (1 + e^2).
  CHECK(cpu::swish(1.0f) == Approx(0.7310585786));
  CHECK(cpu::swish(-2.0f) == Approx(-0.2384058440));
}

TEST_CASE("2x2 'same' average pool with stride 1 (the Model Garden's stage-1 shortcut)", "[cpu][ops][garden]") {
  for (auto [h, w] : {std::pair{8, 6}, {7, 5}, {1, 3}, {16, 16}}) {
    for (int stride : {1, 2}) {
      const auto x = random_floats(size_t(2) * 3 * h * w, 60 + h + stride);
      const auto ref = ref::avg_pool_2x2_tf_same(x, 2, 3, h, w, stride);
      std::vector<float> out(ref.size(), -7.0f);
      cpu::avg_pool_2x2_same(x.data(), 2, 3, h, w, stride, out.data());
      const auto r = compare(out, ref, kRtol, kAtol);
      INFO(h << "x" << w << " stride " << stride << "\n" << r.report);
      CHECK(r.ok);
    }
  }
  // Hand-checked 2x3, stride 1: the last row/column average only their valid cells.
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  std::vector<float> out(6);
  cpu::avg_pool_2x2_same(x.data(), 1, 1, 2, 3, 1, out.data());
  CHECK(out[0] == Approx((1 + 2 + 4 + 5) / 4.0));
  CHECK(out[2] == Approx((3 + 6) / 2.0));
  CHECK(out[3] == Approx((4 + 5) / 2.0));
  CHECK(out[5] == Approx(6.0));
}
