// The Winograd convolution's tile transforms (cpu/fast/winograd_conv.h), one table per instruction
// set. Plain C types only: this header is included by the per-ISA sources (isa_rules.h).
//
// A tile of F(m x m, 3x3) reads an alpha x alpha input window (alpha = m + 2) of an NHWC image and
// gives an m x m output tile. The transformed tile has alpha*alpha rows of `c` floats, row e at
// v + e * v_stride (the GEMMs' layout [alpha*alpha][tiles][channels]).
#pragma once

#include <stddef.h>

#include "cpu/fast/isa/isa_kernels.h"

namespace resnetrs::cpu::fast {

struct WinogradKernels {
  const char* name;  // "generic" or "avx2"
  // Input transform V = B^T d B of the window whose top-left input pixel is (y0, x0) (may lie
  // outside the image: positions outside read as zeros). img: one NHWC image h x w x c.
  void (*input_f2)(const float* img, int h, int w, int c, int y0, int x0, float* v, size_t v_stride);
  void (*input_f4)(const float* img, int h, int w, int c, int y0, int x0, float* v, size_t v_stride);
  // Output transform Y = A^T M A of one tile (M row e at m + e * m_stride, c floats each), then
  // + bias (may be null) and act, stored to the output pixels (y0..y0+m-1, x0..x0+m-1) that lie
  // inside the NHWC image out (h x w x c).
  void (*output_f2)(const float* m, size_t m_stride, int c, const float* bias, IsaAct act, float* out, int h, int w,
                    int y0, int x0);
  void (*output_f4)(const float* m, size_t m_stride, int c, const float* bias, IsaAct act, float* out, int h, int w,
                    int y0, int x0);
};

// Each per-ISA copy defines RESNETRS_CPU_ISA_NS::winograd_kernels() (winograd_transforms.cpp).
namespace generic { const WinogradKernels& winograd_kernels(); }
namespace avx2 { const WinogradKernels& winograd_kernels(); }

}  // namespace resnetrs::cpu::fast
