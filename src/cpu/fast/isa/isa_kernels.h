// The fast CPU engine's own elementwise and pooling kernels (NHWC float32), one table per
// instruction set (the SE layers and the head are GEMMs: oneDNN's sgemm, then bias_act). Each kernel is
// single-threaded over the range it is given; the engine splits the work between threads so that
// every output element is computed by one thread in one fixed order (results independent of the
// thread count). Plain C types only: this header is included by the per-ISA sources.
#pragma once

#include <stddef.h>

namespace resnetrs::cpu::fast {

enum class IsaAct : int { kNone = 0, kRelu = 1, kSwish = 2, kSigmoid = 3 };

struct IsaKernels {
  const char* name;  // "generic" or "avx2"
  // data[p * stride + i] = act(data[p * stride + i] + bias[i]) for rows p < rows and i < c (in
  // place); bias may be null.
  void (*bias_act)(float* data, size_t rows, size_t stride, int c, const float* bias, IsaAct act);
  // sum[i] = sum over rows p of x[p * stride + i] for i < c (accumulated in float, rows in order).
  void (*channel_sum)(const float* x, size_t rows, size_t stride, int c, float* sum);
  // The block tail: out[p, c] = act(x[p, c] * gate[c] + shortcut[p, c]) for rows p < rows; out may alias x.
  void (*excite_residual)(const float* x, const float* gate, const float* shortcut, size_t rows, int c, IsaAct act,
                          float* out);
  // 2x2 'same' average pool of one NHWC image (h x w x c), stride 1 or 2, output rows y0..y1-1:
  // each output averages the valid cells of input rows sy..sy+1 and columns sx..sx+1.
  void (*avg_pool_2x2)(const float* in, int h, int w, int c, int stride, int y0, int y1, float* out);
  // One image's 0..255 pixels (NCHW or NHWC) to normalized NHWC: out = (in - mean[c]) / std[c], rows y0..y1-1.
  void (*normalize_input)(const float* in, int in_nhwc, int h, int w, const float* mean, const float* std, int y0,
                          int y1, float* out);
};

// Each per-ISA copy defines RESNETRS_CPU_ISA_NS::elementwise_kernels() (isa_table.cpp);
// cpu_isa.h's isa_kernels(CpuIsa) picks one.
namespace generic { const IsaKernels& elementwise_kernels(); }
namespace avx2 { const IsaKernels& elementwise_kernels(); }

}  // namespace resnetrs::cpu::fast
