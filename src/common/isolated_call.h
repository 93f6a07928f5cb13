// Runs a function in a forked child process so that a crash, a hang or a runaway allocation in
// code the project cannot fix (libhdf5 parsing a hostile file, docs/weights-format.md) cannot
// take the calling process with it. The child runs `work`, sends back the bytes it returns (or
// the Error it throws) through a pipe and leaves with _exit(); nothing it does to its memory is
// seen by the caller. The caller gets a typed outcome and words it for its own domain.
//
// Constraints on `work`: it runs in a copy of a possibly multi-threaded process where only the
// calling thread exists, so it must not take locks another thread may have held at fork() time
// (our own HDF5 use is serialised by the lock passed in `limits.fork_lock`), must not call back
// into the application (no warn(): a log sink may be Python) and must not touch CUDA.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "common/error.h"

namespace resnetrs {

struct IsolationLimits {
  double timeout_s = 60.0;                      // wall clock for the whole child
  size_t max_extra_memory = size_t(1) << 30;    // address space the child may add to the parent's
  size_t max_result_bytes = size_t(256) << 20;  // more output than this is a failure
  std::mutex* fork_lock = nullptr;              // held across fork() when set
};

struct IsolatedOutcome {
  enum class Kind {
    kResult,      // `work` returned: `payload` holds its bytes
    kError,       // `work` threw resnetrs::Error: `status` and `message`
    kCrashed,     // the child died from `signal` (SIGSEGV, SIGABRT, ...)
    kTimedOut,    // still running after timeout_s: killed
    kOutOfMemory, // `work` ran out of the memory it was allowed (std::bad_alloc)
    kNoResult,    // the child exited (code `exit_code`) without a complete result, or sent too much
    kNotIsolated, // no child could be started (`message` says why: fork() failed); `work` did not run
  };
  Kind kind = Kind::kNoResult;
  std::string payload;
  Status status = Status::kOk;
  std::string message;
  int signal = 0;
  int exit_code = 0;
};

IsolatedOutcome run_isolated(const std::function<std::string()>& work, const IsolationLimits& limits);

// "SIGSEGV (segmentation fault)" etc.
std::string signal_description(int signal);

}  // namespace resnetrs
