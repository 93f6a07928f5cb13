// The helper run_isolated's tests start (tests/unit/test_isolated_call.cpp): serve_isolated() around
// work that behaves as the first argument says.
//   resnetrs_isolated_test_child MODE [N]
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "common/isolated_call.h"
#include "isolation/test_bytes.h"

using namespace resnetrs;
using resnetrs::testing::random_bytes;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const size_t n = argc > 2 ? size_t(std::strtoull(argv[2], nullptr, 10)) : 0;
  return serve_isolated(
      [&]() -> std::string {
        if (mode == "bytes") return random_bytes(n, unsigned(n));
        if (mode == "error") throw_error(Status::kWeightsInvalid, "weights file 'x': bad attribute");
        if (mode == "exception") throw std::runtime_error("plain failure");
        if (mode == "segv") {
          volatile int* p = nullptr;
          return std::to_string(*p);  // a real fault, not raise()
        }
        if (mode == "abort") std::abort();
        if (mode == "loop") {
          while (true) ::pause();
        }
        if (mode == "malloc") {  // 1 GiB against a cap of `n` MiB
          void* p = std::malloc(size_t(1) << 30);
          const bool got = p != nullptr;
          std::free(p);
          return got ? "allocated" : "refused";
        }
        if (mode == "alloc") return std::string(n << 20, 'x').substr(0, 2);  // a C++ allocation of n MiB
        if (mode == "exit5") ::_exit(5);
        if (mode == "stderr") {
          std::fprintf(stderr, "noise on stderr\n");
          return "quiet";
        }
        throw std::runtime_error("unknown mode '" + mode + "'");
      },
      argc > 3 ? size_t(std::strtoull(argv[3], nullptr, 10)) << 20 : kIsolatedMemoryCap);
}
