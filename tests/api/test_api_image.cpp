// The image functions of the C API: options (defaults, every refusal), known-answer decodes of
// images written here with libpng and libjpeg, each class of bad image with its status and a
// message naming the image, unreadable files, and engine_info.train_resolution. The numerical
// parity with TensorFlow and PIL is tests/python/test_images.py.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include <jpeglib.h>
#include <png.h>

#include "api_test_util.h"
#include "io/weights_file.h"

using namespace resnetrs::apitest;

namespace {

resnetrs_image_options_t image_options(int size = 32) {
  resnetrs_image_options_t o;
  REQUIRE(resnetrs_image_options_init(&o) == RESNETRS_STATUS_OK);
  o.height = o.width = size;
  return o;
}

// A deterministic h x w RGB image with structure (a gradient plus pseudo-random texture).
std::vector<uint8_t> test_pixels(int h, int w) {
  std::vector<uint8_t> p(size_t(h) * size_t(w) * 3);
  uint32_t s = 12345;
  for (size_t i = 0; i < p.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    p[i] = uint8_t((i / 3 % size_t(w)) * 3 + (s >> 28));
  }
  return p;
}

std::vector<uint8_t> encode_png(const std::vector<uint8_t>& rgb, int h, int w) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = png_uint_32(w);
  image.height = png_uint_32(h);
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  REQUIRE(png_image_write_to_memory(&image, nullptr, &size, 0, rgb.data(), 0, nullptr));
  std::vector<uint8_t> out(size);
  REQUIRE(png_image_write_to_memory(&image, out.data(), &size, 0, rgb.data(), 0, nullptr));
  out.resize(size);
  return out;
}

std::vector<uint8_t> encode_jpeg(const std::vector<uint8_t>& rgb, int h, int w) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);  // a failure here exits the test: acceptable for a test's own encoder
  jpeg_create_compress(&c);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buffer, &size);
  c.image_width = JDIMENSION(w);
  c.image_height = JDIMENSION(h);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(rgb.data() + size_t(c.next_scanline) * size_t(w) * 3);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::vector<uint8_t> out(buffer, buffer + size);
  jpeg_destroy_compress(&c);
  std::free(buffer);
  return out;
}

std::vector<float> load(const std::vector<uint8_t>& bytes, const resnetrs_image_options_t& o, resnetrs_status_t* status) {
  std::vector<float> out(size_t(3) * size_t(o.height) * size_t(o.width), std::numeric_limits<float>::quiet_NaN());
  *status = resnetrs_image_load_memory(bytes.data(), bytes.size(), &o, out.data());
  return out;
}

bool all_nan(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isnan(x)) return false;
  return true;
}

}  // namespace

TEST_CASE("image options: defaults", "[api][image][leak]") {
  const resnetrs_image_options_t o = image_options(224);
  CHECK(o.struct_size == sizeof(o));
  CHECK(o.api_version == RESNETRS_API_VERSION);
  CHECK(o.preprocess == RESNETRS_PREPROCESS_RELEASE);
  CHECK(o.height == 224);
  CHECK(o.width == 224);
  CHECK(o.crop_pct == 0.875f);
  CHECK(o.layout == RESNETRS_LAYOUT_NCHW);
  CHECK(o.max_pixels == RESNETRS_IMAGE_DEFAULT_MAX_PIXELS);
  CHECK(std::strcmp(resnetrs_status_string(RESNETRS_STATUS_IMAGE_INVALID), "IMAGE_INVALID") == 0);
}

TEST_CASE("image options: init refuses NULL and foreign headers", "[api][image][leak]") {
  resnetrs_image_options_t o;
  CHECK_FAILS_WITH(resnetrs_image_options_init_versioned(nullptr, sizeof(o), RESNETRS_API_VERSION),
                   RESNETRS_STATUS_INVALID_ARGUMENT, "must not be NULL");
  CHECK_FAILS_WITH(resnetrs_image_options_init_versioned(&o, sizeof(o) + 8, RESNETRS_API_VERSION),
                   RESNETRS_STATUS_INVALID_ARGUMENT, "struct_size");
  CHECK_FAILS_WITH(resnetrs_image_options_init_versioned(&o, sizeof(o), 1), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "header/library mismatch");
  CHECK_FAILS_WITH(resnetrs_image_options_init_versioned(&o, sizeof(o), RESNETRS_API_VERSION + 1),
                   RESNETRS_STATUS_INVALID_ARGUMENT, "header/library mismatch");
}

TEST_CASE("image options: each bad field is INVALID_ARGUMENT naming it", "[api][image][leak]") {
  const std::vector<uint8_t> png = encode_png(test_pixels(40, 40), 40, 40);
  struct Case {
    const char* what;
    void (*alter)(resnetrs_image_options_t&);
    const char* fragment;
  };
  const Case cases[] = {
      {"preprocess", [](resnetrs_image_options_t& o) { o.preprocess = 2; }, "preprocess"},
      {"not square", [](resnetrs_image_options_t& o) { o.width = 48; }, "set them equal"},
      {"too small", [](resnetrs_image_options_t& o) { o.height = o.width = 16; }, "size is 16"},
      {"too large", [](resnetrs_image_options_t& o) { o.height = o.width = 5000; }, "size is 5000"},
      {"crop_pct 0", [](resnetrs_image_options_t& o) { o.crop_pct = 0.0f; }, "crop_pct"},
      {"crop_pct > 1", [](resnetrs_image_options_t& o) { o.crop_pct = 1.5f; }, "crop_pct"},
      {"crop_pct NaN", [](resnetrs_image_options_t& o) { o.crop_pct = std::nanf(""); }, "crop_pct"},
      {"layout", [](resnetrs_image_options_t& o) { o.layout = 2; }, "layout"},
      {"max_pixels", [](resnetrs_image_options_t& o) { o.max_pixels = 0; }, "max_pixels"},
      {"struct_size", [](resnetrs_image_options_t& o) { o.struct_size = 8; }, "struct_size"},
      {"api_version 0", [](resnetrs_image_options_t& o) { o.api_version = 0; }, "resnetrs_image_options_init"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    resnetrs_image_options_t o = image_options();
    c.alter(o);
    resnetrs_status_t s;
    const std::vector<float> out = load(png, o, &s);
    CHECK(s == RESNETRS_STATUS_INVALID_ARGUMENT);
    CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains(c.fragment));
    CHECK(all_nan(out));
  }
  const resnetrs_image_options_t o = image_options();
  float out[3 * 32 * 32];
  CHECK_FAILS_WITH(resnetrs_image_load_memory(nullptr, 10, &o, out), RESNETRS_STATUS_INVALID_ARGUMENT, "data");
  CHECK_FAILS_WITH(resnetrs_image_load_memory(png.data(), png.size(), nullptr, out), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "options");
  CHECK_FAILS_WITH(resnetrs_image_load_memory(png.data(), png.size(), &o, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT, "out");
  CHECK_FAILS_WITH(resnetrs_image_load_file(nullptr, &o, out), RESNETRS_STATUS_INVALID_ARGUMENT, "path");
  CHECK_FAILS_WITH(resnetrs_image_load_file("", &o, out), RESNETRS_STATUS_INVALID_ARGUMENT, "path");
}

TEST_CASE("release transform: a 64x64 PNG at S = 32 is its centre 32x32 (identity resize)", "[api][image][leak]") {
  // int(32/64 * 64) = 32 at offsets (64-32+1)/2 = 16; resizing 32 -> 32 samples each pixel with
  // weight 1 (TF's table gives 0 to the other taps at distance 0).
  const int n = 64;
  const std::vector<uint8_t> px = test_pixels(n, n);
  resnetrs_image_options_t o = image_options(32);
  resnetrs_status_t s;
  const std::vector<float> out = load(encode_png(px, n, n), o, &s);
  INFO(resnetrs_last_error());
  REQUIRE(s == RESNETRS_STATUS_OK);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        REQUIRE(out[(size_t(c) * 32 + size_t(y)) * 32 + size_t(x)] == float(px[((size_t(y) + 16) * n + size_t(x) + 16) * 3 + size_t(c)]));
  // NHWC holds the same values interleaved.
  o.layout = RESNETRS_LAYOUT_NHWC;
  const std::vector<float> nhwc = load(encode_png(px, n, n), o, &s);
  REQUIRE(s == RESNETRS_STATUS_OK);
  for (size_t p = 0; p < 32 * 32; ++p)
    for (size_t c = 0; c < 3; ++c) REQUIRE(nhwc[p * 3 + c] == out[c * 32 * 32 + p]);
}

TEST_CASE("timm transform: a 32x40 PNG at S = 32, crop_pct 1 is its centre columns (no resize)", "[api][image][leak]") {
  // Shortest side already floor(32 / 1.0) = 32: no resampling; centre crop left = round(8 / 2) = 4.
  const std::vector<uint8_t> px = test_pixels(32, 40);
  resnetrs_image_options_t o = image_options(32);
  o.preprocess = RESNETRS_PREPROCESS_TIMM;
  o.crop_pct = 1.0f;
  resnetrs_status_t s;
  const std::vector<float> out = load(encode_png(px, 32, 40), o, &s);
  INFO(resnetrs_last_error());
  REQUIRE(s == RESNETRS_STATUS_OK);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        REQUIRE(out[(size_t(c) * 32 + size_t(y)) * 32 + size_t(x)] == float(px[(size_t(y) * 40 + size_t(x) + 4) * 3 + size_t(c)]));
}

TEST_CASE("a JPEG decodes close to its source pixels", "[api][image][leak]") {
  const int n = 64;
  const std::vector<uint8_t> px = test_pixels(n, n);
  resnetrs_status_t s;
  const std::vector<float> out = load(encode_jpeg(px, n, n), image_options(32), &s);
  INFO(resnetrs_last_error());
  REQUIRE(s == RESNETRS_STATUS_OK);
  double err = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        err += std::fabs(out[(size_t(c) * 32 + size_t(y)) * 32 + size_t(x)] - float(px[((size_t(y) + 16) * n + size_t(x) + 16) * 3 + size_t(c)]));
  CHECK(err / (3 * 32 * 32) < 6.0);  // quality 90 JPEG: a few levels of error on average
}

TEST_CASE("bad images are IMAGE_INVALID naming the image, and out is untouched", "[api][image][leak]") {
  const std::vector<uint8_t> png = encode_png(test_pixels(48, 48), 48, 48);
  const std::vector<uint8_t> jpg = encode_jpeg(test_pixels(48, 48), 48, 48);
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    int64_t max_pixels;
    const char* fragment;
  };
  const std::string text = "plain text, not an image at all";
  const Case cases[] = {
      {"truncated PNG", std::vector<uint8_t>(png.begin(), png.begin() + long(png.size() / 2)), 0, "truncated PNG"},
      {"truncated JPEG", std::vector<uint8_t>(jpg.begin(), jpg.begin() + long(jpg.size() / 2)), 0, "truncated JPEG"},
      {"JPEG signature only", std::vector<uint8_t>(jpg.begin(), jpg.begin() + 3), 0, "JPEG"},
      {"not an image", std::vector<uint8_t>(text.begin(), text.end()), 0, "not a JPEG or PNG"},
      {"empty", {}, 0, "empty"},
      {"over the pixel limit (PNG)", png, 48 * 48 - 1, "more than the limit of 2303"},
      {"over the pixel limit (JPEG)", jpg, 100, "more than the limit of 100"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    resnetrs_image_options_t o = image_options();
    if (c.max_pixels) o.max_pixels = c.max_pixels;
    for (int32_t pre : {RESNETRS_PREPROCESS_RELEASE, RESNETRS_PREPROCESS_TIMM}) {
      o.preprocess = pre;
      std::vector<float> out(3 * 32 * 32, std::numeric_limits<float>::quiet_NaN());
      const uint8_t dummy = 0;
      const resnetrs_status_t s =
          resnetrs_image_load_memory(c.bytes.empty() ? &dummy : c.bytes.data(), c.bytes.size(), &o, out.data());
      const std::string msg = resnetrs_last_error();
      INFO(msg);
      CHECK(s == RESNETRS_STATUS_IMAGE_INVALID);
      CHECK_THAT(msg, Catch::Matchers::Contains("image in memory (" + std::to_string(c.bytes.size()) + " bytes)"));
      CHECK_THAT(msg, Catch::Matchers::Contains(c.fragment));
      CHECK(all_nan(out));
    }
  }
}

TEST_CASE("image files: unreadable is IO_ERROR, bad content IMAGE_INVALID, both naming the file", "[api][image][leak]") {
  const TempDir dir("images");
  const resnetrs_image_options_t o = image_options();
  std::vector<float> out(3 * 32 * 32);
  const std::string missing = dir.file("missing.png");
  CHECK_FAILS_WITH(resnetrs_image_load_file(missing.c_str(), &o, out.data()), RESNETRS_STATUS_IO_ERROR, missing);
  CHECK_FAILS_WITH(resnetrs_image_load_file(dir.file("").c_str(), &o, out.data()), RESNETRS_STATUS_IO_ERROR,
                   "not a regular file");
  const std::string bad = dir.file("bad.jpg");
  {
    std::ofstream f(bad, std::ios::binary);
    f << "\xFF\xD8\xFF garbage";
  }
  CHECK_FAILS_WITH(resnetrs_image_load_file(bad.c_str(), &o, out.data()), RESNETRS_STATUS_IMAGE_INVALID, bad);
  const std::string good = dir.file("good.png");
  {
    const std::vector<uint8_t> png = encode_png(test_pixels(40, 50), 40, 50);
    std::ofstream f(good, std::ios::binary);
    f.write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size()));
  }
  REQUIRE(resnetrs_image_load_file(good.c_str(), &o, out.data()) == RESNETRS_STATUS_OK);
  CHECK(std::string(resnetrs_last_error()).empty());
}

TEST_CASE("engine info: train_resolution from the weights file, and API 1 callers get the old struct", "[api][image]") {
  const TempDir dir("train_res");
  const std::string path = dir.file("w.h5");
  resnetrs::RawWeights w = resnetrs::synthetic_weights(50, 3, 10);
  w.attrs.train_resolution = 160;
  resnetrs::save_weights(w, path);
  const resnetrs_options_t o = cpu_options(1);
  resnetrs_engine_t* e = nullptr;
  REQUIRE(resnetrs_engine_create_from_file(path.c_str(), &o, &e) == RESNETRS_STATUS_OK);
  EnginePtr engine(e);
  resnetrs_engine_info_t info;
  info.struct_size = sizeof(info);
  REQUIRE(resnetrs_engine_get_info(engine.get(), &info) == RESNETRS_STATUS_OK);
  CHECK(info.train_resolution == 160);
  CHECK(info.num_classes == 10);

  resnetrs_engine_info_t v1;
  v1.struct_size = offsetof(resnetrs_engine_info_t, train_resolution);
  v1.train_resolution = -7;  // beyond an API 1 caller's struct: must stay untouched
  REQUIRE(resnetrs_engine_get_info(engine.get(), &v1) == RESNETRS_STATUS_OK);
  CHECK(v1.struct_size == offsetof(resnetrs_engine_info_t, train_resolution));
  CHECK(v1.num_classes == 10);
  CHECK(v1.train_resolution == -7);
  // Synthetic engines have no train_resolution: "info describes the engine" checks the 0.
}
