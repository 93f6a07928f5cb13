#include "environment.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "api_check.h"

namespace bench {

std::string cuda_version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

std::string triple_version_string(int v) {
  return std::to_string(v / 10000) + "." + std::to_string((v % 10000) / 100) + "." + std::to_string(v % 100);
}

const char* const kCpuIsaFlags[3] = {"avx2", "fma", "avx512f"};

std::vector<std::string> isa_flags_of(const std::string& flags_line) {
  std::istringstream words(flags_line);
  std::vector<std::string> have;
  for (std::string w; words >> w;) have.push_back(w);
  std::vector<std::string> out;
  for (const char* flag : kCpuIsaFlags) {
    for (const std::string& w : have) {
      if (w == flag) {
        out.push_back(flag);
        break;
      }
    }
  }
  return out;
}

namespace {

// CMake joins empty and set flag variables with spaces: " -O3 -DNDEBUG".
std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// The value of the first /proc/cpuinfo line whose key is `key` ("model name", "flags"), or "".
std::string cpuinfo_value(const std::string& key) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || line.find_first_not_of(" \t", key.size()) != colon) continue;
    const size_t start = line.find_first_not_of(' ', colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return {};
}

std::string host_cpu_name() {
  const std::string name = cpuinfo_value("model name");
  return name.empty() ? "unknown" : name;
}

}  // namespace

Environment collect_environment(bool cuda, int device) {
  Environment env;
  env.backend = cuda ? "cuda" : "cpu";
  env.host_cpu = host_cpu_name();
  env.host_cores = int(std::thread::hardware_concurrency());
  env.host_cpu_flags = isa_flags_of(cpuinfo_value("flags"));
  if (const char* isa = std::getenv("RESNETRS_CPU_ISA")) env.cpu_isa_env = isa;

  resnetrs_build_info_t b{};
  b.struct_size = sizeof(b);
  check_api(resnetrs_get_build_info(&b));
  env.library_version = b.version;
  env.git_commit = b.git_commit;
  env.build_type = b.build_type;
  env.cuda_architectures = b.cuda_architectures;
  env.cxx_flags = trimmed(b.cxx_flags);
  env.cuda_flags = trimmed(b.cuda_flags);
  env.compiler = b.compiler;
  env.api_version = b.api_version;
  env.cudnn_version_compiled = triple_version_string(b.cudnn_version_compiled);

  if (!cuda) {
    env.device_name = env.host_cpu;
    return env;
  }
  add_device_facts(env, device, b);
  return env;
}

}  // namespace bench
