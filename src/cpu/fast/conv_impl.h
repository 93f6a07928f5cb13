// One way of computing one convolution layer of the fast CPU engine (NHWC float32 in and out,
// bias and activation fused). The engine builds every candidate that applies to a layer, times
// them and keeps one (conv_choice.h).
#pragma once

#include <cstddef>
#include <string>

namespace resnetrs::cpu::fast {

class ConvImpl {
 public:
  virtual ~ConvImpl() = default;
  // What runs, e.g. "onednn direct (brg:avx512_core)", "gemm 1x1", "winograd F(4x4,3x3)".
  virtual std::string name() const = 0;
  // Is this a Winograd algorithm (subject to the accuracy rule of CpuWinograd::kAuto)?
  virtual bool is_winograd() const = 0;
  // Bytes of scratch run() needs at the engine's max batch.
  virtual size_t workspace_bytes() const = 0;
  // in NHWC [batch, h_in, w_in, cin] -> out NHWC [batch, h_out, w_out, cout]; batch <= the max batch it
  // was built for. Called outside any OpenMP parallel region, with the calling thread's OpenMP
  // thread count set to `threads` (omp_threads.h). Allocates no tensor memory.
  virtual void run(const float* in, int batch, float* out, void* workspace, int threads) = 0;
};

}  // namespace resnetrs::cpu::fast
