// timm's evaluation transform, as timm runs it on PIL images: torchvision's Resize(int) (shortest
// side to floor(S / crop_pct), the other side int(new_short * long / short)) with PIL's BICUBIC,
// then torchvision's CenterCrop(S) (offsets int(round((size - S) / 2.0)), Python's round).
// PIL's resampling is re-implemented here as its algorithm is documented and visible in
// behaviour: per output pixel a window of input pixels centred at (i + 0.5) * scale, the cubic
// (a = -0.5) stretched by the scale when shrinking, weights normalised to sum 1, then quantised
// to 22-bit fixed point; a horizontal pass to 8 bits, then a vertical pass to 8 bits.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "image/preprocess.h"

namespace resnetrs::image {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's fixed point for 8-bit images

double cubic(double x) {  // PIL's bicubic filter, a = -0.5, support 2
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Fixed-point weights of one output position: input pixels [first, first + weights.size()).
struct Kernel {
  int first = 0;
  std::vector<int32_t> weights;
};

Kernel kernel_for(int out, int in_size, int out_size) {
  const double scale = double(in_size) / double(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 2.0 * filter_scale;
  const double center = (out + 0.5) * scale;
  const double inv = 1.0 / filter_scale;
  int xmin = int(center - support + 0.5);
  if (xmin < 0) xmin = 0;
  int xmax = int(center + support + 0.5);
  if (xmax > in_size) xmax = in_size;
  const int count = std::max(xmax - xmin, 0);
  std::vector<double> w(static_cast<size_t>(count));
  double sum = 0.0;
  for (int i = 0; i < count; ++i) {
    w[size_t(i)] = cubic((i + xmin - center + 0.5) * inv);
    sum += w[size_t(i)];
  }
  Kernel k;
  k.first = xmin;
  k.weights.resize(size_t(count));
  for (int i = 0; i < count; ++i) {
    const double v = (sum != 0.0 ? w[size_t(i)] / sum : w[size_t(i)]) * double(1 << kPrecisionBits);
    k.weights[size_t(i)] = int32_t(v < 0 ? -0.5 + v : 0.5 + v);  // C's truncation after the offset
  }
  return k;
}

uint8_t clip8(int64_t acc) {
  const int64_t v = acc >> kPrecisionBits;  // arithmetic shift: floor
  return uint8_t(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// crop_pct as the decimal the user wrote: a C float 0.8f is 0.800000011920929, and
// floor(224 / 0.8f) = 279 where Python's floor(224 / 0.8) = 280. The shortest decimal that reads
// back as the same float is what was typed.
double decimal_crop_pct(double crop_pct) {
  const float f = float(crop_pct);
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text - 1, f);
  *result.ptr = '\0';
  return std::strtod(text, nullptr);
}

// Python's round() of (d / 2.0) for an integer d: halves go to the even neighbour.
int round_half_even_half(int d) {
  const int q = d / 2;  // d >= 0 here
  if (d % 2 == 0) return q;
  return q % 2 == 0 ? q : q + 1;
}

}  // namespace

TimmGeometry timm_geometry(int height, int width, int size, double crop_pct) {
  const int scale_size = int(std::floor(double(size) / decimal_crop_pct(crop_pct)));
  TimmGeometry g;
  const int64_t short_side = std::min(height, width), long_side = std::max(height, width);
  const int64_t new_long = int64_t(double(int64_t(scale_size) * long_side) / double(short_side));
  if (new_long > int64_t(1) << 30)
    throw_error(Status::kImageInvalid, "resized side of " + std::to_string(new_long) + " pixels is absurd");
  if (width <= height) {
    g.resized_w = scale_size;
    g.resized_h = int(new_long);
  } else {
    g.resized_h = scale_size;
    g.resized_w = int(new_long);
  }
  g.top = round_half_even_half(g.resized_h - size);
  g.left = round_half_even_half(g.resized_w - size);
  return g;
}

std::vector<uint8_t> resize_pil_bicubic_window(const Rgb8& in, int resized_h, int resized_w, int top, int left,
                                               int crop_h, int crop_w) {
  std::vector<Kernel> kx(static_cast<size_t>(crop_w)), ky(static_cast<size_t>(crop_h));
  for (int x = 0; x < crop_w; ++x) kx[size_t(x)] = kernel_for(left + x, in.width, resized_w);
  for (int y = 0; y < crop_h; ++y) ky[size_t(y)] = kernel_for(top + y, in.height, resized_h);
  // Input rows the vertical pass reads.
  int row0 = in.height, row1 = 0;
  for (const Kernel& k : ky) {
    row0 = std::min(row0, k.first);
    row1 = std::max(row1, k.first + int(k.weights.size()));
  }
  if (row1 <= row0) throw_error(Status::kInternal, "PIL resize: empty vertical support");
  const bool horizontal = resized_w != in.width;  // PIL skips a pass whose size does not change
  const bool vertical = resized_h != in.height;

  // Horizontal pass over rows [row0, row1): 8-bit result, crop_w columns.
  const int rows = row1 - row0;
  std::vector<uint8_t> mid(size_t(rows) * size_t(crop_w) * 3);
  for (int r = 0; r < rows; ++r) {
    for (int x = 0; x < crop_w; ++x) {
      const Kernel& k = kx[size_t(x)];
      for (int c = 0; c < 3; ++c) {
        uint8_t v;
        if (horizontal) {
          int64_t acc = int64_t(1) << (kPrecisionBits - 1);
          for (size_t i = 0; i < k.weights.size(); ++i) acc += int64_t(in.at(row0 + r, k.first + int(i), c)) * k.weights[i];
          v = clip8(acc);
        } else {
          v = in.at(row0 + r, left + x, c);
        }
        mid[(size_t(r) * size_t(crop_w) + size_t(x)) * 3 + size_t(c)] = v;
      }
    }
  }
  // Vertical pass.
  std::vector<uint8_t> out(size_t(crop_h) * size_t(crop_w) * 3);
  for (int y = 0; y < crop_h; ++y) {
    const Kernel& k = ky[size_t(y)];
    for (int x = 0; x < crop_w; ++x) {
      for (int c = 0; c < 3; ++c) {
        uint8_t v;
        if (vertical) {
          int64_t acc = int64_t(1) << (kPrecisionBits - 1);
          for (size_t i = 0; i < k.weights.size(); ++i)
            acc += int64_t(mid[(size_t(k.first + int(i) - row0) * size_t(crop_w) + size_t(x)) * 3 + size_t(c)]) * k.weights[i];
          v = clip8(acc);
        } else {
          v = mid[(size_t(top + y - row0) * size_t(crop_w) + size_t(x)) * 3 + size_t(c)];
        }
        out[(size_t(y) * size_t(crop_w) + size_t(x)) * 3 + size_t(c)] = v;
      }
    }
  }
  return out;
}

}  // namespace resnetrs::image
