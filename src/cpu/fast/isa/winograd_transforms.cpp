// The Winograd tile transforms (winograd_kernels.h): F(2x2,3x3) and F(4x4,3x3), each a pair of
// one-dimensional transforms (rows, then columns) written as loops over a chunk of channels that
// the compiler vectorizes for each instruction set. The matrices (Lavin & Gray 2016):
//
// F(2x2,3x3), points 0, 1, -1:       F(4x4,3x3), points 0, 1, -1, 2, -2:
//   B^T = [1  0 -1  0]                 B^T = [4  0 -5  0  1  0]
//         [0  1  1  0]                       [0 -4 -4  1  1  0]
//         [0 -1  1  0]                       [0  4 -4 -1  1  0]
//         [0  1  0 -1]                       [0 -2 -1  2  1  0]
//   A^T = [1  1  1  0]                       [0  2 -1 -2  1  0]
//         [0  1 -1 -1]                       [0  4  0 -5  0  1]
//                                      A^T = [1  1  1  1  1  0]
//                                            [0  1 -1  2 -2  0]
//                                            [0  1  1  4  4  0]
//                                            [0  1 -1  8 -8  1]
// (G, the weight transform, is applied once at build in double: winograd_conv.cpp.)
#include "cpu/fast/isa/isa_rules.h"

#include <math.h>
#include <stddef.h>

#include "cpu/fast/isa/winograd_kernels.h"

#define RESNETRS_STR2(x) #x
#define RESNETRS_STR(x) RESNETRS_STR2(x)

namespace resnetrs::cpu::fast::RESNETRS_CPU_ISA_NS {

namespace {

// Channels transformed at a time: the row-pass temporaries (36 x kChunk floats) stay in L1.
constexpr int kChunk = 64;
// What a position outside the image reads.
const float kZeros[kChunk] = {};

inline int chunk(int c, int c0) { return c - c0 < kChunk ? c - c0 : kChunk; }

// o = B^T p for F(2x2,3x3), elementwise over n channels.
inline void bt4(const float* __restrict p0, const float* __restrict p1, const float* __restrict p2,
                const float* __restrict p3, float* __restrict o0, float* __restrict o1, float* __restrict o2,
                float* __restrict o3, int n) {
  for (int k = 0; k < n; ++k) {
    o0[k] = p0[k] - p2[k];
    o1[k] = p1[k] + p2[k];
    o2[k] = p2[k] - p1[k];
    o3[k] = p1[k] - p3[k];
  }
}

// o = A^T p for F(2x2,3x3).
inline void at4(const float* __restrict p0, const float* __restrict p1, const float* __restrict p2,
                const float* __restrict p3, float* __restrict o0, float* __restrict o1, int n) {
  for (int k = 0; k < n; ++k) {
    o0[k] = p0[k] + p1[k] + p2[k];
    o1[k] = p1[k] - p2[k] - p3[k];
  }
}

// o = B^T p for F(4x4,3x3).
inline void bt6(const float* __restrict p0, const float* __restrict p1, const float* __restrict p2,
                const float* __restrict p3, const float* __restrict p4, const float* __restrict p5,
                float* __restrict o0, float* __restrict o1, float* __restrict o2, float* __restrict o3,
                float* __restrict o4, float* __restrict o5, int n) {
  for (int k = 0; k < n; ++k) {
    const float a = p4[k] - 4.0f * p2[k];  // rows 1, 2 share p4 - 4 p2 and p3 - 4 p1
    const float b = p3[k] - 4.0f * p1[k];
    const float c = p4[k] - p2[k];         // rows 3, 4 share p4 - p2 and 2 (p3 - p1)
    const float d = 2.0f * (p3[k] - p1[k]);
    o0[k] = 4.0f * p0[k] - 5.0f * p2[k] + p4[k];
    o1[k] = a + b;
    o2[k] = a - b;
    o3[k] = c + d;
    o4[k] = c - d;
    o5[k] = 4.0f * p1[k] - 5.0f * p3[k] + p5[k];
  }
}

// o = A^T p for F(4x4,3x3).
inline void at6(const float* __restrict p0, const float* __restrict p1, const float* __restrict p2,
                const float* __restrict p3, const float* __restrict p4, const float* __restrict p5,
                float* __restrict o0, float* __restrict o1, float* __restrict o2, float* __restrict o3, int n) {
  for (int k = 0; k < n; ++k) {
    const float s12 = p1[k] + p2[k], d12 = p1[k] - p2[k];
    const float s34 = p3[k] + p4[k], d34 = p3[k] - p4[k];
    o0[k] = p0[k] + s12 + s34;
    o1[k] = d12 + 2.0f * d34;
    o2[k] = s12 + 4.0f * s34;
    o3[k] = d12 + 8.0f * d34 + p5[k];
  }
}

// out = act(y + bias) for n channels (bias may be null).
inline void store(const float* __restrict y, const float* __restrict bias, IsaAct act, float* __restrict out, int n) {
  if (bias) {
    for (int k = 0; k < n; ++k) out[k] = y[k] + bias[k];
  } else {
    for (int k = 0; k < n; ++k) out[k] = y[k];
  }
  if (act == IsaAct::kRelu) {
    for (int k = 0; k < n; ++k) out[k] = out[k] > 0.0f ? out[k] : 0.0f;
  } else if (act == IsaAct::kSwish) {
    for (int k = 0; k < n; ++k) out[k] = out[k] / (1.0f + expf(-out[k]));
  }
}

// Pointers to the window's pixels at channel c0 (kZeros outside the image).
template <int kAlpha>
inline void window(const float* img, int h, int w, int c, int y0, int x0, int c0, const float* (&d)[kAlpha][kAlpha]) {
  for (int i = 0; i < kAlpha; ++i) {
    const int y = y0 + i;
    for (int j = 0; j < kAlpha; ++j) {
      const int x = x0 + j;
      d[i][j] = (y >= 0 && y < h && x >= 0 && x < w) ? img + (size_t(y) * w + x) * c + c0 : kZeros;
    }
  }
}

void input_f2(const float* img, int h, int w, int c, int y0, int x0, float* v, size_t v_stride) {
  for (int c0 = 0; c0 < c; c0 += kChunk) {
    const int n = chunk(c, c0);
    const float* d[4][4];
    window<4>(img, h, w, c, y0, x0, c0, d);
    float t[4][4][kChunk];  // t[i][j] = (B^T d)[i][j]
    for (int j = 0; j < 4; ++j) bt4(d[0][j], d[1][j], d[2][j], d[3][j], t[0][j], t[1][j], t[2][j], t[3][j], n);
    float* o = v + c0;
    for (int i = 0; i < 4; ++i) {
      float* r = o + size_t(4 * i) * v_stride;
      bt4(t[i][0], t[i][1], t[i][2], t[i][3], r, r + v_stride, r + 2 * v_stride, r + 3 * v_stride, n);
    }
  }
}

void input_f4(const float* img, int h, int w, int c, int y0, int x0, float* v, size_t v_stride) {
  for (int c0 = 0; c0 < c; c0 += kChunk) {
    const int n = chunk(c, c0);
    const float* d[6][6];
    window<6>(img, h, w, c, y0, x0, c0, d);
    float t[6][6][kChunk];
    for (int j = 0; j < 6; ++j) {
      bt6(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j],
          n);
    }
    float* o = v + c0;
    for (int i = 0; i < 6; ++i) {
      float* r = o + size_t(6 * i) * v_stride;
      bt6(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], r, r + v_stride, r + 2 * v_stride, r + 3 * v_stride,
          r + 4 * v_stride, r + 5 * v_stride, n);
    }
  }
}

void output_f2(const float* m, size_t m_stride, int c, const float* bias, IsaAct act, float* out, int h, int w, int y0,
               int x0) {
  for (int c0 = 0; c0 < c; c0 += kChunk) {
    const int n = chunk(c, c0);
    const float* p = m + c0;
    float t[2][4][kChunk];  // t[i][j] = (A^T M)[i][j]
    for (int j = 0; j < 4; ++j) {
      at4(p + size_t(j) * m_stride, p + size_t(4 + j) * m_stride, p + size_t(8 + j) * m_stride,
          p + size_t(12 + j) * m_stride, t[0][j], t[1][j], n);
    }
    const float* b = bias ? bias + c0 : nullptr;
    for (int i = 0; i < 2 && y0 + i < h; ++i) {
      float y[2][kChunk];
      at4(t[i][0], t[i][1], t[i][2], t[i][3], y[0], y[1], n);
      for (int j = 0; j < 2 && x0 + j < w; ++j) store(y[j], b, act, out + (size_t(y0 + i) * w + x0 + j) * c + c0, n);
    }
  }
}

void output_f4(const float* m, size_t m_stride, int c, const float* bias, IsaAct act, float* out, int h, int w, int y0,
               int x0) {
  for (int c0 = 0; c0 < c; c0 += kChunk) {
    const int n = chunk(c, c0);
    const float* p = m + c0;
    float t[4][6][kChunk];
    for (int j = 0; j < 6; ++j) {
      at6(p + size_t(j) * m_stride, p + size_t(6 + j) * m_stride, p + size_t(12 + j) * m_stride,
          p + size_t(18 + j) * m_stride, p + size_t(24 + j) * m_stride, p + size_t(30 + j) * m_stride, t[0][j],
          t[1][j], t[2][j], t[3][j], n);
    }
    const float* b = bias ? bias + c0 : nullptr;
    for (int i = 0; i < 4 && y0 + i < h; ++i) {
      float y[4][kChunk];
      at6(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], y[0], y[1], y[2], y[3], n);
      for (int j = 0; j < 4 && x0 + j < w; ++j) store(y[j], b, act, out + (size_t(y0 + i) * w + x0 + j) * c + c0, n);
    }
  }
}

}  // namespace

const WinogradKernels& winograd_kernels() {
  static const WinogradKernels table = {RESNETRS_STR(RESNETRS_CPU_ISA_NS), input_f2, input_f4, output_f2, output_f4};
  return table;
}

}  // namespace resnetrs::cpu::fast::RESNETRS_CPU_ISA_NS
