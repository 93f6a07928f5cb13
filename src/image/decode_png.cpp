// PNG decoding with libpng, to what tf.io.decode_png(channels=3) gives: palette expanded,
// grayscale (1..16 bits) replicated to RGB, 16-bit samples reduced to their high byte
// (png_set_strip_16, as TensorFlow does), alpha and tRNS transparency dropped without compositing,
// interlacing undone, no gamma correction. The whole image is decoded, then cropped.
//
// libpng reports fatal errors through our error function, which longjmps back to the setjmp in
// PngDecoder::call(); between the two only libpng's C frames and our lambdas, which hold no
// objects with destructors, are on the stack.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

#include <png.h>

#include "common/error.h"
#include "image/decode.h"

namespace resnetrs::image {
namespace {

struct PngContext {
  const uint8_t* data = nullptr;
  size_t size = 0, offset = 0;
  char message[256] = {};
};

void on_error(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, sizeof ctx->message, "corrupt PNG data (libpng: %s)", message ? message : "unknown error");
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // recoverable: tolerated, never printed

void on_read(png_structp png, png_bytep out, size_t count) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (count > ctx->size - ctx->offset) {
    std::snprintf(ctx->message, sizeof ctx->message, "truncated PNG data (the file ends before the image does)");
    png_longjmp(png, 1);
  }
  std::memcpy(out, ctx->data + ctx->offset, count);
  ctx->offset += count;
}

class PngDecoder {
 public:
  PngDecoder(const uint8_t* data, size_t size, std::string name) : name_(std::move(name)) {
    ctx_.data = data;
    ctx_.size = size;
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx_, on_error, on_warning);
    if (png_) info_ = png_create_info_struct(png_);
    if (!png_ || !info_) throw_error(Status::kOutOfMemory, name_ + ": libpng could not allocate its decoder");
    png_set_read_fn(png_, &ctx_, on_read);
    // Our pixel limit is checked after the header; libpng's own 1,000,000-pixel side limit would
    // refuse valid panoramas first.
    png_set_user_limits(png_, 0x7fffffff, 0x7fffffff);
  }
  ~PngDecoder() { png_destroy_read_struct(&png_, info_ ? &info_ : nullptr, nullptr); }
  PngDecoder(const PngDecoder&) = delete;
  PngDecoder& operator=(const PngDecoder&) = delete;

  png_structp png() { return png_; }
  png_infop info() { return info_; }

  template <typename Body>
  void call(Body&& body) {
    if (!protected_call(body)) throw_error(Status::kImageInvalid, name_ + ": " + ctx_.message);
  }

 private:
  template <typename Body>
  bool protected_call(Body& body) {
    if (setjmp(png_jmpbuf(png_)) != 0) return false;
    body();
    return true;
  }

  std::string name_;
  PngContext ctx_;
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

}  // namespace

Rgb8 decode_png(const uint8_t* data, size_t size, const std::string& name, const DecodeRequest& request) {
  PngDecoder decoder(data, size, name);
  png_structp png = decoder.png();
  png_infop info = decoder.info();
  png_uint_32 width = 0, height = 0;
  decoder.call([&] {
    png_read_info(png, info);
    width = png_get_image_width(png, info);
    height = png_get_image_height(png, info);
  });
  check_dimensions(int64_t(height), int64_t(width), request.max_pixels, name, "PNG");
  const int h = int(height), w = int(width);
  const CropWindow win = checked_window(request.window(h, w), h, w);

  size_t rowbytes = 0;
  decoder.call([&] {
    const int bit_depth = png_get_bit_depth(png, info);
    const int color_type = png_get_color_type(png, info);
    if (bit_depth == 16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    rowbytes = png_get_rowbytes(png, info);
  });
  if (rowbytes != size_t(w) * 3)
    throw_error(Status::kInternal, name + ": libpng rows of " + std::to_string(rowbytes) + " bytes, expected " +
                                       std::to_string(size_t(w) * 3) + " (8-bit RGB)");

  std::vector<uint8_t> full(static_cast<size_t>(h) * rowbytes);
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int y = 0; y < h; ++y) rows[size_t(y)] = full.data() + size_t(y) * rowbytes;
  png_bytepp row_ptrs = rows.data();
  decoder.call([&] {
    png_read_image(png, row_ptrs);
    png_read_end(png, nullptr);
  });

  Rgb8 out;
  out.height = win.height;
  out.width = win.width;
  out.pixels.resize(size_t(win.height) * size_t(win.width) * 3);
  for (int y = 0; y < win.height; ++y)
    std::memcpy(out.pixels.data() + size_t(y) * size_t(win.width) * 3, rows[size_t(win.y + y)] + size_t(win.x) * 3,
                size_t(win.width) * 3);
  return out;
}

}  // namespace resnetrs::image
