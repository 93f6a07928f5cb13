// Version queries and build facts (resnetrs_version, resnetrs_api_version, resnetrs_get_build_info).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "build_info.h"
#include "c_api_internal.h"

namespace {

#define RESNETRS_STR2(x) #x
#define RESNETRS_STR(x) RESNETRS_STR2(x)
// From the header's macros, so what resnetrs_version() says is what the header says; CMake
// checks at configure time that these equal project(VERSION).
constexpr const char* kVersion =
    RESNETRS_STR(RESNETRS_VERSION_MAJOR) "." RESNETRS_STR(RESNETRS_VERSION_MINOR) "." RESNETRS_STR(RESNETRS_VERSION_PATCH);

#if defined(__clang__)
constexpr const char* kCompiler = "Clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* kCompiler = "GNU " __VERSION__;
#else
constexpr const char* kCompiler = "unknown";
#endif

int32_t cublas_runtime_version() {
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS) {
    return 0;
  }
  return major * 10000 + minor * 100 + patch;
}

}  // namespace

const char* resnetrs_version(void) { return kVersion; }

uint32_t resnetrs_api_version(void) { return RESNETRS_API_VERSION; }

resnetrs_status_t resnetrs_get_build_info(resnetrs_build_info_t* info) {
  return resnetrs::capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(info != nullptr, "info must not be NULL");
    RESNETRS_CHECK_ARG(info->struct_size == sizeof(resnetrs_build_info_t),
                       "info->struct_size is " + std::to_string(info->struct_size) + ", this library expects " +
                           std::to_string(sizeof(resnetrs_build_info_t)) +
                           " (set it to sizeof(resnetrs_build_info_t); header and library may disagree)");
    resnetrs_build_info_t b{};
    b.struct_size = sizeof(b);
    b.version = kVersion;
    b.git_commit = RESNETRS_BUILD_GIT_COMMIT;
    b.build_type = RESNETRS_BUILD_TYPE;
    b.cuda_architectures = RESNETRS_BUILD_CUDA_ARCHITECTURES;
    b.cxx_flags = RESNETRS_BUILD_CXX_FLAGS;
    b.cuda_flags = RESNETRS_BUILD_CUDA_FLAGS;
    b.compiler = kCompiler;
    b.api_version = RESNETRS_API_VERSION;
    int v = 0;
    b.cuda_runtime_version = cudaRuntimeGetVersion(&v) == cudaSuccess ? v : CUDART_VERSION;
    v = 0;
    // 0 when no driver is installed (documented behaviour of cudaDriverGetVersion).
    b.cuda_driver_version = cudaDriverGetVersion(&v) == cudaSuccess ? v : 0;
    b.cudnn_version_compiled = CUDNN_VERSION;
    b.cudnn_version_runtime = int32_t(cudnnGetVersion());
    b.cublas_version_runtime = cublas_runtime_version();
    *info = b;
  });
}
