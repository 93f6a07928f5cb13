// run_isolated (common/isolated_call.h): what the child returns, throws or dies of reaches the
// caller as the right outcome, and nothing the child does reaches the caller's process.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/isolated_call.h"

using namespace resnetrs;
using Kind = IsolatedOutcome::Kind;

namespace {

IsolationLimits quick_limits() {
  IsolationLimits l;
  l.timeout_s = 20.0;
  return l;
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = char(rng());
  return s;
}

int g_parent_value = 1;
// Returns, so the faulting instruction runs again: were this handler kept in the child, the child
// would fault forever and end at the timeout, not with SIGSEGV.
void parent_segv_handler(int) {}

}  // namespace

TEST_CASE("isolated: the child's result arrives intact, larger than a pipe's buffer", "[isolated]") {
  for (size_t n : {size_t(0), size_t(1), size_t(65535), size_t(65537), size_t(12) << 20}) {
    INFO("payload of " << n << " bytes");
    const std::string want = random_bytes(n, unsigned(n));
    const IsolatedOutcome o = run_isolated([&] { return want; }, quick_limits());
    REQUIRE(o.kind == Kind::kResult);
    CHECK(o.payload == want);
  }
}

TEST_CASE("isolated: an Error thrown in the child keeps its status and message", "[isolated]") {
  const IsolatedOutcome o = run_isolated([]() -> std::string { throw_error(Status::kWeightsInvalid, "weights file 'x': bad attribute"); },
                                         quick_limits());
  REQUIRE(o.kind == Kind::kError);
  CHECK(o.status == Status::kWeightsInvalid);
  CHECK(o.message == "weights file 'x': bad attribute");
  const IsolatedOutcome other = run_isolated([]() -> std::string { throw std::runtime_error("plain failure"); }, quick_limits());
  REQUIRE(other.kind == Kind::kError);
  CHECK(other.status == Status::kInternal);
  CHECK(other.message == "plain failure");
}

TEST_CASE("isolated: a crash in the child is reported with its signal, even with a handler installed here", "[isolated]") {
  // The application's own SIGSEGV handler (a runtime's or a crash reporter's) must not run in the child.
  struct sigaction sa {}, old {};
  sa.sa_handler = parent_segv_handler;
  sigaction(SIGSEGV, &sa, &old);
  const IsolatedOutcome segv = run_isolated(
      []() -> std::string {
        volatile int* p = nullptr;
        return std::to_string(*p);  // a real fault, not raise()
      },
      quick_limits());
  sigaction(SIGSEGV, &old, nullptr);
  REQUIRE(segv.kind == Kind::kCrashed);
  CHECK(segv.signal == SIGSEGV);
  CHECK(signal_description(segv.signal).find("SIGSEGV") == 0);

  const IsolatedOutcome abrt = run_isolated([]() -> std::string { std::abort(); }, quick_limits());
  REQUIRE(abrt.kind == Kind::kCrashed);
  CHECK(abrt.signal == SIGABRT);
}

TEST_CASE("isolated: a child that never finishes is killed at the timeout", "[isolated]") {
  IsolationLimits l;
  l.timeout_s = 0.5;
  const auto t0 = std::chrono::steady_clock::now();
  const IsolatedOutcome o = run_isolated(
      []() -> std::string {
        while (true) ::pause();
      },
      l);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(o.kind == Kind::kTimedOut);
  CHECK(s >= 0.5);
  CHECK(s < 10.0);
}

TEST_CASE("isolated: the child's memory is capped relative to what it inherits", "[isolated]") {
  IsolationLimits l = quick_limits();
  l.max_extra_memory = size_t(256) << 20;
  // malloc beyond the cap returns null (no overcommit can hide it: the address space itself is capped)...
  const IsolatedOutcome c = run_isolated(
      [] {
        void* p = std::malloc(size_t(1) << 30);
        const bool got = p != nullptr;
        std::free(p);
        return std::string(got ? "allocated" : "refused");
      },
      l);
  REQUIRE(c.kind == Kind::kResult);
  CHECK(c.payload == "refused");
  // ... and what fits is allowed.
  const IsolatedOutcome small = run_isolated([] { return std::string(size_t(64) << 20, 'x').substr(0, 2); }, l);
  REQUIRE(small.kind == Kind::kResult);
  CHECK(small.payload == "xx");
  // std::bad_alloc is its own outcome.
  const IsolatedOutcome cxx = run_isolated([] { return std::string(size_t(1) << 30, 'x'); }, l);
  CHECK(cxx.kind == Kind::kOutOfMemory);
}

TEST_CASE("isolated: too much output or no result is a failure, not a result", "[isolated]") {
  IsolationLimits l = quick_limits();
  l.max_result_bytes = 1 << 20;
  const IsolatedOutcome big = run_isolated([] { return std::string(size_t(2) << 20, 'y'); }, l);
  REQUIRE(big.kind == Kind::kNoResult);
  CHECK(big.message.find("more than 1048576 bytes") != std::string::npos);
  const IsolatedOutcome quit = run_isolated([]() -> std::string { ::_exit(5); }, quick_limits());
  REQUIRE(quit.kind == Kind::kNoResult);
  CHECK(quit.exit_code == 5);
}

TEST_CASE("isolated: what the child writes to memory never reaches the caller", "[isolated]") {
  g_parent_value = 1;
  const IsolatedOutcome o = run_isolated(
      [] {
        g_parent_value = 2;
        return std::to_string(g_parent_value);
      },
      quick_limits());
  REQUIRE(o.kind == Kind::kResult);
  CHECK(o.payload == "2");
  CHECK(g_parent_value == 1);
}

TEST_CASE("isolated: concurrent calls from several threads each get their own result", "[isolated]") {
  std::mutex lock;
  IsolationLimits l = quick_limits();
  l.fork_lock = &lock;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const std::string want = random_bytes(size_t(70000 + 1000 * t + i), unsigned(100 * t + i));
        const IsolatedOutcome o = run_isolated([&] { return want; }, l);
        if (o.kind != Kind::kResult || o.payload != want) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
}

TEST_CASE("isolated: works when the application ignores SIGCHLD (children reaped automatically)", "[isolated]") {
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGCHLD, &ign, &old);
  const IsolatedOutcome o = run_isolated([] { return std::string("fine"); }, quick_limits());
  const IsolatedOutcome crash = run_isolated([]() -> std::string { std::abort(); }, quick_limits());
  sigaction(SIGCHLD, &old, nullptr);
  REQUIRE(o.kind == Kind::kResult);
  CHECK(o.payload == "fine");
  // Its exit status is gone, but it is still no result.
  CHECK((crash.kind == Kind::kNoResult || crash.kind == Kind::kCrashed));
}
