// Format detection and the checks shared by the decoders.
#include <cstdio>
#include <cstring>
#include <string>

#include "common/error.h"
#include "image/decode.h"

namespace resnetrs::image {
namespace {

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n) {
  return size >= n && std::memcmp(data, magic, n) == 0;
}

// Names a few formats we do not decode, so the message says what the file is.
const char* other_format(const uint8_t* data, size_t size) {
  if (starts_with(data, size, "GIF8", 4)) return "a GIF image";
  if (starts_with(data, size, "BM", 2)) return "a BMP image";
  if (size >= 12 && starts_with(data, size, "RIFF", 4) && std::memcmp(data + 8, "WEBP", 4) == 0) return "a WebP image";
  if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4)) return "a TIFF image";
  return nullptr;
}

}  // namespace

Format sniff_format(const uint8_t* data, size_t size) {
  if (starts_with(data, size, "\xFF\xD8\xFF", 3)) return Format::kJpeg;
  if (starts_with(data, size, "\x89PNG\r\n\x1A\n", 8)) return Format::kPng;
  return Format::kUnknown;
}

void check_dimensions(int64_t height, int64_t width, int64_t max_pixels, const std::string& name, const char* format) {
  if (height <= 0 || width <= 0)
    throw_error(Status::kImageInvalid, name + ": " + format + " image has zero size (" + std::to_string(width) + " x " +
                                           std::to_string(height) + " pixels)");
  if (height * width > max_pixels)
    throw_error(Status::kImageInvalid,
                name + ": " + format + " image is " + std::to_string(width) + " x " + std::to_string(height) + " = " +
                    std::to_string(height * width) + " pixels, more than the limit of " + std::to_string(max_pixels) +
                    " (image options max_pixels; a guard against decompression bombs)");
}

CropWindow checked_window(const CropWindow& w, int height, int width) {
  if (w.height < 1 || w.width < 1 || w.y < 0 || w.x < 0 || w.y + w.height > height || w.x + w.width > width)
    throw_error(Status::kInternal, "crop window y=" + std::to_string(w.y) + " x=" + std::to_string(w.x) + " " +
                                       std::to_string(w.width) + "x" + std::to_string(w.height) + " outside the " +
                                       std::to_string(width) + "x" + std::to_string(height) + " image");
  return w;
}

Rgb8 decode_image(const uint8_t* data, size_t size, const std::string& name, const DecodeRequest& request) {
  if (size == 0) throw_error(Status::kImageInvalid, name + ": empty (0 bytes), not an image");
  switch (sniff_format(data, size)) {
    case Format::kJpeg: return decode_jpeg(data, size, name, request);
    case Format::kPng: return decode_png(data, size, name, request);
    case Format::kUnknown: break;
  }
  if (const char* what = other_format(data, size))
    throw_error(Status::kImageInvalid, name + ": " + what + "; only JPEG and PNG are supported");
  std::string head;
  for (size_t i = 0; i < size && i < 8; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%02x", unsigned(data[i]));
    head += (i ? " " : "") + std::string(hex);
  }
  throw_error(Status::kImageInvalid, name + ": not a JPEG or PNG image (it starts with the bytes " + head + ")");
}

}  // namespace resnetrs::image
