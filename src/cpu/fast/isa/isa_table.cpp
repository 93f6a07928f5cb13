// This instruction set's kernel table (isa_kernels.h).
#include "cpu/fast/isa/isa_rules.h"

#include "cpu/fast/isa/isa_kernels.h"

#define RESNETRS_STR2(x) #x
#define RESNETRS_STR(x) RESNETRS_STR2(x)

namespace resnetrs::cpu::fast::RESNETRS_CPU_ISA_NS {

void bias_act(float* data, size_t rows, size_t stride, int c, const float* bias, IsaAct act);
void channel_sum(const float* x, size_t rows, size_t stride, int c, float* sum);
void excite_residual(const float* x, const float* gate, const float* shortcut, size_t rows, int c, IsaAct act,
                     float* out);
void avg_pool_2x2(const float* in, int h, int w, int c, int stride, int y0, int y1, float* out);
void normalize_input(const float* in, int in_nhwc, int h, int w, const float* mean, const float* std, int y0, int y1,
                     float* out);

const IsaKernels& elementwise_kernels() {
  static const IsaKernels table = {RESNETRS_STR(RESNETRS_CPU_ISA_NS),
                                   bias_act,
                                   channel_sum,
                                   excite_residual,
                                   avg_pool_2x2,
                                   normalize_input};
  return table;
}

}  // namespace resnetrs::cpu::fast::RESNETRS_CPU_ISA_NS
