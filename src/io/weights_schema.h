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

struct TensorSlot {
  std::string path;              // absolute HDF5 path, e.g. "/stage1/block0/conv1/kernel"
  std::vector<int64_t> shape;    // expected shape
  TensorRole role;
  std::vector<float>* data;      // where the values live in RawWeights
  int64_t fan_in = 0;            // for kernels: inputs per output (He init)

  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// Resizes nothing: `weights.config` must be set; block vectors are created as needed.
std::vector<TensorSlot> weight_slots(RawWeights& weights);

std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace resnetrs
