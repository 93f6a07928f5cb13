// Naive double-precision reference operators (plain loops, no BLAS, no CUDA). They are the
// oracles the float32 CPU operators and the GPU kernels are tested against. NCHW throughout.
#pragma once

#include <array>
#include <vector>

namespace resnetrs::ref {

// out[n, cout, ho, wo] = [relu](sum in * weight + bias), symmetric zero padding.
std::vector<double> conv2d(const std::vector<float>& in, int n, int cin, int h, int w, const std::vector<float>& weight,
                           const std::vector<float>& bias, int cout, int kernel, int stride, int pad, bool relu);

// Keras/TF 'SAME' convolution (the Model Garden's stride-2 convs), written from TF's definition:
// out = ceil(in / stride), total padding max((out - 1) stride + kernel - in, 0) per dimension,
// the smaller half before. `act`: 0 none, 1 relu, 2 swish (x sigmoid(x)).
std::vector<double> conv2d_tf_same(const std::vector<float>& in, int n, int cin, int h, int w, const std::vector<float>& weight,
                                   const std::vector<float>& bias, int cout, int kernel, int stride, int act);

// 2x2/2 'same' average pool: ceil sizes, divisor = valid cells.
std::vector<double> avg_pool_2x2_same(const std::vector<float>& in, int n, int c, int h, int w);
// Keras AveragePooling2D(2, strides=stride, padding='same'): TF 'SAME' pads as above, the average
// over the valid cells only.
std::vector<double> avg_pool_2x2_tf_same(const std::vector<float>& in, int n, int c, int h, int w, int stride);

std::vector<double> global_avg_pool(const std::vector<float>& in, int n, int c, int h, int w);

// gate = sigmoid(W2 relu(W1 p + b1) + b2)
std::vector<double> se_gate(const std::vector<float>& pooled, int n, int c, int r, const std::vector<float>& w1,
                            const std::vector<float>& b1, const std::vector<float>& w2, const std::vector<float>& b2);

// relu(x * gate + shortcut)
std::vector<double> excite_residual_relu(const std::vector<float>& x, const std::vector<float>& gate,
                                         const std::vector<float>& shortcut, int n, int c, int hw);

// x sigmoid(x) of (x * gate + shortcut)
std::vector<double> excite_residual_swish(const std::vector<float>& x, const std::vector<float>& gate,
                                          const std::vector<float>& shortcut, int n, int c, int hw);

std::vector<double> dense(const std::vector<float>& x, int n, int cin, int cout, const std::vector<float>& weight,
                          const std::vector<float>& bias);

std::vector<double> normalize_input(const std::vector<float>& in, bool in_nhwc, int n, int h, int w,
                                    const std::array<float, 3>& mean, const std::array<float, 3>& std);

// Inference batch norm on [n, c, hw]: gamma (x - mean) / sqrt(var + eps) + beta.
std::vector<double> batch_norm(const std::vector<double>& x, int n, int c, int hw, const std::vector<float>& gamma,
                               const std::vector<float>& beta, const std::vector<float>& mean, const std::vector<float>& var,
                               double eps);

}  // namespace resnetrs::ref
