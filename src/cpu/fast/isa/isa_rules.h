// Included first by every source compiled once per instruction set (CMake's RESNETRS_CPU_ISA_SOURCES).
//
// The rule these sources follow: include only C headers (<math.h>, <stddef.h>, <stdint.h>,
// <string.h>) and headers of this folder, and define everything inside RESNETRS_CPU_ISA_NS. A C++
// library template or inline function used here would be compiled with AVX2 in the avx2 copy, and
// the linker keeps one copy of each such function for the whole library: the generic engine could
// then run an AVX2 instruction on a processor without it. The ctest entry "cpu-isa: ..."
// (tests/cmake/check_isa_objects.sh) checks the avx2 objects for such shared definitions.
#pragma once

#ifndef RESNETRS_CPU_ISA_NS
#error "compile this file through CMake's resnetrs_cpu_isa_<isa> targets, which define RESNETRS_CPU_ISA_NS"
#endif
