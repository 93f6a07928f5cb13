// Reading and writing `resnetrs-weights` v1 HDF5 files, and generating synthetic weights.
#pragma once

#include <cstdint>
#include <string>

#include "io/weights.h"

namespace resnetrs {

// Where libhdf5 parses the file's structure (docs/weights-format.md, "How a file is read").
enum class MetadataParsing {
  kIsolated,   // in the helper program resnetrs-parse-weights: a crash, hang or runaway allocation
               // of libhdf5 on a hostile file becomes WEIGHTS_INVALID (falls back to kInProcess, with
               // a warning, where the helper is not found; IO_ERROR where it cannot be started)
  kInProcess,  // in this process (tests, and the fallback)
};

// Reads and fully validates a weights file. Throws Error(kIoError) when the file cannot be opened,
// Error(kWeightsInvalid) when it is not HDF5 and for every violation of the format, with a message
// naming the file, the dataset or attribute, what was expected and what was found. A dataset the
// format does not define is reported through warn(), not refused.
RawWeights load_weights(const std::string& path, MetadataParsing parsing = MetadataParsing::kIsolated);

// What a weights file says about itself: its root attributes and the network they describe.
struct WeightsInfo {
  WeightsAttributes attrs;
  ModelConfig config;  // depth, blocks, classes and the network variant
};

// Parses the file's structure as load_weights does (same helper, same checks and refusals of the
// attributes and of every dataset's type, shape and storage) without reading the datasets'
// values: the checksum, which needs every value, is verified by load_weights only.
WeightsInfo read_weights_info(const std::string& path, MetadataParsing parsing = MetadataParsing::kIsolated);

// Writes a weights file (used by tests and tools). Writes to a temporary file beside `path` and
// renames it, so a failure never leaves a partial file. Throws Error(kIoError) on failure.
void save_weights(const RawWeights& weights, const std::string& path);

// Deterministic synthetic weights of realistic scale for `depth`: He-normal kernels, BN
// statistics drawn around realistic values (variance > 0), SE and dense as trained nets have
// them. Each tensor's values depend only on (seed, tensor path), not on generation order.
RawWeights synthetic_weights(int depth, uint64_t seed, int num_classes = 1000);

// Checks shapes and values against the depth's description; the loader uses it, and the
// writer calls it before writing. Throws Error(kWeightsInvalid) naming `origin` and the tensor.
void validate_weights(const RawWeights& weights, const std::string& origin);
// The root attributes' value ranges alone (part of validate_weights; the loader checks them
// before it reads the datasets).
void validate_attributes(const WeightsAttributes& attrs, const std::string& origin);

}  // namespace resnetrs
