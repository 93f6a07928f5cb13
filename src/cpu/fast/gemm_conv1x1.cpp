#include "cpu/fast/gemm_conv1x1.h"

#include <omp.h>

#include <algorithm>
#include <string>

#include <oneapi/dnnl/dnnl.h>

#include "common/error.h"

namespace resnetrs::cpu::fast {

IsaAct isa_act(Activation act) {
  switch (act) {
    case Activation::kRelu: return IsaAct::kRelu;
    case Activation::kSwish: return IsaAct::kSwish;
    case Activation::kNone: break;
  }
  return IsaAct::kNone;
}

GemmConv1x1::GemmConv1x1(const ConvShape& s, const IsaKernels& kernels, const float* weight, const float* bias)
    : m_shape(s), m_kernels(kernels), m_act(isa_act(s.act)) {
  if (s.kernel != 1 || s.stride != 1 || s.pad != 0 || s.pad_top != 0 || s.pad_left != 0) {
    throw_error(Status::kInternal, "gemm 1x1 asked for " + s.name + ", which is not a 1x1 stride-1 convolution");
  }
  m_weight_t = HostBuffer(size_t(s.cin) * s.cout * sizeof(float));
  float* wt = m_weight_t.floats();
  for (int o = 0; o < s.cout; ++o) {
    for (int i = 0; i < s.cin; ++i) wt[size_t(i) * s.cout + o] = weight[size_t(o) * s.cin + i];
  }
  m_bias.assign(size_t(s.cout), 0.0f);
  if (bias) std::copy(bias, bias + s.cout, m_bias.begin());
}

void GemmConv1x1::run(const float* in, int batch, float* out, void*, int threads) {
  const long rows = long(batch) * m_shape.h_out * m_shape.w_out;
  const int cin = m_shape.cin, cout = m_shape.cout;
  // Each thread takes a contiguous part: of whole 16-row groups where there are many rows (early
  // layers, big batches), else of whole 16-column groups, so that each thread packs only its part
  // of the weights (a late layer at batch 1 has 25 rows and megabytes of weights). A value does not
  // depend on the part it falls in: the GEMM's order over k is set by its blocking, not by the
  // matrix sizes.
  const bool by_rows = rows >= 64L * threads;
  const long groups = by_rows ? (rows + 15) / 16 : (cout + 15) / 16;
  const long extent = by_rows ? rows : cout;
  int failed = dnnl_success;
#pragma omp parallel num_threads(threads) reduction(max : failed)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const long p0 = std::min(extent, groups * t / n * 16), p1 = std::min(extent, groups * (t + 1) / n * 16);
    if (p1 > p0) {
      const long r0 = by_rows ? p0 : 0, nr = by_rows ? p1 - p0 : rows;
      const long c0 = by_rows ? 0 : p0, nc = by_rows ? cout : p1 - p0;
      const dnnl_status_t st = dnnl_sgemm('N', 'N', nr, nc, cin, 1.0f, in + r0 * cin, cin, m_weight_t.floats() + c0, cout,
                                          0.0f, out + r0 * cout + c0, cout);
      if (st != dnnl_success) failed = int(st);
      m_kernels.bias_act(out + r0 * cout + c0, size_t(nr), size_t(cout), int(nc), m_bias.data() + c0, m_act);
    }
  }
  if (failed != dnnl_success) {
    throw_error(Status::kInternal, "oneDNN sgemm failed (status " + std::to_string(failed) + ") in " + m_shape.name);
  }
}

}  // namespace resnetrs::cpu::fast
