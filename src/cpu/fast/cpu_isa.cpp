#include "cpu/fast/cpu_isa.h"

#include <sched.h>

#include <cstdlib>
#include <string>

#include "common/error.h"

namespace resnetrs::cpu::fast {

CpuIsa detect_cpu_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return avx512 ? CpuIsa::kAvx512 : avx2 ? CpuIsa::kAvx2 : CpuIsa::kGeneric;
#else
  return CpuIsa::kGeneric;
#endif
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAuto: return "auto";
    case CpuIsa::kGeneric: return "generic";
    case CpuIsa::kAvx2: return "avx2";
    case CpuIsa::kAvx512: return "avx512";
  }
  return "unknown";
}

namespace {
int rank(CpuIsa isa) { return isa == CpuIsa::kAvx512 ? 2 : isa == CpuIsa::kAvx2 ? 1 : 0; }
}  // namespace

CpuIsa resolve_cpu_isa(CpuIsa requested) {
  std::string source = "the engine option cpu_isa";
  if (requested == CpuIsa::kAuto) {
    const char* env = std::getenv("RESNETRS_CPU_ISA");
    if (!env || !*env) return detect_cpu_isa();
    const std::string v = env;
    source = "RESNETRS_CPU_ISA=" + v;
    if (v == "generic") requested = CpuIsa::kGeneric;
    else if (v == "avx2") requested = CpuIsa::kAvx2;
    else if (v == "avx512") requested = CpuIsa::kAvx512;
    else throw_error(Status::kInvalidArgument, source + ": expected generic, avx2 or avx512");
  }
  const CpuIsa have = detect_cpu_isa();
  RESNETRS_CHECK_ARG(rank(requested) <= rank(have), source + " asks for " + cpu_isa_name(requested) +
                                                        " but this processor runs at most " + cpu_isa_name(have));
  return requested;
}

int resolve_cpu_threads(int requested) {
  RESNETRS_CHECK_ARG(requested >= 0 && requested <= 1024,
                     "cpu_threads must be 0 (the cores this process may use) or 1..1024, got " + std::to_string(requested));
  if (requested > 0) return requested;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

const IsaKernels& isa_kernels(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kGeneric: return generic::elementwise_kernels();
    case CpuIsa::kAvx2:
    case CpuIsa::kAvx512: return avx2::elementwise_kernels();
    case CpuIsa::kAuto: break;
  }
  throw_error(Status::kInternal, "isa_kernels needs a resolved instruction set");
}

}  // namespace resnetrs::cpu::fast
