// Which instruction set the fast CPU engine's own kernels run with, and which oneDNN may use.
// Our kernels are compiled twice (src/cpu/fast/isa/, CMake: resnetrs_cpu_isa_kernels): once for
// the x86-64 baseline ("generic", what machines without AVX2 or FMA run) and once with AVX2+FMA;
// an AVX-512 processor runs the AVX2 build of our kernels and oneDNN's AVX-512 code.
#pragma once

#include "cpu/fast/isa/isa_kernels.h"
#include "engine/engine.h"

namespace resnetrs::cpu::fast {

// The best this processor runs: kAvx512 (AVX-512 F/BW/VL/DQ + AVX2 + FMA), kAvx2 (AVX2 + FMA), kGeneric.
CpuIsa detect_cpu_isa();

// The instruction set an engine uses. kAuto: the environment variable RESNETRS_CPU_ISA (generic,
// avx2, avx512) if set, else detect_cpu_isa(). Throws Error(kInvalidArgument) naming the request
// when this processor cannot run it, or when RESNETRS_CPU_ISA holds anything else.
CpuIsa resolve_cpu_isa(CpuIsa requested);

const char* cpu_isa_name(CpuIsa isa);

// The threads a run uses: `requested` when > 0, else the cores this process may run on
// (sched_getaffinity), at least 1. Throws Error(kInvalidArgument) for requested < 0 or > 1024.
int resolve_cpu_threads(int requested);

// Our kernels for a resolved instruction set (kAvx512 runs the avx2 copy; kAuto is an error).
const IsaKernels& isa_kernels(CpuIsa isa);

}  // namespace resnetrs::cpu::fast
