// Argument checks of every C API function: NULL pointers, wrong struct_size and API version,
// enum values outside their enums, out-of-range batches and resolutions. Each failure must give
// INVALID_ARGUMENT and a message that names the offending argument.
#include <climits>
#include <limits>
#include <cstring>
#include <vector>

#if RESNETRS_TESTS_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

#include "api_test_util.h"

using namespace resnetrs::apitest;

TEST_CASE("status strings, last error, versions", "[api][args][leak]") {
  CHECK(std::strcmp(resnetrs_status_string(RESNETRS_STATUS_OK), "OK") == 0);
  CHECK(std::strcmp(resnetrs_status_string(RESNETRS_STATUS_WEIGHTS_INVALID), "WEIGHTS_INVALID") == 0);
  CHECK(std::strcmp(resnetrs_status_string(RESNETRS_STATUS_INTERNAL), "INTERNAL") == 0);
  CHECK(std::strcmp(resnetrs_status_string(resnetrs_status_t(99)), "UNKNOWN_STATUS") == 0);
  CHECK(std::strcmp(resnetrs_status_string(resnetrs_status_t(-1)), "UNKNOWN_STATUS") == 0);

  const std::string expected_version = std::to_string(RESNETRS_VERSION_MAJOR) + "." + std::to_string(RESNETRS_VERSION_MINOR) +
                                       "." + std::to_string(RESNETRS_VERSION_PATCH);
  CHECK(resnetrs_version() == expected_version);
  CHECK(resnetrs_api_version() == RESNETRS_API_VERSION);

  // The last error is per call: a failure sets it, the next successful call empties it.
  CHECK(resnetrs_topk(nullptr, 1, 1, 1, nullptr, nullptr) == RESNETRS_STATUS_INVALID_ARGUMENT);
  CHECK(std::strlen(resnetrs_last_error()) > 0);
  resnetrs_options_t o;
  CHECK(resnetrs_options_init(&o) == RESNETRS_STATUS_OK);
  CHECK(std::strcmp(resnetrs_last_error(), "") == 0);
}

TEST_CASE("build info", "[api][args][leak]") {
  resnetrs_build_info_t b{};
  CHECK_FAILS_WITH(resnetrs_get_build_info(nullptr), RESNETRS_STATUS_INVALID_ARGUMENT, "info must not be NULL");
  b.struct_size = sizeof(b) - 1;
  CHECK_FAILS_WITH(resnetrs_get_build_info(&b), RESNETRS_STATUS_INVALID_ARGUMENT, "struct_size");
  b.struct_size = sizeof(b);
  REQUIRE(resnetrs_get_build_info(&b) == RESNETRS_STATUS_OK);
  CHECK(std::strcmp(b.version, resnetrs_version()) == 0);
  CHECK(std::strlen(b.git_commit) > 0);
  CHECK(std::strlen(b.build_type) > 0);
  CHECK(std::strlen(b.compiler) > 0);
  CHECK(b.api_version == RESNETRS_API_VERSION);
#if RESNETRS_TESTS_WITH_CUDA
  CHECK(std::strlen(b.cuda_architectures) > 0);
  CHECK(b.cuda_runtime_version >= 12000);
  CHECK(b.cudnn_version_compiled >= 90000);
  CHECK(b.cudnn_version_runtime >= 90000);  // cuDNN is loaded even with no GPU
  CHECK(b.cublas_version_runtime > 0);
  CHECK(b.cuda_driver_version >= 0);
#else
  // A CPU-only build says so: no architectures, no CUDA, cuDNN or cuBLAS.
  CHECK(std::strcmp(b.cuda_architectures, "") == 0);
  CHECK(std::strcmp(b.cuda_flags, "") == 0);
  CHECK(b.cuda_runtime_version == 0);
  CHECK(b.cuda_driver_version == 0);
  CHECK(b.cudnn_version_compiled == 0);
  CHECK(b.cudnn_version_runtime == 0);
  CHECK(b.cublas_version_runtime == 0);
#endif
}

TEST_CASE("options_init: defaults, NULL, size and version mismatches", "[api][args][leak]") {
  resnetrs_options_t o;
  std::memset(&o, 0xAB, sizeof(o));
  REQUIRE(resnetrs_options_init(&o) == RESNETRS_STATUS_OK);
  CHECK(o.struct_size == sizeof(o));
  CHECK(o.api_version == RESNETRS_API_VERSION);
  CHECK(o.backend == RESNETRS_BACKEND_CUDA);
  CHECK(o.device == 0);
  CHECK(o.precision == RESNETRS_PRECISION_FP32);
  CHECK(o.max_batch == 1);
  CHECK(o.height == 224);
  CHECK(o.width == 224);
  CHECK(o.input_layout == RESNETRS_LAYOUT_NCHW);
  CHECK(o.cuda_graph == 1);
  CHECK(o.workspace_cap_bytes == size_t(256) << 20);
  CHECK(o.tuning_cache_path == nullptr);

  CHECK_FAILS_WITH(resnetrs_options_init_versioned(nullptr, sizeof(o), RESNETRS_API_VERSION),
                   RESNETRS_STATUS_INVALID_ARGUMENT, "options must not be NULL");
  CHECK_FAILS_WITH(resnetrs_options_init_versioned(&o, sizeof(o) + 8, RESNETRS_API_VERSION), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "struct_size");
  CHECK_FAILS_WITH(resnetrs_options_init_versioned(&o, sizeof(o) - 8, RESNETRS_API_VERSION), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "struct_size");
  // A header newer than the library is refused with a message saying so.
  CHECK_FAILS_WITH(resnetrs_options_init_versioned(&o, sizeof(o), RESNETRS_API_VERSION + 1), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "header/library mismatch");
  CHECK_FAILS_WITH(resnetrs_options_init_versioned(&o, sizeof(o), 0), RESNETRS_STATUS_INVALID_ARGUMENT, "header/library mismatch");
}

TEST_CASE("create: every option is checked before any weights are read", "[api][args][leak]") {
  resnetrs_engine_t* e = reinterpret_cast<resnetrs_engine_t*>(0x1);  // must come back NULL
  const char* missing = "/nonexistent/weights.h5";  // never reached: the options fail first

  SECTION("NULL out-pointer, NULL options, NULL path") {
    resnetrs_options_t o = cpu_options();
    CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, &o, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT, "engine");
    CHECK_FAILS_WITH(resnetrs_engine_create_from_file(missing, &o, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT, "engine");
    CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, nullptr, &e), RESNETRS_STATUS_INVALID_ARGUMENT,
                     "options must not be NULL");
    CHECK(e == nullptr);
    CHECK_FAILS_WITH(resnetrs_engine_create_from_file(nullptr, &o, &e), RESNETRS_STATUS_INVALID_ARGUMENT, "path");
    CHECK_FAILS_WITH(resnetrs_engine_create_from_file("", &o, &e), RESNETRS_STATUS_INVALID_ARGUMENT, "path");
    CHECK(e == nullptr);
  }

  struct BadCase {
    const char* what;
    void (*edit)(resnetrs_options_t&);
    const char* fragment;
  };
  SECTION("bad option values") {
  const BadCase cases[] = {
      {"struct_size too small", [](resnetrs_options_t& o) { o.struct_size -= 4; }, "struct_size"},
      {"struct_size zero", [](resnetrs_options_t& o) { o.struct_size = 0; }, "struct_size"},
      {"api_version newer", [](resnetrs_options_t& o) { o.api_version = RESNETRS_API_VERSION + 1; }, "header/library mismatch"},
      {"api_version zero", [](resnetrs_options_t& o) { o.api_version = 0; }, "resnetrs_options_init"},
      {"backend -1", [](resnetrs_options_t& o) { o.backend = -1; }, "options->backend is -1"},
      {"backend 2", [](resnetrs_options_t& o) { o.backend = 2; }, "options->backend is 2"},
      {"precision 5", [](resnetrs_options_t& o) { o.precision = 5; }, "options->precision is 5"},
      {"precision -3", [](resnetrs_options_t& o) { o.precision = -3; }, "options->precision"},
      {"layout 2", [](resnetrs_options_t& o) { o.input_layout = 2; }, "options->input_layout is 2"},
      {"cuda_graph 2", [](resnetrs_options_t& o) { o.cuda_graph = 2; }, "options->cuda_graph"},
      {"device -1", [](resnetrs_options_t& o) { o.device = -1; }, "options->device"},
      {"max_batch 0", [](resnetrs_options_t& o) { o.max_batch = 0; }, "max_batch is 0"},
      {"max_batch -5", [](resnetrs_options_t& o) { o.max_batch = -5; }, "max_batch is -5"},
      {"max_batch huge", [](resnetrs_options_t& o) { o.max_batch = INT32_MAX; }, "max_batch"},
      {"height 31", [](resnetrs_options_t& o) { o.height = 31; }, "resolution is 31x32"},
      {"width 0", [](resnetrs_options_t& o) { o.width = 0; }, "resolution is 32x0"},
      {"height 5000", [](resnetrs_options_t& o) { o.height = 5000; }, "resolution"},
      {"CPU with TF32", [](resnetrs_options_t& o) { o.precision = RESNETRS_PRECISION_TF32; }, "fp32 only"},
      {"CPU with FP16", [](resnetrs_options_t& o) { o.precision = RESNETRS_PRECISION_FP16; }, "fp32 only"},
  };
  for (const BadCase& c : cases) {
    INFO(c.what);
    resnetrs_options_t o = cpu_options();
    c.edit(o);
    e = reinterpret_cast<resnetrs_engine_t*>(0x1);
    CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, &o, &e), RESNETRS_STATUS_INVALID_ARGUMENT, c.fragment);
    CHECK(e == nullptr);
    e = reinterpret_cast<resnetrs_engine_t*>(0x1);
    CHECK_FAILS_WITH(resnetrs_engine_create_from_file(missing, &o, &e), RESNETRS_STATUS_INVALID_ARGUMENT, c.fragment);
    CHECK(e == nullptr);
  }
  }

  SECTION("unsupported depth") {
    resnetrs_options_t o = cpu_options();
    for (int depth : {0, 18, 34, 51, -50, 1000}) {
      INFO("depth " << depth);
      CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(depth, 1, &o, &e), RESNETRS_STATUS_INVALID_ARGUMENT,
                       "50, 101, 152, 200, 270, 350, 420");
      CHECK(e == nullptr);
    }
  }
}

TEST_CASE("destroy and get_info with NULL", "[api][args][leak]") {
  resnetrs_engine_destroy(nullptr);  // a no-op, never a crash
  resnetrs_engine_info_t info{};
  info.struct_size = sizeof(info);
  CHECK_FAILS_WITH(resnetrs_engine_get_info(nullptr, &info), RESNETRS_STATUS_INVALID_ARGUMENT, "engine must not be NULL");
  CHECK_FAILS_WITH(resnetrs_engine_run_host(nullptr, nullptr, 1, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "engine must not be NULL");
  CHECK_FAILS_WITH(resnetrs_engine_run_device(nullptr, nullptr, 1, nullptr, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "engine must not be NULL");
}

TEST_CASE("get_info and run_host argument checks on a CPU engine", "[api][args]") {
  resnetrs_engine_t* e = shared_cpu_engine();
  resnetrs_engine_info_t info{};
  CHECK_FAILS_WITH(resnetrs_engine_get_info(e, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT, "info must not be NULL");
  info.struct_size = 0;
  CHECK_FAILS_WITH(resnetrs_engine_get_info(e, &info), RESNETRS_STATUS_INVALID_ARGUMENT, "struct_size is 0");
  info.struct_size = sizeof(info) + 16;
  CHECK_FAILS_WITH(resnetrs_engine_get_info(e, &info), RESNETRS_STATUS_INVALID_ARGUMENT, "struct_size");

  std::vector<float> in(image_floats() * kMaxBatch), out(size_t(1000) * kMaxBatch);
  CHECK_FAILS_WITH(resnetrs_engine_run_host(e, nullptr, 1, out.data()), RESNETRS_STATUS_INVALID_ARGUMENT, "input must not be NULL");
  CHECK_FAILS_WITH(resnetrs_engine_run_host(e, in.data(), 1, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT, "logits must not be NULL");
  CHECK_FAILS_WITH(resnetrs_engine_run_host(e, in.data(), 0, out.data()), RESNETRS_STATUS_INVALID_ARGUMENT, "batch is 0, expected 1..2");
  CHECK_FAILS_WITH(resnetrs_engine_run_host(e, in.data(), -1, out.data()), RESNETRS_STATUS_INVALID_ARGUMENT, "batch is -1");
  CHECK_FAILS_WITH(resnetrs_engine_run_host(e, in.data(), kMaxBatch + 1, out.data()), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "batch is 3, expected 1..2");
  // A failed call leaves the engine usable.
  CHECK(resnetrs_engine_run_host(e, in.data(), kMaxBatch, out.data()) == RESNETRS_STATUS_OK);
}

TEST_CASE("run_device on a CPU engine is refused with a message", "[api][args]") {
  resnetrs_engine_t* e = shared_cpu_engine();
  std::vector<float> in(image_floats()), out(1000);
  CHECK_FAILS_WITH(resnetrs_engine_run_device(e, in.data(), 1, out.data(), nullptr), RESNETRS_STATUS_INVALID_ARGUMENT,
                   "CPU backend");
  CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("resnetrs_engine_run_host"));
}

TEST_CASE("topk argument checks", "[api][args][leak]") {
  const float logits[6] = {1, 2, 3, 4, 5, 6};
  int32_t idx[6];
  float probs[6];
  CHECK_FAILS_WITH(resnetrs_topk(nullptr, 1, 6, 1, idx, probs), RESNETRS_STATUS_INVALID_ARGUMENT, "logits must not be NULL");
  CHECK_FAILS_WITH(resnetrs_topk(logits, 1, 6, 1, nullptr, probs), RESNETRS_STATUS_INVALID_ARGUMENT, "out_indices");
  CHECK_FAILS_WITH(resnetrs_topk(logits, 0, 6, 1, idx, probs), RESNETRS_STATUS_INVALID_ARGUMENT, "batch is 0");
  CHECK_FAILS_WITH(resnetrs_topk(logits, 1, 0, 1, idx, probs), RESNETRS_STATUS_INVALID_ARGUMENT, "classes is 0");
  CHECK_FAILS_WITH(resnetrs_topk(logits, 1, 6, 0, idx, probs), RESNETRS_STATUS_INVALID_ARGUMENT, "k is 0, expected 1..6");
  CHECK_FAILS_WITH(resnetrs_topk(logits, 1, 6, 7, idx, probs), RESNETRS_STATUS_INVALID_ARGUMENT, "k is 7");
  const float bad[3] = {0.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f};
  CHECK_FAILS_WITH(resnetrs_topk(bad, 1, 3, 1, idx, probs), RESNETRS_STATUS_INVALID_ARGUMENT, "logit [0, 1] is not finite");
  const float inf[2] = {0.0f, std::numeric_limits<float>::infinity()};
  CHECK_FAILS_WITH(resnetrs_topk(inf, 1, 2, 1, idx, nullptr), RESNETRS_STATUS_INVALID_ARGUMENT, "not finite");
}

#if RESNETRS_TESTS_WITH_CUDA
TEST_CASE("the CUDA backend is refused at once when the device does not exist", "[api][args][leak]") {
  // Checked before any weights are generated or read: a missing GPU costs no seconds of loading.
  resnetrs_options_t o = cpu_options();
  o.backend = RESNETRS_BACKEND_CUDA;
  resnetrs_engine_t* e = nullptr;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();
    CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, &o, &e), RESNETRS_STATUS_NO_DEVICE, "RESNETRS_BACKEND_CPU");
    CHECK_FAILS_WITH(resnetrs_engine_create_from_file("/nonexistent.h5", &o, &e), RESNETRS_STATUS_NO_DEVICE, "CUDA device");
  } else {
    o.device = count;  // one past the last ordinal
    CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, &o, &e), RESNETRS_STATUS_INVALID_ARGUMENT,
                     "options->device is " + std::to_string(count));
  }
  CHECK(e == nullptr);
}
#else
TEST_CASE("a CPU-only build refuses the CUDA backend at once, saying it was built without CUDA", "[api][args][leak]") {
  // Refused before any weights are generated or read, with the reason and the way out.
  resnetrs_options_t o = cpu_options();
  o.backend = RESNETRS_BACKEND_CUDA;
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, &o, &e), RESNETRS_STATUS_NO_DEVICE, "built without CUDA");
  CHECK_FAILS_WITH(resnetrs_engine_create_synthetic(50, 1, &o, &e), RESNETRS_STATUS_NO_DEVICE, "RESNETRS_BACKEND_CPU");
  CHECK_FAILS_WITH(resnetrs_engine_create_from_file("/nonexistent.h5", &o, &e), RESNETRS_STATUS_NO_DEVICE,
                   "built without CUDA");
  CHECK(e == nullptr);
}
#endif
