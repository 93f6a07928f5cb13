// JPEG decoding with libjpeg-turbo, as tf.io.decode_and_crop_jpeg does it by default
// (tensorflow/core/lib/jpeg/jpeg_mem.cc): RGB output (grayscale replicated by libjpeg), CMYK and
// YCCK converted with TensorFlow's formula, fancy upsampling on, scale 1, the requested IDCT, and
// only the crop window decoded (jpeg_crop_scanline + jpeg_skip_scanlines), so that the pixels at
// the window's edges are the ones TensorFlow gets.
//
// libjpeg reports fatal errors through error_exit, which must not return. Ours longjmps back to
// a setjmp in JpegDecoder::call(); between the two only libjpeg's C frames and our lambdas,
// which hold no objects with destructors, are on the stack. Truncated data is an error (our
// source manager never invents an EOI), progressive files with absurd scan counts too.
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t
#include <cstring>
#include <string>

#include <jpeglib.h>

#if !defined(LIBJPEG_TURBO_VERSION)
#error "src/image/decode_jpeg.cpp needs libjpeg-turbo (jpeg_crop_scanline, jpeg_skip_scanlines): install libjpeg62-turbo-dev"
#endif

#include "common/error.h"
#include "image/decode.h"

namespace resnetrs::image {
namespace {

// A progressive JPEG may hold any number of scans, each a full pass over the coefficients: a
// few kilobytes can then cost minutes ("scan bombs"). libjpeg-turbo's tools suggest 500.
constexpr int kMaxScans = 500;

struct ErrorManager {
  jpeg_error_mgr pub;  // first: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
};

struct MemorySource {
  jpeg_source_mgr pub;  // first: libjpeg sees a jpeg_source_mgr*
  const JOCTET* data;
  size_t size;
};

[[noreturn]] void fail_with(j_common_ptr cinfo, const char* message) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  std::snprintf(err->message, sizeof err->message, "%s", message);
  std::longjmp(err->jump, 1);
}

void on_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  std::snprintf(err->message, sizeof err->message, "corrupt JPEG data (libjpeg: %s)", text);
  std::longjmp(err->jump, 1);
}

// Warnings (recoverable corruption) are tolerated, as TensorFlow tolerates them; never printed.
void on_output_message(j_common_ptr) {}

void on_progress(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  if (reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number > kMaxScans)
    fail_with(cinfo, "progressive JPEG with more than 500 scans (refused: decoding it could take minutes)");
}

void source_init(j_decompress_ptr) {}
void source_term(j_decompress_ptr) {}

// Called only when every byte has been consumed.
boolean source_fill(j_decompress_ptr cinfo) {
  fail_with(reinterpret_cast<j_common_ptr>(cinfo), "truncated JPEG data (the file ends before the image does)");
}

void source_skip(j_decompress_ptr cinfo, long count) {
  if (count <= 0) return;
  jpeg_source_mgr* src = cinfo->src;
  if (size_t(count) > src->bytes_in_buffer) source_fill(cinfo);
  src->next_input_byte += count;
  src->bytes_in_buffer -= size_t(count);
}

class JpegDecoder {
 public:
  JpegDecoder(const uint8_t* data, size_t size, std::string name) : name_(std::move(name)) {
    std::memset(&cinfo_, 0, sizeof cinfo_);
    std::memset(&err_, 0, sizeof err_);
    std::memset(&src_, 0, sizeof src_);
    std::memset(&progress_, 0, sizeof progress_);
    cinfo_.err = jpeg_std_error(&err_.pub);
    err_.pub.error_exit = on_error_exit;
    err_.pub.output_message = on_output_message;
    src_.data = data;
    src_.size = size;
    call([this] {
      jpeg_create_decompress(&cinfo_);
      created_ = true;
    });
    src_.pub.init_source = source_init;
    src_.pub.fill_input_buffer = source_fill;
    src_.pub.skip_input_data = source_skip;
    src_.pub.resync_to_restart = jpeg_resync_to_restart;
    src_.pub.term_source = source_term;
    src_.pub.next_input_byte = src_.data;
    src_.pub.bytes_in_buffer = src_.size;
    cinfo_.src = &src_.pub;
    progress_.progress_monitor = on_progress;
    cinfo_.progress = &progress_;
  }
  ~JpegDecoder() {
    if (created_) jpeg_destroy_decompress(&cinfo_);
  }
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  j_decompress_ptr cinfo() { return &cinfo_; }

  // Runs `body` (libjpeg calls only, no objects with destructors) and turns a libjpeg error into
  // Error(kImageInvalid) naming the image.
  template <typename Body>
  void call(Body&& body) {
    if (!protected_call(body)) throw_error(Status::kImageInvalid, name_ + ": " + err_.message);
  }

 private:
  template <typename Body>
  bool protected_call(Body& body) {
    if (setjmp(err_.jump) != 0) return false;
    body();
    return true;
  }

  std::string name_;
  jpeg_decompress_struct cinfo_;
  ErrorManager err_;
  MemorySource src_;
  jpeg_progress_mgr progress_;
  bool created_ = false;
};

// TensorFlow's CMYK -> RGB (jpeg_mem.cc): Adobe files store inverted CMYK.
void cmyk_row_to_rgb(const JSAMPLE* cmyk, uint8_t* rgb, int width, bool adobe) {
  for (int i = 0; i < width; ++i) {
    const int c = cmyk[4 * i], m = cmyk[4 * i + 1], y = cmyk[4 * i + 2], k = cmyk[4 * i + 3];
    if (adobe) {
      rgb[3 * i] = uint8_t(k * c / 255);
      rgb[3 * i + 1] = uint8_t(k * m / 255);
      rgb[3 * i + 2] = uint8_t(k * y / 255);
    } else {
      rgb[3 * i] = uint8_t((255 - k) * (255 - c) / 255);
      rgb[3 * i + 1] = uint8_t((255 - k) * (255 - m) / 255);
      rgb[3 * i + 2] = uint8_t((255 - k) * (255 - y) / 255);
    }
  }
}

}  // namespace

Rgb8 decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const DecodeRequest& request) {
  JpegDecoder decoder(data, size, name);
  j_decompress_ptr c = decoder.cinfo();
  decoder.call([c] { jpeg_read_header(c, TRUE); });
  check_dimensions(c->image_height, c->image_width, request.max_pixels, name, "JPEG");
  const int full_h = int(c->image_height), full_w = int(c->image_width);
  const CropWindow win = checked_window(request.window(full_h, full_w), full_h, full_w);

  const bool cmyk = c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK;
  c->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  c->do_fancy_upsampling = TRUE;
  c->scale_num = 1;
  c->scale_denom = 1;
  c->dct_method = request.dct == JpegDct::kIntegerFast ? JDCT_IFAST : JDCT_ISLOW;

  Rgb8 out;
  out.height = win.height;
  out.width = win.width;
  out.pixels.resize(size_t(win.height) * size_t(win.width) * 3);
  // One scanline of libjpeg's output: at most the full width (the window widened to the iMCU
  // boundary on its left), 4 samples a pixel for CMYK.
  std::vector<JSAMPLE> line(size_t(full_w) * 4);
  JSAMPLE* line_ptr = line.data();
  uint8_t* out_ptr = out.pixels.data();
  const int components = cmyk ? 4 : 3;
  bool wrong_components = false;

  decoder.call([&] {
    jpeg_start_decompress(c);
    if (c->output_components != components) {
      wrong_components = true;
      return;
    }
    JDIMENSION x = JDIMENSION(win.x), width = JDIMENSION(win.width);
    if (win.x != 0 || win.width != full_w) jpeg_crop_scanline(c, &x, &width);  // x moves left to an iMCU edge
    const size_t shift = size_t(JDIMENSION(win.x) - x) * size_t(components);
    if (win.y > 0) jpeg_skip_scanlines(c, JDIMENSION(win.y));
    for (int row = 0; row < win.height; ++row) {
      if (jpeg_read_scanlines(c, &line_ptr, 1) != 1)
        fail_with(reinterpret_cast<j_common_ptr>(c), "truncated JPEG data (the file ends before the image does)");
      uint8_t* dst = out_ptr + size_t(row) * size_t(win.width) * 3;
      if (cmyk)
        cmyk_row_to_rgb(line_ptr + shift, dst, win.width, c->saw_Adobe_marker != 0);
      else
        std::memcpy(dst, line_ptr + shift, size_t(win.width) * 3);
    }
    if (c->output_scanline < c->output_height) jpeg_skip_scanlines(c, c->output_height - c->output_scanline);
    jpeg_finish_decompress(c);
  });
  if (wrong_components)
    throw_error(Status::kImageInvalid, name + ": JPEG with " + std::to_string(c->num_components) +
                                           " components cannot be converted to RGB");
  return out;
}

}  // namespace resnetrs::image
