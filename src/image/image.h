// Images in: decode a JPEG or PNG and turn it into the engine's input, float32 RGB pixels on the
// 0..255 scale, S x S, with the release's evaluation transform (TF1) or timm's (PIL).
// The contract, the TensorFlow defaults it follows and the pixel limit: docs/preprocessing.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace resnetrs::image {

enum class Preprocess {
  kRelease,  // TF1 eval: decode as tf.io.decode_jpeg, centre crop S/(S+32), legacy bicubic resize
  kTimm,     // timm eval: decode as PIL, shortest side to floor(S/crop_pct) (PIL bicubic), centre crop
};

constexpr int64_t kDefaultMaxPixels = 100000000;  // 100 megapixels (RESNETRS_IMAGE_DEFAULT_MAX_PIXELS)
constexpr int kMinSize = 32, kMaxSize = 4096;      // the engine's resolution range

struct ImageOptions {
  Preprocess preprocess = Preprocess::kRelease;
  int size = 224;                   // output S x S
  double crop_pct = 0.875;          // kTimm only; timm's DEFAULT_CROP_PCT
  Layout layout = Layout::kNCHW;    // of the output
  int64_t max_pixels = kDefaultMaxPixels;  // images with more pixels are refused before decoding
};

// Throws Error(kInvalidArgument) naming the bad field.
void validate_image_options(const ImageOptions& options);

// Decodes the JPEG or PNG held in data[0, size) and preprocesses it: 3 * S * S floats in
// options.layout. `name` names the image in messages ("image file 'x.jpg'"). Throws
// Error(kImageInvalid) for bad images, Error(kInvalidArgument) for bad options.
std::vector<float> load_image(const uint8_t* data, size_t size, const std::string& name, const ImageOptions& options);

// Reads the file at `path` and calls load_image. Throws Error(kIoError) when it cannot be read.
std::vector<float> load_image_file(const std::string& path, const ImageOptions& options);

}  // namespace resnetrs::image
