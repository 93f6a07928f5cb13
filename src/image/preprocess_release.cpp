// The release's evaluation transform: TF1 centre crop and TF1's legacy bicubic resize.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "image/preprocess.h"

namespace resnetrs::image {
namespace {

constexpr int kTableSize = 1024;

// TensorFlow's coefficient table for a = -0.75 (resize_bicubic_op.cc, InitCoeffsTable): entry
// 2i is the weight at distance i/1024, entry 2i+1 the weight at distance 1 + i/1024; computed in
// double from a float position, stored as float.
const std::array<float, 2 * (kTableSize + 1)>& coefficient_table() {
  static const std::array<float, 2 * (kTableSize + 1)> table = [] {
    std::array<float, 2 * (kTableSize + 1)> t{};
    const double a = -0.75;
    for (int i = 0; i <= kTableSize; ++i) {
      float x = float(i * 1.0 / kTableSize);
      t[size_t(2 * i)] = float(((a + 2) * x - (a + 3)) * x * x + 1);
      x += 1.0f;
      t[size_t(2 * i + 1)] = float(((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
    }
    return t;
  }();
  return table;
}

struct Taps {
  std::array<int, 4> index;
  std::array<float, 4> weight;
};

// The four source taps of output position `out` (TF's legacy scaler: no half-pixel offset).
Taps taps_for(int out, float scale, int limit) {
  const auto& table = coefficient_table();
  const float in = float(out) * scale;
  const int64_t in_loc = int64_t(std::floor(in));
  const float delta = in - float(in_loc);
  const long offset = std::lrint(delta * float(kTableSize));
  Taps t;
  t.weight = {table[size_t(offset * 2 + 1)], table[size_t(offset * 2)], table[size_t((kTableSize - offset) * 2)],
              table[size_t((kTableSize - offset) * 2 + 1)]};
  for (int k = 0; k < 4; ++k) {
    const int64_t i = in_loc - 1 + k;
    t.index[size_t(k)] = int(i < 0 ? 0 : (i >= limit ? limit - 1 : i));
  }
  return t;
}

}  // namespace

CropWindow release_crop_window(int height, int width, int size, const std::string& name) {
  // TF1: tf.cast((image_size / (image_size + CROP_PADDING)) * tf.cast(min(h, w), tf.float32), tf.int32):
  // the Python double ratio becomes a float32 constant, the product is float32, the cast truncates.
  const float ratio = float(double(size) / double(size + 32));
  const int side = int(ratio * float(std::min(height, width)));
  if (side < 1)
    throw_error(Status::kImageInvalid, name + ": image of " + std::to_string(width) + " x " + std::to_string(height) +
                                           " pixels is too small for the release's centre crop (side int(" +
                                           std::to_string(size) + "/" + std::to_string(size + 32) + " * " +
                                           std::to_string(std::min(height, width)) + ") = 0)");
  CropWindow w;
  w.height = w.width = side;
  w.y = ((height - side) + 1) / 2;
  w.x = ((width - side) + 1) / 2;
  return w;
}

std::vector<float> resize_bicubic_tf1(const Rgb8& in, int out_h, int out_w) {
  const float scale_y = float(in.height) / float(out_h);
  const float scale_x = float(in.width) / float(out_w);
  std::vector<Taps> xs(static_cast<size_t>(out_w));
  for (int x = 0; x < out_w; ++x) xs[size_t(x)] = taps_for(x, scale_x, in.width);
  std::vector<float> out(size_t(out_h) * size_t(out_w) * 3);
  for (int y = 0; y < out_h; ++y) {
    const Taps ty = taps_for(y, scale_y, in.height);
    for (int x = 0; x < out_w; ++x) {
      const Taps& tx = xs[size_t(x)];
      for (int c = 0; c < 3; ++c) {
        float column[4];
        for (int k = 0; k < 4; ++k) {
          const int sx = tx.index[size_t(k)];
          column[k] = float(in.at(ty.index[0], sx, c)) * ty.weight[0] + float(in.at(ty.index[1], sx, c)) * ty.weight[1] +
                      float(in.at(ty.index[2], sx, c)) * ty.weight[2] + float(in.at(ty.index[3], sx, c)) * ty.weight[3];
        }
        out[(size_t(y) * size_t(out_w) + size_t(x)) * 3 + size_t(c)] =
            column[0] * tx.weight[0] + column[1] * tx.weight[1] + column[2] * tx.weight[2] + column[3] * tx.weight[3];
      }
    }
  }
  return out;
}

}  // namespace resnetrs::image
