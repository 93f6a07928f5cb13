// SCAFFOLDING (replaced by the fast engine before this branch lands): forwards to the reference.
#include "cpu/fast/cpu_isa.h"
#include "engine/engine.h"

namespace resnetrs {
std::unique_ptr<Engine> make_cpu_fast_engine(const FoldedWeights& weights, const EngineOptions& options) {
  (void)cpu::fast::resolve_cpu_threads(options.cpu_threads);
  (void)cpu::fast::isa_kernels(cpu::fast::resolve_cpu_isa(options.cpu_isa));
  return make_cpu_reference_engine(weights, options);
}
}  // namespace resnetrs
