// Decoding of encoded images into 8-bit RGB (internal to src/image/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace resnetrs::image {

// 8-bit RGB, row-major, interleaved: pixels[(y * width + x) * 3 + c].
struct Rgb8 {
  int height = 0, width = 0;
  std::vector<uint8_t> pixels;
  uint8_t at(int y, int x, int c) const { return pixels[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)]; }
};

// A rectangle of the full image: rows [y, y + height), columns [x, x + width).
struct CropWindow {
  int y = 0, x = 0, height = 0, width = 0;
};

// The inverse DCT of the JPEG decoder: TensorFlow's decode_jpeg default is the integer-fast one,
// PIL (timm) uses libjpeg's default, the accurate integer one.
enum class JpegDct { kIntegerFast, kIntegerAccurate };

struct DecodeRequest {
  int64_t max_pixels = 0;  // refuse images whose width * height is larger, before decoding
  JpegDct dct = JpegDct::kIntegerFast;
  // Given the full image's height and width, the window to return (may throw Error). JPEGs
  // decode only that window, as tf.io.decode_and_crop_jpeg does; PNGs are cropped after decoding.
  std::function<CropWindow(int height, int width)> window;
};

enum class Format { kJpeg, kPng, kUnknown };
Format sniff_format(const uint8_t* data, size_t size);

// Each throws Error(kImageInvalid) with `name` in the message.
Rgb8 decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const DecodeRequest& request);
Rgb8 decode_png(const uint8_t* data, size_t size, const std::string& name, const DecodeRequest& request);
Rgb8 decode_image(const uint8_t* data, size_t size, const std::string& name, const DecodeRequest& request);

// Refuses zero sizes and images of more than max_pixels pixels (Error(kImageInvalid)).
void check_dimensions(int64_t height, int64_t width, int64_t max_pixels, const std::string& name, const char* format);

// Checks a window against the image and returns it (Error(kInternal) when it lies outside).
CropWindow checked_window(const CropWindow& w, int height, int width);

}  // namespace resnetrs::image
