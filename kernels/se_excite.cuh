// SE excitation: the two small fully connected layers of a squeeze-excitation block, each a
// batched dense layer with a fused activation:
//   hidden[n, r] = relu(W1[r, c] . pooled[n, c] + b1[r])       (launch with kRelu)
//   gate[n, c]   = sigmoid(W2[c, r] . hidden[n, r] + b2[c])    (launch with kSigmoid)
#pragma once

#include <cuda_runtime_api.h>

namespace resnetrs::kernels {

enum class DenseActivation { kRelu, kSigmoid };

// y[n, out] = act(W[out, in] x[n, in] + b[out]). x, w, b, y device pointers; y must not overlap x.
void launch_dense_act(const float* x, const float* w, const float* b, float* y, int n, int in_features,
                      int out_features, DenseActivation act, cudaStream_t stream);

}  // namespace resnetrs::kernels
