// Everything a weights file's HDF5 structure says, without the tensors' values: the root
// attributes and, per dataset of the schema, where its float32 bytes lie in the file. Produced by
// the HDF5 side (read_manifest, in the helper program resnetrs-parse-weights:
// docs/weights-format.md, "How a file is read"), passed back as bytes, and turned into RawWeights by reading the data with
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

// The HDF5 side of loading (io/weights_reader.cpp): opens `path` with libhdf5, checks the root
// attributes and locates every dataset of the schema. Run in the helper program
// resnetrs-parse-weights (or, as a fallback and in tests, in the loading process under
// hdf5_lock()). Throws Error like load_weights().
WeightsManifest read_manifest(const std::string& path);

std::string encode_manifest(const WeightsManifest& manifest);
// Throws Error(kInternal) when `bytes` is not an encode_manifest() result.
WeightsManifest decode_manifest(const std::string& bytes);

}  // namespace resnetrs
