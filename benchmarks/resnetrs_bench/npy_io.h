// .npy reading and writing for `resnetrs-bench infer`: little-endian float32, C order, format
// versions 1.0 to 3.0 on reading, 1.0 on writing. Errors throw NpyError naming the file.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

struct NpyError : std::runtime_error {
  NpyError(const std::string& status_name, const std::string& message) : std::runtime_error(message), status(status_name) {}
  std::string status;  // "IO_ERROR" or "INVALID_ARGUMENT", as the library would say
};

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

NpyArray read_npy(const std::string& path);
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data);

}  // namespace bench
