// The whole TF1-release ResNet-RS forward in float64 (tests only): every tensor kept in double,
// NCHW, from the folded fp32 weights, so the GPU's precisions can be measured against a reference
// whose own error is far below fp32's. Naive loops: use small inputs (64x64, one or two images).
#pragma once

#include <vector>

#include "model/fold.h"
#include "model/network.h"

namespace resnetrs::test {

// pixels: n x 3 x H x W floats in NCHW, 0..255. Returns n x classes logits in double.
std::vector<double> reference_logits_f64(const NetworkDesc& net, const FoldedWeights& w, const std::vector<float>& pixels,
                                         int n);

}  // namespace resnetrs::test
