// Float32 CPU operators of the ResNet-RS forward pass, all on NCHW tensors. They are the CPU
// engine's building blocks and the reference the GPU kernels are tested against; each one is
// itself tested against the naive double-precision version in src/ref/.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include "model/config.h"
#include "model/network.h"

namespace resnetrs::cpu {

// Conv geometry; out = (in + 2 pad - k) / stride + 1. Zero padding is symmetric unless pad_top /
// pad_left (the zeros before the first row / column) are set: Keras 'same' stride-2 convs on even
// sizes have 0 there and the one padded row/column after the last.
struct ConvParams {
  int n = 1, cin = 0, h = 0, w = 0;
  int cout = 0, kernel = 1, stride = 1, pad = 0;
  int pad_top = -1, pad_left = -1;  // -1: equal to pad
  int h_out() const { return (h + 2 * pad - kernel) / stride + 1; }
  int w_out() const { return (w + 2 * pad - kernel) / stride + 1; }
  int top() const { return pad_top < 0 ? pad : pad_top; }
  int left() const { return pad_left < 0 ? pad : pad_left; }
  // floats of scratch conv2d() needs (im2col of one image; 0 for a 1x1 stride-1 conv)
  size_t workspace_floats() const;
};

// The geometry of one layer of the network for `batch` images (padding as the layer pads).
ConvParams conv_params(const ConvShape& s, int batch);

// out = act(conv(in, weight) + bias). weight OIHW, bias [cout] (may be null). im2col + SGEMM.
void conv2d(const ConvParams& p, const float* in, const float* weight, const float* bias, Activation act, float* out,
            float* workspace);

// 2x2 stride-2 'same' average pool: out = ceil(h/2) x ceil(w/2); odd sizes pad bottom/right and
// divide by the number of valid cells.
void avg_pool_2x2_same(const float* in, int n, int c, int h, int w, float* out);
// The same with stride 1 or 2. Stride 1 (the Model Garden's stage-1 shortcut): out = h x w, each
// output averages the valid cells of rows y..y+1 and columns x..x+1.
void avg_pool_2x2_same(const float* in, int n, int c, int h, int w, int stride, float* out);

// swish(x) = x * sigmoid(x) (Keras 'swish', tf.nn.silu).
inline float swish(float x) { return x / (1.0f + std::exp(-x)); }
// out[n, c] = mean over h, w.
void global_avg_pool(const float* in, int n, int c, int h, int w, float* out);

// SE gate from pooled features: gate = sigmoid(W2 relu(W1 p + b1) + b2).
// pooled [n, c], w1 [r, c], b1 [r], w2 [c, r], b2 [c], gate [n, c]; hidden: scratch [n, r].
void se_gate(const float* pooled, int n, int c, int r, const float* w1, const float* b1, const float* w2, const float* b2,
             float* hidden, float* gate);

// Block tail: out = act(x * gate[n, c] + shortcut), x/shortcut/out [n, c, h, w]. out may alias x.
void excite_residual(const float* x, const float* gate, const float* shortcut, int n, int c, int hw, Activation act,
                     float* out);

// y[n, cout] = x[n, cin] W^T + b, W [cout, cin].
void dense(const float* x, int n, int cin, int cout, const float* weight, const float* bias, float* y);

// Normalizes 0..255 RGB pixels into NCHW: out = (in - mean[c]) / std[c]. in is NCHW or NHWC.
void normalize_input(const float* in, bool in_nhwc, int n, int h, int w, const std::array<float, 3>& mean,
                     const std::array<float, 3>& std, float* out);

}  // namespace resnetrs::cpu
