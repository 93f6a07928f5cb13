// Minimal .npy (NumPy format 1.0/2.0/3.0) reading and writing for float32 C-order arrays: the
// input and output format of `resnetrs-bench infer`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace resnetrs {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Throws Error(kIoError) if unreadable, Error(kInvalidArgument) if not a little-endian float32
// C-order array, naming the file and what was found.
NpyArray load_npy(const std::string& path);
void save_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data);

}  // namespace resnetrs
