// The two evaluation transforms (internal to src/image/; docs/preprocessing.md).
#pragma once

#include <string>
#include <vector>

#include "image/decode.h"

namespace resnetrs::image {

// ---- release (TF1 resnet_preprocessing.py, preprocess_for_eval) ----

// The centre crop of an h x w image for output size S: side int(S / (S + 32) * min(h, w)) in
// float32, offsets ((h - side) + 1) / 2 and ((w - side) + 1) / 2. Throws Error(kImageInvalid)
// naming `name` when the side is 0 (an image too thin to crop).
CropWindow release_crop_window(int height, int width, int size, const std::string& name);

// tf.compat.v1.image.resize_bicubic (align_corners=False, half_pixel_centers=False: TF's legacy
// path): a = -0.75 weights from a 1024-entry table, source x = out_x * (in / out), taps clamped
// to the border, no antialias. Output: out_h x out_w x 3 floats (HWC), float32 arithmetic in
// TensorFlow's order (columns interpolated vertically first, then across).
std::vector<float> resize_bicubic_tf1(const Rgb8& in, int out_h, int out_w);

// ---- timm (timm.data.transforms_factory.transforms_imagenet_eval, crop_mode 'center') ----

struct TimmGeometry {
  int resized_h = 0, resized_w = 0;  // the whole image resized: shortest side floor(S / crop_pct)
  int top = 0, left = 0;             // the S x S centre crop in the resized image
};
TimmGeometry timm_geometry(int height, int width, int size, double crop_pct);

// PIL's Image.resize(..., BICUBIC) on an 8-bit RGB image (a = -0.5, support widened by the
// scale when shrinking: antialiased; fixed-point coefficients; horizontal pass then vertical,
// each rounded to 8 bits), of which only the crop_h x crop_w window at (top, left) of the
// resized image is computed. Output: crop_h x crop_w x 3 bytes (HWC).
std::vector<uint8_t> resize_pil_bicubic_window(const Rgb8& in, int resized_h, int resized_w, int top, int left,
                                               int crop_h, int crop_w);

}  // namespace resnetrs::image
