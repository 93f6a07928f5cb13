// resnetrs-bench of a CPU-only build (RESNETRS_CUDA=OFF; replaces cuda_device.cpp and
// cuda_runner.cpp): there is never a CUDA device, and the reason says why.
#include <stdexcept>

#include "environment.h"
#include "runners.h"

namespace bench {

namespace {
constexpr const char* kNoCuda = "this resnetrs-bench was built without CUDA (-DRESNETRS_CUDA=OFF)";
}

bool cuda_device_available(std::string* why) {
  if (why) *why = kNoCuda;
  return false;
}

// Reached only for a CUDA run, which cuda_device_available() never allows here.
void add_device_facts(Environment&, int, const resnetrs_build_info_t&) { throw std::logic_error(kNoCuda); }

std::optional<ConfigResult> run_cuda_config(const RunSpec&, const Protocol&) { throw std::logic_error(kNoCuda); }

}  // namespace bench
