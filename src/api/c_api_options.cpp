// resnetrs_options_init_versioned and the validation of resnetrs_options_t.
#include "c_api_options.h"

#include <cstring>
#include <string>

#include "c_api_internal.h"
#include "model/network.h"

namespace resnetrs::capi {
namespace {

// Limits shared with validate_engine_options (engine.cpp), checked here too so that a bad value
// is refused before a multi-hundred-megabyte weights file is read.
constexpr int32_t kMaxBatch = 65536;
constexpr int32_t kMaxResolution = 4096;
// The same bound as resolve_cpu_threads (cpu/fast/cpu_isa.h).
constexpr int32_t kMaxCpuThreads = 1024;

std::string str(long long v) { return std::to_string(v); }

void require_enum(int32_t value, int32_t count, const char* field, const char* values) {
  RESNETRS_CHECK_ARG(value >= 0 && value < count,
                     std::string("options->") + field + " is " + str(value) + ", not one of " + values);
}

// Precision values are cast straight across: keep the two enums in the same order.
static_assert(int(Precision::kFp32) == RESNETRS_PRECISION_FP32 && int(Precision::kTf32) == RESNETRS_PRECISION_TF32 &&
                  int(Precision::kFp16) == RESNETRS_PRECISION_FP16 && int(Precision::kBf16) == RESNETRS_PRECISION_BF16 &&
                  int(Precision::kFp32x3) == RESNETRS_PRECISION_FP32X3,
              "resnetrs_precision_t and resnetrs::Precision must stay in the same order");
static_assert(int(CpuWinograd::kAuto) == RESNETRS_CPU_WINOGRAD_AUTO && int(CpuWinograd::kOff) == RESNETRS_CPU_WINOGRAD_OFF &&
                  int(CpuWinograd::kFast) == RESNETRS_CPU_WINOGRAD_FAST,
              "resnetrs_cpu_winograd_t and resnetrs::CpuWinograd must stay in the same order");
static_assert(sizeof(resnetrs_options_t) > kOptionsSizeV1, "API 4's fields follow API 1's struct");

}  // namespace

size_t options_size_of_api(uint32_t api_version) {
  return api_version >= kCpuOptionsApiVersion ? sizeof(resnetrs_options_t) : kOptionsSizeV1;
}

void check_options_abi(uint32_t api_version, size_t struct_size) {
  RESNETRS_CHECK_ARG(api_version >= kOldestApiVersion && api_version <= RESNETRS_API_VERSION,
                     "header/library mismatch: the caller was compiled against resnetrs API version " + str(api_version) +
                         ", this library (libresnetrs " + resnetrs_version() + ") implements API version " +
                         str(RESNETRS_API_VERSION) + "; rebuild against the installed header" +
                         (api_version == 0 ? " (api_version 0: was the options struct set up with resnetrs_options_init()?)" : ""));
  const size_t expected = options_size_of_api(api_version);
  RESNETRS_CHECK_ARG(struct_size == expected,
                     "options struct_size is " + str((long long)struct_size) + ", this library expects " +
                         str((long long)expected) + " from an API version " + str(api_version) +
                         " header (initialise the options with resnetrs_options_init(); header and library may disagree)");
}

EngineOptions to_engine_options(const resnetrs_options_t* c) {
  RESNETRS_CHECK_ARG(c != nullptr, "options must not be NULL (initialise a resnetrs_options_t with resnetrs_options_init())");
  check_options_abi(c->api_version, c->struct_size);
  require_enum(c->backend, 2, "backend", "RESNETRS_BACKEND_CPU (0), RESNETRS_BACKEND_CUDA (1)");
  require_enum(c->precision, 5, "precision", "RESNETRS_PRECISION_FP32 (0), _TF32 (1), _FP16 (2), _BF16 (3), _FP32X3 (4)");
  require_enum(c->input_layout, 2, "input_layout", "RESNETRS_LAYOUT_NCHW (0), RESNETRS_LAYOUT_NHWC (1)");
  RESNETRS_CHECK_ARG(c->cuda_graph == 0 || c->cuda_graph == 1, "options->cuda_graph is " + str(c->cuda_graph) + ", not 0 or 1");
  RESNETRS_CHECK_ARG(c->device >= 0, "options->device is " + str(c->device) + ", a CUDA device ordinal must be >= 0");
  RESNETRS_CHECK_ARG(c->max_batch >= 1 && c->max_batch <= kMaxBatch,
                     "options->max_batch is " + str(c->max_batch) + ", expected 1.." + str(kMaxBatch));
  RESNETRS_CHECK_ARG(c->height >= kMinResolution && c->height <= kMaxResolution && c->width >= kMinResolution &&
                         c->width <= kMaxResolution,
                     "options resolution is " + str(c->height) + "x" + str(c->width) + ", expected height and width in " +
                         str(kMinResolution) + ".." + str(kMaxResolution));
  RESNETRS_CHECK_ARG(c->backend != RESNETRS_BACKEND_CPU || c->precision == RESNETRS_PRECISION_FP32,
                     "options->precision: the CPU backend computes in fp32 only (RESNETRS_PRECISION_FP32)");
  const EngineOptions defaults;
  int32_t cpu_threads = defaults.cpu_threads;
  int32_t cpu_winograd = int32_t(defaults.cpu_winograd);
  if (c->api_version >= kCpuOptionsApiVersion) {  // older callers' structs end before these fields
    cpu_threads = c->cpu_threads;
    cpu_winograd = c->cpu_winograd;
  }
  RESNETRS_CHECK_ARG(cpu_threads >= 0 && cpu_threads <= kMaxCpuThreads,
                     "options->cpu_threads is " + str(cpu_threads) + ", expected 0 (the cores this process may run on) or 1.." +
                         str(kMaxCpuThreads));
  require_enum(cpu_winograd, 3, "cpu_winograd",
               "RESNETRS_CPU_WINOGRAD_AUTO (0), RESNETRS_CPU_WINOGRAD_OFF (1), RESNETRS_CPU_WINOGRAD_FAST (2)");

  EngineOptions o;
  o.backend = c->backend == RESNETRS_BACKEND_CPU ? Backend::kCpu : Backend::kCuda;
  o.device = c->device;
  o.precision = Precision(c->precision);
  o.max_batch = c->max_batch;
  o.height = c->height;
  o.width = c->width;
  o.input_layout = c->input_layout == RESNETRS_LAYOUT_NHWC ? Layout::kNHWC : Layout::kNCHW;
  o.workspace_cap_bytes = c->workspace_cap_bytes;
  o.tuning_cache_path = c->tuning_cache_path ? c->tuning_cache_path : "";
  o.cuda_graph = c->cuda_graph == 1;
  o.cpu_threads = cpu_threads;
  o.cpu_winograd = CpuWinograd(cpu_winograd);
  return o;
}

}  // namespace resnetrs::capi

resnetrs_status_t resnetrs_options_init_versioned(resnetrs_options_t* options, size_t struct_size, uint32_t api_version) {
  using namespace resnetrs;
  return capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(options != nullptr, "options must not be NULL");
    capi::check_options_abi(api_version, struct_size);
    const EngineOptions d;  // the C++ defaults are the single source of the C defaults
    resnetrs_options_t o{};
    o.struct_size = sizeof(resnetrs_options_t);
    o.api_version = api_version;
    o.backend = d.backend == Backend::kCpu ? RESNETRS_BACKEND_CPU : RESNETRS_BACKEND_CUDA;
    o.device = d.device;
    o.precision = int32_t(d.precision);
    o.max_batch = d.max_batch;
    o.height = d.height;
    o.width = d.width;
    o.input_layout = d.input_layout == Layout::kNHWC ? RESNETRS_LAYOUT_NHWC : RESNETRS_LAYOUT_NCHW;
    o.cuda_graph = d.cuda_graph ? 1 : 0;
    o.workspace_cap_bytes = d.workspace_cap_bytes;
    o.tuning_cache_path = nullptr;
    o.cpu_threads = d.cpu_threads;
    o.cpu_winograd = int32_t(d.cpu_winograd);
    // Write only the caller's struct: an API 1-3 caller's ends before cpu_threads.
    std::memcpy(static_cast<void*>(options), &o, struct_size);
    options->struct_size = struct_size;
  });
}
