// The CUDA side of the C API in a CPU-only build (RESNETRS_CUDA=OFF; replaces cuda_run_order.cpp
// and cuda_build_facts.cpp): a CUDA engine is refused with NO_DEVICE before any weights are read,
// and the build facts report no CUDA, cuDNN or cuBLAS (0). DeviceScope and RunOrder exist only for
// CUDA engines, which cannot be made here; they refuse the same way should anything reach them.
#include "common/error.h"
#include "cuda_build_facts.h"
#include "cuda_run_order.h"
#include "engine/engine.h"

namespace resnetrs::capi {

void require_cuda_device(int) { throw_error(Status::kNoDevice, kBuiltWithoutCuda); }

void require_device_pointer(const void*, int, const char*) { throw_error(Status::kNoDevice, kBuiltWithoutCuda); }

DeviceScope::DeviceScope(int) { throw_error(Status::kNoDevice, kBuiltWithoutCuda); }
DeviceScope::~DeviceScope() = default;

RunOrder::RunOrder(int device) : m_device(device) { throw_error(Status::kNoDevice, kBuiltWithoutCuda); }
RunOrder::~RunOrder() = default;
CUstream_st* RunOrder::begin_device_run(void*) { throw_error(Status::kNoDevice, kBuiltWithoutCuda); }
void RunOrder::end_device_run(CUstream_st*) { throw_error(Status::kNoDevice, kBuiltWithoutCuda); }
void RunOrder::wait_for_last_run() { throw_error(Status::kNoDevice, kBuiltWithoutCuda); }

void fill_cuda_build_facts(resnetrs_build_info_t& b) noexcept {
  b.cuda_runtime_version = 0;
  b.cuda_driver_version = 0;
  b.cudnn_version_compiled = 0;
  b.cudnn_version_runtime = 0;
  b.cublas_version_runtime = 0;
}

}  // namespace resnetrs::capi
