// The two image transforms on small known inputs, against independent double-precision
// references written from the formulas (docs/preprocessing.md), not from our code:
//  - TF1's legacy bicubic: a = -0.75, source position out * (in / out) (float32, as TF computes
//    it), its fraction rounded to 1/1024 (TF's table), taps clamped to the border;
//  - PIL's bicubic: a = -0.5 stretched by the scale when shrinking, normalised weights, rounded
//    to 8 bits after each pass;
//  - the crop geometries of both.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "common/error.h"
#include "image/preprocess.h"

using namespace resnetrs;
using namespace resnetrs::image;

namespace {

Rgb8 random_image(int h, int w, uint32_t seed) {
  Rgb8 im;
  im.height = h;
  im.width = w;
  im.pixels.resize(size_t(h) * size_t(w) * 3);
  uint32_t s = seed * 2654435761u + 1u;
  for (uint8_t& p : im.pixels) {
    s = s * 1664525u + 1013904223u;
    p = uint8_t(s >> 24);
  }
  return im;
}

double keys_cubic(double d, double a) {  // the cubic convolution kernel at distance d
  d = std::fabs(d);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return a * (((d - 5) * d + 8) * d - 4);
  return 0;
}

// One axis of TF1's legacy bicubic: the four (index, weight) taps of output position o.
void tf1_taps(int o, int in, int out, int idx[4], double wt[4]) {
  const float pos = float(o) * (float(in) / float(out));  // TF's float32 LegacyScaler
  const double base = std::floor(double(pos));
  const double t = std::lround((double(pos) - base) * 1024.0) / 1024.0;
  for (int k = 0; k < 4; ++k) {
    const double src = base - 1 + k;
    idx[k] = int(std::min(std::max(src, 0.0), double(in - 1)));
    wt[k] = keys_cubic(t - (k - 1), -0.75);
  }
}

std::vector<double> tf1_reference(const Rgb8& im, int oh, int ow) {
  std::vector<double> out(size_t(oh) * size_t(ow) * 3);
  for (int y = 0; y < oh; ++y) {
    int iy[4];
    double wy[4];
    tf1_taps(y, im.height, oh, iy, wy);
    for (int x = 0; x < ow; ++x) {
      int ix[4];
      double wx[4];
      tf1_taps(x, im.width, ow, ix, wx);
      for (int c = 0; c < 3; ++c) {
        double v = 0;
        for (int a = 0; a < 4; ++a)
          for (int b = 0; b < 4; ++b) v += wy[a] * wx[b] * im.at(iy[a], ix[b], c);
        out[(size_t(y) * size_t(ow) + size_t(x)) * 3 + size_t(c)] = v;
      }
    }
  }
  return out;
}

// PIL's antialiased bicubic on one axis, in double, each pass rounded to 8 bits.
std::vector<std::vector<double>> pil_weights(int in, int out, std::vector<int>& first) {
  const double scale = double(in) / out, fs = std::max(scale, 1.0), support = 2 * fs;
  std::vector<std::vector<double>> w(static_cast<size_t>(out));
  first.assign(size_t(out), 0);
  for (int o = 0; o < out; ++o) {
    const double center = (o + 0.5) * scale;
    const int lo = std::max(0, int(center - support + 0.5)), hi = std::min(in, int(center + support + 0.5));
    double sum = 0;
    for (int i = lo; i < hi; ++i) {
      w[size_t(o)].push_back(keys_cubic((i - center + 0.5) / fs, -0.5));
      sum += w[size_t(o)].back();
    }
    for (double& v : w[size_t(o)]) v /= sum;
    first[size_t(o)] = lo;
  }
  return w;
}

std::vector<int> pil_reference(const Rgb8& im, int oh, int ow) {
  std::vector<int> fx, fy;
  const auto wx = pil_weights(im.width, ow, fx), wy = pil_weights(im.height, oh, fy);
  auto to8 = [](double v) { return int(std::min(255.0, std::max(0.0, std::floor(v + 0.5)))); };
  std::vector<int> mid(size_t(im.height) * size_t(ow) * 3), out(size_t(oh) * size_t(ow) * 3);
  for (int y = 0; y < im.height; ++y)
    for (int x = 0; x < ow; ++x)
      for (int c = 0; c < 3; ++c) {
        double v = 0;
        for (size_t i = 0; i < wx[size_t(x)].size(); ++i) v += wx[size_t(x)][i] * im.at(y, fx[size_t(x)] + int(i), c);
        mid[(size_t(y) * size_t(ow) + size_t(x)) * 3 + size_t(c)] = to8(v);
      }
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x)
      for (int c = 0; c < 3; ++c) {
        double v = 0;
        for (size_t i = 0; i < wy[size_t(y)].size(); ++i)
          v += wy[size_t(y)][i] * mid[((size_t(fy[size_t(y)]) + i) * size_t(ow) + size_t(x)) * 3 + size_t(c)];
        out[(size_t(y) * size_t(ow) + size_t(x)) * 3 + size_t(c)] = to8(v);
      }
  return out;
}

}  // namespace

TEST_CASE("TF1 legacy bicubic equals the double-precision formula", "[image]") {
  struct Shape {
    int ih, iw, oh, ow;
  };
  for (const Shape s : {Shape{7, 9, 5, 4}, Shape{5, 4, 13, 11}, Shape{12, 12, 12, 12}, Shape{33, 17, 8, 40}, Shape{3, 3, 32, 32}}) {
    INFO(s.ih << "x" << s.iw << " -> " << s.oh << "x" << s.ow);
    const Rgb8 im = random_image(s.ih, s.iw, uint32_t(s.ih * 100 + s.iw));
    const std::vector<float> got = resize_bicubic_tf1(im, s.oh, s.ow);
    const std::vector<double> want = tf1_reference(im, s.oh, s.ow);
    REQUIRE(got.size() == want.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(double(got[i]) - want[i]));
    CHECK(worst <= 2e-4);  // float32 sums of 16 products of values up to 255
  }
  // Same size: every output is its input pixel (the taps at distance 1 and 2 weigh 0).
  const Rgb8 im = random_image(6, 7, 3);
  const std::vector<float> same = resize_bicubic_tf1(im, 6, 7);
  for (size_t i = 0; i < same.size(); ++i) REQUIRE(same[i] == float(im.pixels[i]));
}

TEST_CASE("TF1 legacy bicubic overshoots: values are not clipped to 0..255", "[image]") {
  Rgb8 im;
  im.height = 1;
  im.width = 4;
  im.pixels = {0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255};
  const std::vector<float> out = resize_bicubic_tf1(im, 1, 16);
  float lo = 0, hi = 255;
  for (float v : out) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo < -1.0f);
  CHECK(hi > 256.0f);
}

TEST_CASE("PIL bicubic (timm) equals the double-precision formula within one 8-bit step", "[image]") {
  struct Shape {
    int ih, iw, oh, ow;
  };
  for (const Shape s : {Shape{40, 50, 13, 16}, Shape{9, 7, 20, 31}, Shape{64, 20, 64, 9}, Shape{17, 33, 17, 33}}) {
    INFO(s.ih << "x" << s.iw << " -> " << s.oh << "x" << s.ow);
    const Rgb8 im = random_image(s.ih, s.iw, uint32_t(s.oh * 100 + s.ow));
    const std::vector<uint8_t> got = resize_pil_bicubic_window(im, s.oh, s.ow, 0, 0, s.oh, s.ow);
    const std::vector<int> want = pil_reference(im, s.oh, s.ow);
    int worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(int(got[i]) - want[i]));
    CHECK(worst <= 1);  // PIL's 22-bit fixed-point weights against exact ones
  }
}

TEST_CASE("PIL bicubic window equals the same window of the whole resize", "[image]") {
  const Rgb8 im = random_image(57, 83, 11);
  const int rh = 29, rw = 41;
  const std::vector<uint8_t> whole = resize_pil_bicubic_window(im, rh, rw, 0, 0, rh, rw);
  const int top = 5, left = 9, ch = 16, cw = 20;
  const std::vector<uint8_t> win = resize_pil_bicubic_window(im, rh, rw, top, left, ch, cw);
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x)
      for (int c = 0; c < 3; ++c)
        REQUIRE(win[(size_t(y) * cw + size_t(x)) * 3 + size_t(c)] ==
                whole[((size_t(y) + top) * rw + size_t(x) + left) * 3 + size_t(c)]);
}

TEST_CASE("release crop window: TF1's formula", "[image]") {
  // int(224/256 * 480) = 420 at ((480-420)+1)//2 = 30, ((640-420)+1)//2 = 110.
  CropWindow w = release_crop_window(480, 640, 224, "x");
  CHECK((w.height == 420 && w.width == 420 && w.y == 30 && w.x == 110));
  // int(160/192 * 333) = int(277.5) = 277; offsets (0+1)//2 = 0 and (517-277+1)//2 = 120.
  w = release_crop_window(333, 517, 160, "x");
  CHECK((w.height == 277 && w.y == 28 && w.x == 120));
  // Smaller than S: the crop is upsampled later. int(224/256 * 97) = 84.
  w = release_crop_window(97, 131, 224, "x");
  CHECK((w.height == 84 && w.y == 7 && w.x == 24));
  // One pixel high: int(0.875) = 0 -> refused naming the image.
  try {
    release_crop_window(1, 5000, 224, "image file 'thin.png'");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.status() == Status::kImageInvalid);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("thin.png") && Catch::Matchers::Contains("too small"));
  }
}

TEST_CASE("timm geometry: torchvision's Resize(int) and CenterCrop", "[image]") {
  // floor(224 / 0.875) = 256; long side int(256 * 640 / 480) = 341; left round(117 / 2) = 58 (half to even).
  TimmGeometry g = timm_geometry(480, 640, 224, 0.875);
  CHECK((g.resized_h == 256 && g.resized_w == 341 && g.top == 16 && g.left == 58));
  // Portrait; crop_pct given as a float: 0.8f must act as Python's 0.8 (floor(224 / 0.8) = 280).
  g = timm_geometry(500, 300, 224, double(0.8f));
  CHECK((g.resized_w == 280 && g.resized_h == 466 && g.left == 28 && g.top == 121));
  // rs50's 0.91 at 160: floor(175.8...) = 175; (175 - 160) / 2 = 7.5 rounds to 8 (even).
  g = timm_geometry(175, 175, 160, 0.91);
  CHECK((g.resized_h == 175 && g.top == 8 && g.left == 8));
}
