// BN folding: conv with folded weight and bias equals conv followed by inference BN.
#include <catch2/catch.hpp>

#include "model/fold.h"
#include "ref/ref_ops.h"
#include "support/compare.h"

using namespace resnetrs;

TEST_CASE("a folded conv equals conv followed by BN", "[fold]") {
  const int n = 2, cin = 5, h = 9, w = 7, cout = 6, k = 3;
  ConvBnParams p;
  p.kernel = test::random_floats(size_t(cout) * cin * k * k, 1);
  p.bn.gamma = test::random_floats(cout, 2, 0.2f, 1.5f);
  p.bn.beta = test::random_floats(cout, 3);
  p.bn.moving_mean = test::random_floats(cout, 4);
  p.bn.moving_variance = test::random_floats(cout, 5, 0.01f, 2.0f);
  const double eps = 1.001e-5;
  const auto x = test::random_floats(size_t(n) * cin * h * w, 6);

  const FoldedConv f = fold_conv_bn(p, cout, cin, k, eps);
  const auto folded = ref::conv2d(x, n, cin, h, w, f.weight, f.bias, cout, k, 2, 1, false);
  const auto conv = ref::conv2d(x, n, cin, h, w, p.kernel, {}, cout, k, 2, 1, false);
  const int hw = ((h + 1) / 2) * ((w + 1) / 2);
  const auto bn = ref::batch_norm(conv, n, cout, hw, p.bn.gamma, p.bn.beta, p.bn.moving_mean, p.bn.moving_variance, eps);
  const auto r = test::compare(folded, bn, 1e-5, 1e-6);
  INFO(r.report);
  CHECK(r.ok);
}

TEST_CASE("folding uses the file's epsilon", "[fold]") {
  ConvBnParams p;
  p.kernel = {2.0f};
  p.bn = {{1.0f}, {0.0f}, {0.0f}, {0.0f}};  // variance 0: the scale is 1/sqrt(eps)
  CHECK(fold_conv_bn(p, 1, 1, 1, 1e-2).weight[0] == Approx(20.0));
  CHECK(fold_conv_bn(p, 1, 1, 1, 1e-4).weight[0] == Approx(200.0));
}
