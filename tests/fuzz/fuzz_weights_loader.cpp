// libFuzzer targets of the weights loader, built twice from this file (docs/testing.md, "Fuzzing"):
//  - fuzz_weights_loader: the C API as applications call it, which parses the file's HDF5
//    structure in the helper program resnetrs-parse-weights ($RESNETRS_WEIGHTS_PARSER, set by
//    scripts/fuzz). Any bytes must give OK, WEIGHTS_INVALID or IO_ERROR with a message naming the
//    file and no engine on failure; never a crash, a hang (libFuzzer's -timeout), a leak or a
//    sanitizer report in this process. What libhdf5 does in the helper is out of sight (and out of
//    libFuzzer's coverage): this target checks the isolation and everything after it.
//  - fuzz_weights_parse_in_process (FUZZ_PARSE_IN_PROCESS): load_weights parsing in this process,
//    so libFuzzer's coverage guides the mutations through libhdf5 and the project's checks of
//    what it returns. The same contract, plus an empty HDF5 error stack; libhdf5 1.10.8 does crash
//    here on some inputs: scripts/fuzz lists those and fails on any finding in the project's code.
// The bytes go to one file per process in /dev/shm (memory) when it exists, else in the temp
// folder. (Not a memfd: HDF5 cannot resolve /proc/self/fd/N to a real path and refuses to open it.)
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
#if FUZZ_PARSE_IN_PROCESS
#include "common/error.h"
#include "io/weights_file.h"
#endif

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

  static const bool verbose = std::getenv("RESNETRS_FUZZ_VERBOSE") != nullptr;  // to see what an input does
#if FUZZ_PARSE_IN_PROCESS
  const char* status = "OK";
  std::string message;
  try {
    resnetrs::load_weights(path, resnetrs::MetadataParsing::kInProcess);
  } catch (const resnetrs::Error& e) {
    status = resnetrs::status_name(e.status());
    message = e.what();
    if (e.status() != resnetrs::Status::kWeightsInvalid && e.status() != resnetrs::Status::kIoError) finding(status, e.what());
    if (message.find(path) == std::string::npos) finding("the message does not name the file", e.what());
  }
  if (verbose) std::printf("%s %s\n", status, message.c_str()), std::fflush(stdout);
  if (H5Eget_num(H5E_DEFAULT) != 0) finding("HDF5's error stack is not empty after a load", message.c_str());
#else
  resnetrs_options_t options;
  if (resnetrs_options_init(&options) != RESNETRS_STATUS_OK) finding("setup", resnetrs_last_error());
  options.backend = RESNETRS_BACKEND_CPU;
  options.max_batch = 1;
  options.height = options.width = 32;
  resnetrs_engine_t* engine = nullptr;
  const resnetrs_status_t s = resnetrs_engine_create_from_file(path.c_str(), &options, &engine);
  if (verbose) std::printf("%s %s\n", resnetrs_status_string(s), s == RESNETRS_STATUS_OK ? "" : resnetrs_last_error()), std::fflush(stdout);
  if (s == RESNETRS_STATUS_OK) {
    if (!engine) finding("OK without an engine", path.c_str());
    resnetrs_engine_destroy(engine);
  } else {
    if (s != RESNETRS_STATUS_WEIGHTS_INVALID && s != RESNETRS_STATUS_IO_ERROR) finding(resnetrs_status_string(s), resnetrs_last_error());
    if (engine) finding("an engine returned with an error", resnetrs_last_error());
    if (!std::strstr(resnetrs_last_error(), path.c_str())) finding("the message does not name the file", resnetrs_last_error());
  }
  // The parse ran in the helper: this process must not have touched HDF5 at all.
  if (H5Eget_num(H5E_DEFAULT) != 0) finding("HDF5's error stack is not empty after a load", resnetrs_last_error());
#endif
  return 0;
}
