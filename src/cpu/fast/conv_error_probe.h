// How far a candidate convolution's float32 output lies from the exact one: the fast CPU engine's
// accuracy rule for Winograd (docs/cpu-winograd.md) builds one probe per layer, runs the direct
// convolution and the candidate on input_nhwc(), and compares their error().
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/cpu_ops.h"
#include "cpu/fast/isa/isa_kernels.h"
#include "model/network.h"

namespace resnetrs::cpu::fast {

// The geometry of a probe is the CPU ops' ConvParams (cpu_ops.h: n images, symmetric output size,
// pad_top / pad_left zeros before the first row / column, positions past the input read as zeros).
// probe_geometry: a network layer on `batch` images of h x w (e.g. a crop of the layer's input).
ConvParams probe_geometry(const ConvShape& s, int batch, int h, int w);

class ConvErrorProbe {
 public:
  // Draws the input (uniform in [-1, 2), like activations after relu or swish plus some negative
  // values, from a fixed generator seeded with `seed`) and computes the float64 convolution of it
  // with weight OIHW [cout][cin][kernel][kernel], bias [cout] (or nullptr) and act, all in double.
  // Cost: n * h_out * w_out * cout * cin * kernel^2 double multiply-adds, so crop h, w at
  // engine build (12 x 12 x 256 -> 256, 0.08 G, took about 30 ms and 8 x 8 x 512 -> 512 about
  // 100 ms on the 2-core development machine). Throws Error(kInvalidArgument) for a bad geometry.
  ConvErrorProbe(const ConvParams& g, const float* weight, const float* bias, IsaAct act, uint64_t seed);

  const ConvParams& geometry() const { return g_; }
  // The input, NHWC [batch][h][w][cin].
  const float* input_nhwc() const { return input_.data(); }
  // The float64 result, NHWC [batch][h_out][w_out][cout].
  const std::vector<double>& reference_nhwc() const { return ref_; }
  size_t output_count() const { return ref_.size(); }

  // The error of a candidate output (NHWC [batch][h_out][w_out][cout]): max |got - ref| over all
  // outputs divided by max |ref| (max |got - ref| when every ref is 0). +infinity when got holds a
  // NaN or an infinity. A relative error of the layer's scale, so one number compares algorithms.
  double error(const float* got_nhwc) const;

 private:
  ConvParams g_;
  std::vector<float> input_;
  std::vector<double> ref_;
  double ref_scale_ = 0;  // max |ref|
};

}  // namespace resnetrs::cpu::fast
