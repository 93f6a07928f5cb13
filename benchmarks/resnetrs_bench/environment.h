// The environment a result was measured in: the device (CUDA runtime queries), the library build
// (resnetrs_get_build_info) and the host. Written into the JSON and the table's header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "resnetrs/resnetrs.h"

namespace bench {

struct Environment {
  std::string backend;  // "cuda" or "cpu"
  std::string device_name;
  std::optional<std::string> compute_capability;  // "9.0"
  std::optional<int> sm_count;
  std::optional<int64_t> device_memory_bytes;
  std::optional<std::string> driver_version;        // CUDA version the driver supports, "13.0"
  std::optional<std::string> cuda_runtime_version;  // the runtime libresnetrs runs on
  std::optional<std::string> cudnn_version;         // loaded at run time
  std::optional<std::string> cublas_version;
  std::string host_cpu;  // /proc/cpuinfo "model name"
  int host_cores = 0;
  // The instruction-set flags of /proc/cpuinfo that decide which CPU kernels can run, of
  // kCpuIsaFlags, in that order (those the processor has).
  std::vector<std::string> host_cpu_flags;
  std::optional<std::string> cpu_isa_env;  // RESNETRS_CPU_ISA when set (it forces the CPU kernels' ISA)
  // The library build.
  std::string library_version, git_commit, build_type, cuda_architectures, cxx_flags, cuda_flags, compiler;
  std::string cudnn_version_compiled;
  int api_version = 0;
};

// The /proc/cpuinfo flags recorded in host_cpu_flags.
extern const char* const kCpuIsaFlags[3];  // "avx2", "fma", "avx512f"

// Of kCpuIsaFlags, those in a /proc/cpuinfo "flags" line's value (space-separated), in kCpuIsaFlags' order.
std::vector<std::string> isa_flags_of(const std::string& flags_line);

// True when a CUDA device can be used; otherwise `why` says why not.
bool cuda_device_available(std::string* why);

Environment collect_environment(bool cuda, int device);

// The device's facts (name, compute capability, SMs, memory) and the CUDA, cuDNN and cuBLAS
// versions `b` reports, added to `env` by collect_environment for a CUDA run.
void add_device_facts(Environment& env, int device, const resnetrs_build_info_t& b);

// 13000 -> "13.0"; 91900 (cuDNN 9 and cuBLAS encoding) -> "9.19.0".
std::string cuda_version_string(int v);
std::string triple_version_string(int v);

}  // namespace bench
