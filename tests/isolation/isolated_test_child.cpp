// The helper run_isolated's tests start (tests/unit/test_isolated_call.cpp): serve_isolated() around
// work that behaves as the first argument says.
//   resnetrs_isolated_test_child MODE [N]
#include <dirent.h>
#include <fcntl.h>
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

namespace {

// "0=/dev/null 1=pipe:[123] ..." : this process's open descriptors and what they are.
std::string open_descriptors() {
  std::string out;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return "unreadable";
  const int own = ::dirfd(dir);
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.' || std::atoi(e->d_name) == own) continue;
    char target[512] = "";
    const std::string link = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    out += std::string(e->d_name) + "=" + (n > 0 ? std::string(target, size_t(n)) : std::string("?")) + " ";
  }
  ::closedir(dir);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  // "fds": what the helper has at its start (what the spawn left open) and when its work runs.
  // "fds-own": the same after it opened descriptors itself (no close-on-exec) before serve_isolated,
  // which must close them (the path glibc before 2.34 relies on).
  const std::string at_start = mode == "fds" || mode == "fds-own" ? open_descriptors() : "";
  if (mode == "fds-own") {
    for (int i = 0; i < 3; ++i) (void)::open("/dev/zero", O_RDONLY);
  }
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
        if (mode == "fds" || mode == "fds-own") return "start: " + at_start + "\nwork: " + open_descriptors();
        if (mode == "stderr") {
          std::fprintf(stderr, "noise on stderr\n");
          return "quiet";
        }
        throw std::runtime_error("unknown mode '" + mode + "'");
      },
      argc > 3 ? size_t(std::strtoull(argv[3], nullptr, 10)) << 20 : kIsolatedMemoryCap);
}
