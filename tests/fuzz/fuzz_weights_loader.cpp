// libFuzzer target: any bytes given to the C API as a weights file must give OK, WEIGHTS_INVALID or
// IO_ERROR with a message naming the file, no engine on failure, and an empty HDF5 error stack;
// never a crash, a hang (libFuzzer's -timeout), a leak or a sanitizer report. The bytes go to one
// file per process in /dev/shm (memory) when it exists, else in the temp folder. (Not a memfd:
// HDF5 cannot resolve /proc/self/fd/N to a real path and refuses to open it.)
// RESNETRS_FUZZ_VERBOSE=1 prints each input's status and message (to see what a file does).
#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "resnetrs/resnetrs.h"

namespace {

[[noreturn]] void finding(const char* what, const char* detail) {
  std::fprintf(stderr, "fuzz_weights_loader: %s: %s\n", what, detail);
  std::abort();
}

const std::string& weights_path() {
  static const std::string path = [] {
    namespace fs = std::filesystem;
    const fs::path dir = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    return (dir / ("resnetrs-fuzz-" + std::to_string(getpid()) + ".h5")).string();
  }();
  return path;
}

int weights_fd() {
  static const int fd = [] {
    const int f = open(weights_path().c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (f < 0) finding("setup", ("cannot create " + weights_path()).c_str());
    std::atexit([] { unlink(weights_path().c_str()); });
    return f;
  }();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = weights_fd();
  if (ftruncate(fd, 0) != 0) finding("setup", "ftruncate failed");
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pwrite(fd, data + done, size - done, off_t(done));
    if (n <= 0) finding("setup", "pwrite failed");
    done += size_t(n);
  }
  const std::string& path = weights_path();

  resnetrs_options_t options;
  if (resnetrs_options_init(&options) != RESNETRS_STATUS_OK) finding("setup", resnetrs_last_error());
  options.backend = RESNETRS_BACKEND_CPU;
  options.max_batch = 1;
  options.height = options.width = 32;
  resnetrs_engine_t* engine = nullptr;
  const resnetrs_status_t s = resnetrs_engine_create_from_file(path.c_str(), &options, &engine);
  static const bool verbose = std::getenv("RESNETRS_FUZZ_VERBOSE") != nullptr;  // to see what an input does
  if (verbose) std::printf("%s %s\n", resnetrs_status_string(s), s == RESNETRS_STATUS_OK ? "" : resnetrs_last_error()), std::fflush(stdout);
  if (s == RESNETRS_STATUS_OK) {
    if (!engine) finding("OK without an engine", path.c_str());
    resnetrs_engine_destroy(engine);
  } else {
    if (s != RESNETRS_STATUS_WEIGHTS_INVALID && s != RESNETRS_STATUS_IO_ERROR) finding(resnetrs_status_string(s), resnetrs_last_error());
    if (engine) finding("an engine returned with an error", resnetrs_last_error());
    if (!std::strstr(resnetrs_last_error(), path.c_str())) finding("the message does not name the file", resnetrs_last_error());
  }
  if (H5Eget_num(H5E_DEFAULT) != 0) finding("HDF5's error stack is not empty after a load", resnetrs_last_error());
  return 0;
}
