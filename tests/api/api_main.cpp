// Entry point of resnetrs_tests_api. With --require-cuda (used by the ctest entry that runs the
// [cuda] cases) it first looks for a CUDA device and, when there is none, prints one line and
// exits 77, which ctest reports as skipped (SKIP_RETURN_CODE): never a silent pass. A CPU-only
// build (RESNETRS_TESTS_WITH_CUDA=0) has no [cuda] cases and no --require-cuda.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#if RESNETRS_TESTS_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

#include <cstdio>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  bool require_cuda = false, listing = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--require-cuda") == 0) {
      require_cuda = true;
      continue;
    }
    listing |= i > 0 && std::strncmp(argv[i], "--list", 6) == 0;
    args.push_back(argv[i]);
  }
  if (require_cuda && !listing) {
#if !RESNETRS_TESTS_WITH_CUDA
    std::printf("--require-cuda: this test binary was built without CUDA (RESNETRS_CUDA=OFF)\n");
    return 2;
#else
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
      std::printf("SKIPPED: no CUDA device (%s): the C API's CUDA-backend cases did not run\n",
                  err != cudaSuccess ? cudaGetErrorString(err) : "device count is 0");
      return 77;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
      std::printf("C API CUDA cases on %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
    }
#endif
  }
  return Catch::Session().run(int(args.size()), args.data());
}
