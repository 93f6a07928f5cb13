// Everything a weights file's HDF5 structure says, without the tensors' values: the root
// attributes and, per dataset of the schema, where its float32 bytes lie in the file. Produced by
// the HDF5 side (weights_reader.cpp's read_manifest, in a child process: docs/weights-format.md,
// "How a file is read"), passed back as bytes, and turned into RawWeights by reading the data with
// the project's own bounds-checked reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/weights.h"

namespace resnetrs {

struct StoredTensor {
  std::string path;
  bool in_file = true;        // contiguous storage: `bytes` bytes at `offset` of the file
  uint64_t offset = 0;
  uint64_t bytes = 0;
  std::vector<float> values;  // compact storage (data kept in the object header): the values
};

struct WeightsManifest {
  WeightsAttributes attrs;
  ModelVariant variant;
  std::vector<StoredTensor> tensors;        // in weight_slots() order
  std::vector<std::string> other_datasets;  // datasets the format does not define
};

std::string encode_manifest(const WeightsManifest& manifest);
// Throws Error(kInternal) when `bytes` is not an encode_manifest() result.
WeightsManifest decode_manifest(const std::string& bytes);

}  // namespace resnetrs
