// Runs work in a separate process so that a crash, a hang or a runaway allocation in code the
// project cannot fix (libhdf5 parsing a hostile file, docs/weights-format.md) cannot take the
// calling process with it. The caller starts a small helper program with posix_spawn (no fork():
// no pthread_atfork handler runs in the caller — OpenBLAS's would stop its thread pool under a
// run in another thread — and no page tables are copied); the helper's main calls
// serve_isolated(), which caps its resources, runs the work and writes the bytes it returns (or
// the Error it throws) to stdout. The caller gets a typed outcome and words it for its own domain.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace resnetrs {

struct IsolationLimits {
  double timeout_s = 60.0;                      // wall clock for the whole helper run
  size_t max_result_bytes = size_t(256) << 20;  // more output than this is a failure
};

// The address space a helper may add to what it has at start-up (serve_isolated).
constexpr size_t kIsolatedMemoryCap = size_t(1) << 30;

struct IsolatedOutcome {
  enum class Kind {
    kResult,       // the work returned: `payload` holds its bytes
    kError,        // the work threw resnetrs::Error: `status` and `message`
    kCrashed,      // the helper died from `signal` (SIGSEGV, SIGABRT, ...)
    kTimedOut,     // still running after timeout_s: killed
    kOutOfMemory,  // the work ran out of the memory it was allowed (std::bad_alloc)
    kNoResult,     // the helper exited (code `exit_code`) without a complete result, or sent too much
    kNotIsolated,  // the helper could not be started (`message` says why); nothing ran
  };
  Kind kind = Kind::kNoResult;
  std::string payload;
  Status status = Status::kOk;
  std::string message;
  int signal = 0;
  int exit_code = 0;
};

// Whether posix_spawn itself closes the caller's descriptors in the helper
// (posix_spawn_file_actions_addclosefrom_np, glibc 2.34 and newer); else serve_isolated() does.
// -DRESNETRS_SPAWN_HAS_CLOSEFROM=0 builds the older glibc's path on a newer one (to test it).
#ifndef RESNETRS_SPAWN_HAS_CLOSEFROM
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define RESNETRS_SPAWN_HAS_CLOSEFROM 1
#else
#define RESNETRS_SPAWN_HAS_CLOSEFROM 0
#endif
#endif

// Runs `program` with `args` (no shell; stdin and stderr on /dev/null, stdout to a pipe read here,
// no other descriptor of the caller, close-on-exec or not; the fatal signals at their default
// action; the caller's environment and working directory are inherited) and collects its reply.
IsolatedOutcome run_isolated(const std::string& program, const std::vector<std::string>& args, const IsolationLimits& limits);

// Closes every descriptor from 3 on (what serve_isolated() does first).
void close_inherited_descriptors();

// For a helper's main(): every descriptor from 3 on closed (close_inherited_descriptors), no core files, the address space capped at `max_extra_memory` beyond what
// the process has now, then `work`'s result or error written to stdout as run_isolated expects.
// Returns main's exit code.
int serve_isolated(const std::function<std::string()>& work, size_t max_extra_memory = kIsolatedMemoryCap);

// "SIGSEGV (Segmentation fault)" etc.
std::string signal_description(int signal);

}  // namespace resnetrs
