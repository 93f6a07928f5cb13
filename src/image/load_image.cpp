// load_image: decode, transform, lay out. load_image_file: read the file first.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "common/error.h"
#include "image/decode.h"
#include "image/image.h"
#include "image/preprocess.h"

namespace resnetrs::image {
namespace {

// The largest file worth reading for a limit of max_pixels: 8 bytes a pixel (16-bit RGBA PNG
// stored uncompressed) plus 64 MiB of metadata. Anything larger is refused before it is read.
int64_t max_file_bytes(int64_t max_pixels) {
  const int64_t cap = int64_t(1) << 40;
  return max_pixels > (cap >> 3) ? cap : max_pixels * 8 + (int64_t(64) << 20);
}

std::vector<float> to_layout(const float* hwc, int size, Layout layout) {
  const size_t plane = size_t(size) * size_t(size);
  std::vector<float> out(plane * 3);
  if (layout == Layout::kNHWC) {
    std::memcpy(out.data(), hwc, out.size() * sizeof(float));
  } else {
    for (size_t p = 0; p < plane; ++p)
      for (size_t c = 0; c < 3; ++c) out[c * plane + p] = hwc[p * 3 + c];
  }
  return out;
}

std::vector<float> release_transform(const uint8_t* data, size_t bytes, const std::string& name, const ImageOptions& o) {
  DecodeRequest request;
  request.max_pixels = o.max_pixels;
  request.dct = JpegDct::kIntegerFast;  // tf.io.decode_jpeg's default dct_method
  request.window = [&](int h, int w) { return release_crop_window(h, w, o.size, name); };
  const Rgb8 crop = decode_image(data, bytes, name, request);
  const std::vector<float> hwc = resize_bicubic_tf1(crop, o.size, o.size);
  return to_layout(hwc.data(), o.size, o.layout);
}

std::vector<float> timm_transform(const uint8_t* data, size_t bytes, const std::string& name, const ImageOptions& o) {
  DecodeRequest request;
  request.max_pixels = o.max_pixels;
  request.dct = JpegDct::kIntegerAccurate;  // PIL's JPEG decoder uses libjpeg's default (JDCT_ISLOW)
  request.window = [](int h, int w) { return CropWindow{0, 0, h, w}; };
  const Rgb8 image = decode_image(data, bytes, name, request);
  TimmGeometry g;
  try {
    g = timm_geometry(image.height, image.width, o.size, o.crop_pct);
  } catch (const Error& e) {
    throw_error(e.status(), name + ": " + e.what());
  }
  const std::vector<uint8_t> crop =
      resize_pil_bicubic_window(image, g.resized_h, g.resized_w, g.top, g.left, o.size, o.size);
  const std::vector<float> hwc(crop.begin(), crop.end());
  return to_layout(hwc.data(), o.size, o.layout);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

void validate_image_options(const ImageOptions& o) {
  RESNETRS_CHECK_ARG(o.preprocess == Preprocess::kRelease || o.preprocess == Preprocess::kTimm,
                     "image options preprocess must be RESNETRS_PREPROCESS_RELEASE (0) or RESNETRS_PREPROCESS_TIMM (1)");
  RESNETRS_CHECK_ARG(o.size >= kMinSize && o.size <= kMaxSize,
                     "image options size is " + std::to_string(o.size) + ", expected " + std::to_string(kMinSize) + ".." +
                         std::to_string(kMaxSize));
  RESNETRS_CHECK_ARG(std::isfinite(o.crop_pct) && o.crop_pct > 0.0 && o.crop_pct <= 1.0,
                     "image options crop_pct is " + std::to_string(o.crop_pct) + ", expected a value in (0, 1]");
  RESNETRS_CHECK_ARG(o.layout == Layout::kNCHW || o.layout == Layout::kNHWC, "image options layout must be NCHW or NHWC");
  RESNETRS_CHECK_ARG(o.max_pixels >= 1, "image options max_pixels is " + std::to_string(o.max_pixels) + ", expected >= 1");
}

std::vector<float> load_image(const uint8_t* data, size_t size, const std::string& name, const ImageOptions& options) {
  validate_image_options(options);
  RESNETRS_CHECK_ARG(data != nullptr || size == 0, "image data must not be NULL");
  return options.preprocess == Preprocess::kRelease ? release_transform(data, size, name, options)
                                                    : timm_transform(data, size, name, options);
}

std::vector<float> load_image_file(const std::string& path, const ImageOptions& options) {
  validate_image_options(options);
  const std::string name = "image file '" + path + "'";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw_error(Status::kIoError, name + ": cannot open it (" + std::strerror(errno) + ")");
  // A FIFO or a device would block or never end: only regular files are read.
  if (!S_ISREG(st.st_mode)) throw_error(Status::kIoError, name + ": not a regular file");
  if (int64_t(st.st_size) > max_file_bytes(options.max_pixels))
    throw_error(Status::kImageInvalid, name + ": " + std::to_string(int64_t(st.st_size)) +
                                           " bytes, larger than any image within the pixel limit of " +
                                           std::to_string(options.max_pixels) + " (max_pixels) could be");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw_error(Status::kIoError, name + ": cannot open it (" + std::strerror(errno) + ")");
  std::vector<uint8_t> bytes(size_t(st.st_size));
  const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), file.get());
  if (got != bytes.size() || std::ferror(file.get()))
    throw_error(Status::kIoError, name + ": read " + std::to_string(got) + " of " + std::to_string(bytes.size()) + " bytes");
  return load_image(bytes.data(), bytes.size(), name, options);
}

}  // namespace resnetrs::image
