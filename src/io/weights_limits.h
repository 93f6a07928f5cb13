// Ranges a weights file's values must lie in (docs/weights-format.md, "What the reader refuses").
// Finite is not enough: a 3e38 kernel, an input_std of 1e-45 or a bn_epsilon of 1e-300 with a
// zero variance are finite yet give infinite or NaN activations. The bounds are far outside what
// any trained ResNet-RS holds (its values are O(1); folded BN scales stay below ~1e3), so they
// refuse damage and nonsense, never a real checkpoint.
#pragma once

namespace resnetrs::limits {

constexpr double kMaxAbsValue = 1e6;        // every stored tensor value
constexpr double kMaxAbsFolded = 1e6;       // every weight and bias after BN folding
constexpr double kMinBnEpsilon = 1e-12;     // TF uses 1.001e-5, timm 1e-5, Keras 1e-3
constexpr double kMaxBnEpsilon = 1.0;
constexpr double kMaxAbsInputMean = 1e4;    // pixels are on the 0..255 scale
constexpr double kMinInputStd = 1e-3;
constexpr double kMaxInputStd = 1e4;
constexpr int kMaxNumClasses = 1 << 18;     // keeps num_classes x 2048 within int32 (ImageNet-21k has 21843)
constexpr int kMaxTrainResolution = 1 << 16;

}  // namespace resnetrs::limits
