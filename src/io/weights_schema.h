// The dataset list of a `resnetrs-weights` v1 file for one depth: every path with its shape,
// bound to the vector of RawWeights that holds it. The reader, the writer, the validator and
// the synthetic generator all walk this one list.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/weights.h"

namespace resnetrs {

enum class TensorRole { kConvKernel, kBnGamma, kBnBeta, kBnMean, kBnVariance, kSeKernel, kSeBias, kDenseKernel, kDenseBias };

// One dataset of the file bound to the vector that holds it; Vector is std::vector<float> for
// filling (reader, generator) and const std::vector<float> for inspecting (validator, writer).
template <typename Vector>
struct BasicTensorSlot {
  std::string path;              // absolute HDF5 path, e.g. "/stage1/block0/conv1/kernel"
  std::vector<int64_t> shape;    // expected shape
  TensorRole role;
  Vector* data;                  // where the values live in RawWeights
  int64_t fan_in = 0;            // for kernels: inputs per output (He init)

  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};
using TensorSlot = BasicTensorSlot<std::vector<float>>;
using ConstTensorSlot = BasicTensorSlot<const std::vector<float>>;

// `weights.config` must be set; the block list is sized (and has_shortcut set) from it.
std::vector<TensorSlot> weight_slots(RawWeights& weights);

// The same list over weights that are only read. Throws Error(kWeightsInvalid) naming `origin`
// when the block list does not have the depth's length.
std::vector<ConstTensorSlot> weight_slots(const RawWeights& weights, const std::string& origin);

std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace resnetrs
