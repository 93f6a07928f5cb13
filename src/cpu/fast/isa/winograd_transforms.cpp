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

// The fused F(2x2) loops read and write through arrays of pointers that never overlap within a
// loop: say so, or the compiler versions them on aliasing checks or does not vectorize them.
#if defined(__clang__)
#define RESNETRS_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define RESNETRS_IVDEP _Pragma("GCC ivdep")
#else
#define RESNETRS_IVDEP
#endif

inline int chunk(int c, int c0) { return c - c0 < kChunk ? c - c0 : kChunk; }

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

inline void swish_in_place(float* x, int n) {
  for (int k = 0; k < n; ++k) x[k] = x[k] / (1.0f + expf(-x[k]));
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

// F(2x2): both passes of B^T d B in one loop over the channels (the 16 values of a channel stay in
// registers; no temporary tile in memory).
void input_f2(const float* img, int h, int w, int c, int y0, int x0, float* v, size_t v_stride) {
  for (int c0 = 0; c0 < c; c0 += kChunk) {
    const int n = chunk(c, c0);
    const float* d[4][4];
    window<4>(img, h, w, c, y0, x0, c0, d);
    float* o[16];
    for (int e = 0; e < 16; ++e) o[e] = v + size_t(e) * v_stride + c0;
    RESNETRS_IVDEP
    for (int k = 0; k < n; ++k) {
      float r[4][4];  // B^T d: rows
      for (int j = 0; j < 4; ++j) {
        const float a = d[0][j][k], b = d[1][j][k], cc = d[2][j][k], dd = d[3][j][k];
        r[0][j] = a - cc;
        r[1][j] = b + cc;
        r[2][j] = cc - b;
        r[3][j] = b - dd;
      }
      for (int i = 0; i < 4; ++i) {  // (B^T d) B: columns
        o[4 * i + 0][k] = r[i][0] - r[i][2];
        o[4 * i + 1][k] = r[i][1] + r[i][2];
        o[4 * i + 2][k] = r[i][2] - r[i][1];
        o[4 * i + 3][k] = r[i][1] - r[i][3];
      }
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

// One chunk of output_f2: o[q][k] = (A^T M A)[q] + b[k], then relu if asked.
template <bool kRelu>
inline void output_f2_loop(const float* const* p, const float* b, float* const* o, int n) {
  RESNETRS_IVDEP
  for (int k = 0; k < n; ++k) {
    float t[2][4];  // A^T M
    for (int j = 0; j < 4; ++j) {
      const float a = p[j][k], bb = p[4 + j][k], cc = p[8 + j][k], dd = p[12 + j][k];
      t[0][j] = a + bb + cc;
      t[1][j] = bb - cc - dd;
    }
    for (int i = 0; i < 2; ++i) {
      float y0 = t[i][0] + t[i][1] + t[i][2] + b[k];
      float y1 = t[i][1] - t[i][2] - t[i][3] + b[k];
      if (kRelu) {
        y0 = y0 > 0.0f ? y0 : 0.0f;
        y1 = y1 > 0.0f ? y1 : 0.0f;
      }
      o[2 * i][k] = y0;
      o[2 * i + 1][k] = y1;
    }
  }
}

// F(2x2): A^T M A, + bias (and relu) in one loop over the channels for a tile that lies inside the
// image; swish in a second pass (its expf would keep the fused loop from vectorizing).
void output_f2(const float* m, size_t m_stride, int c, const float* bias, IsaAct act, float* out, int h, int w, int y0,
               int x0) {
  const int rows = h - y0 < 2 ? h - y0 : 2, cols = w - x0 < 2 ? w - x0 : 2;
  const bool relu = act == IsaAct::kRelu;
  for (int c0 = 0; c0 < c; c0 += kChunk) {
    const int n = chunk(c, c0);
    const float* p[16];
    for (int e = 0; e < 16; ++e) p[e] = m + size_t(e) * m_stride + c0;
    const float* b = bias ? bias + c0 : kZeros;
    float y[4][kChunk];  // the 2x2 outputs, row-major
    float* o[4];
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        o[2 * i + j] = i < rows && j < cols ? out + (size_t(y0 + i) * w + x0 + j) * c + c0 : y[2 * i + j];
    if (relu) output_f2_loop<true>(p, b, o, n);
    else output_f2_loop<false>(p, b, o, n);
    if (act == IsaAct::kSwish) {
      for (int q = 0; q < 4; ++q) {
        if (q / 2 < rows && q % 2 < cols) swish_in_place(o[q], n);
      }
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
