// Version queries and build facts (resnetrs_version, resnetrs_api_version, resnetrs_get_build_info).
#include "build_info.h"
#include "c_api_internal.h"
#include "cuda_build_facts.h"

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
    resnetrs::capi::fill_cuda_build_facts(b);
    *info = b;
  });
}
