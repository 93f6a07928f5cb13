// run_isolated / serve_isolated (common/isolated_call.h): what the helper returns, throws or dies
// of reaches the caller as the right outcome, and nothing the helper does reaches the caller.
// The helper is tests/isolation/isolated_test_child.cpp.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/isolated_call.h"
#include "isolation/test_bytes.h"

using namespace resnetrs;
using Kind = IsolatedOutcome::Kind;
using resnetrs::testing::random_bytes;

namespace {

IsolatedOutcome child(std::vector<std::string> args, double timeout_s = 30.0, size_t max_result = size_t(256) << 20) {
  IsolationLimits l;
  l.timeout_s = timeout_s;
  l.max_result_bytes = max_result;
  return run_isolated(RESNETRS_ISOLATED_TEST_CHILD, args, l);
}

}  // namespace

TEST_CASE("isolated: the helper's result arrives intact, larger than a pipe's buffer", "[isolated]") {
  for (size_t n : {size_t(0), size_t(1), size_t(65535), size_t(65537), size_t(12) << 20}) {
    INFO("payload of " << n << " bytes");
    const IsolatedOutcome o = child({"bytes", std::to_string(n)});
    REQUIRE(o.kind == Kind::kResult);
    CHECK(o.payload == random_bytes(n, unsigned(n)));
  }
}

TEST_CASE("isolated: an Error thrown in the helper keeps its status and message", "[isolated]") {
  const IsolatedOutcome o = child({"error"});
  REQUIRE(o.kind == Kind::kError);
  CHECK(o.status == Status::kWeightsInvalid);
  CHECK(o.message == "weights file 'x': bad attribute");
  const IsolatedOutcome other = child({"exception"});
  REQUIRE(other.kind == Kind::kError);
  CHECK(other.status == Status::kInternal);
  CHECK(other.message == "plain failure");
}

TEST_CASE("isolated: a crash is reported with its signal, even where the caller ignores it", "[isolated]") {
  // An application that ignores SIGSEGV/SIGABRT must not make the helper survive a fault.
  struct sigaction ign {}, old_segv {}, old_abrt {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGSEGV, &ign, &old_segv);
  sigaction(SIGABRT, &ign, &old_abrt);
  const IsolatedOutcome segv = child({"segv"}, 10.0);
  const IsolatedOutcome abrt = child({"abort"}, 10.0);
  sigaction(SIGSEGV, &old_segv, nullptr);
  sigaction(SIGABRT, &old_abrt, nullptr);
  REQUIRE(segv.kind == Kind::kCrashed);
  CHECK(segv.signal == SIGSEGV);
  CHECK(signal_description(segv.signal).find("SIGSEGV") == 0);
  REQUIRE(abrt.kind == Kind::kCrashed);
  CHECK(abrt.signal == SIGABRT);
}

TEST_CASE("isolated: a helper that never finishes is killed at the timeout", "[isolated]") {
  const auto t0 = std::chrono::steady_clock::now();
  const IsolatedOutcome o = child({"loop"}, 0.5);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(o.kind == Kind::kTimedOut);
  CHECK(s >= 0.5);
  CHECK(s < 10.0);
}

TEST_CASE("isolated: the helper's memory is capped", "[isolated]") {
  // malloc beyond the cap returns null (no overcommit can hide it: the address space itself is capped)...
  const IsolatedOutcome c = child({"malloc", "0", "256"});
  REQUIRE(c.kind == Kind::kResult);
  CHECK(c.payload == "refused");
  // ... what fits is allowed, and std::bad_alloc is its own outcome.
  const IsolatedOutcome small = child({"alloc", "64", "256"});
  REQUIRE(small.kind == Kind::kResult);
  CHECK(small.payload == "xx");
  CHECK(child({"alloc", "1024", "256"}).kind == Kind::kOutOfMemory);
}

TEST_CASE("isolated: too much output, no result or no helper is a failure, not a result", "[isolated]") {
  const IsolatedOutcome big = child({"bytes", std::to_string(2 << 20)}, 30.0, 1 << 20);
  REQUIRE(big.kind == Kind::kNoResult);
  CHECK(big.message.find("more than 1048576 bytes") != std::string::npos);
  const IsolatedOutcome quit = child({"exit5"});
  REQUIRE(quit.kind == Kind::kNoResult);
  CHECK(quit.exit_code == 5);
  const IsolatedOutcome none = run_isolated("/nonexistent/resnetrs-helper", {}, IsolationLimits{});
  REQUIRE(none.kind == Kind::kNotIsolated);
  CHECK(none.message.find("cannot start '/nonexistent/resnetrs-helper'") != std::string::npos);
  // Its stderr goes nowhere, its result still arrives.
  const IsolatedOutcome quiet = child({"stderr"});
  REQUIRE(quiet.kind == Kind::kResult);
  CHECK(quiet.payload == "quiet");
}

TEST_CASE("isolated: concurrent calls from several threads each get their own result", "[isolated]") {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 6; ++i) {
        const size_t n = size_t(70000 + 1000 * t + i);
        const IsolatedOutcome o = child({"bytes", std::to_string(n)});
        if (o.kind != Kind::kResult || o.payload != random_bytes(n, unsigned(n))) ++wrong;
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
  const IsolatedOutcome o = child({"bytes", "100"});
  const IsolatedOutcome crash = child({"abort"});
  sigaction(SIGCHLD, &old, nullptr);
  REQUIRE(o.kind == Kind::kResult);
  CHECK(o.payload == random_bytes(100, 100));
  // Its exit status is gone, but it is still no result.
  CHECK((crash.kind == Kind::kNoResult || crash.kind == Kind::kCrashed));
}

namespace {

// The descriptor numbers of a "0=/dev/null 1=pipe:[5] " list.
std::vector<int> fd_numbers(const std::string& list) {
  std::vector<int> fds;
  size_t pos = 0;
  while (pos < list.size()) {
    const size_t end = list.find(' ', pos);
    const std::string item = list.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (!item.empty()) fds.push_back(std::stoi(item.substr(0, item.find('='))));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return fds;
}

std::string line_after(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return "missing";
  const size_t begin = at + label.size(), end = text.find('\n', begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

}  // namespace

TEST_CASE("isolated: the helper inherits no descriptor of the caller, close-on-exec or not", "[isolated]") {
  // Descriptors a server would hold: a file, a pipe, a socket pair, none of them close-on-exec.
  const std::string marker = (std::filesystem::temp_directory_path() / ("resnetrs_fd_marker_" + std::to_string(::getpid()))).string();
  const int file = ::open(marker.c_str(), O_RDWR | O_CREAT, 0600);
  int pipe_fds[2] = {-1, -1}, sock[2] = {-1, -1};
  REQUIRE(file >= 0);
  REQUIRE(::pipe(pipe_fds) == 0);
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sock) == 0);
  const std::vector<int> ours = {file, pipe_fds[0], pipe_fds[1], sock[0], sock[1]};
  for (int fd : ours) REQUIRE((::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0);

  const IsolatedOutcome o = child({"fds"});
  const IsolatedOutcome own = child({"fds-own"});
  for (int fd : ours) ::close(fd);
  ::unlink(marker.c_str());
  REQUIRE(o.kind == Kind::kResult);
  REQUIRE(own.kind == Kind::kResult);
  INFO("helper: " << o.payload << "\nhelper that opened its own: " << own.payload);
  // While it works: stdin and stderr on /dev/null, stdout its reply pipe, nothing else.
  const std::string work = line_after(o.payload, "work: ");
  CHECK(fd_numbers(work) == std::vector<int>{0, 1, 2});
  CHECK(work.find("0=/dev/null") != std::string::npos);
  CHECK(work.find("1=pipe:") != std::string::npos);
  CHECK(work.find("2=/dev/null") != std::string::npos);
  CHECK(work.find(marker) == std::string::npos);
  CHECK(work.find("socket:") == std::string::npos);
  // serve_isolated() closes what the helper holds beyond them (the path of glibc before 2.34)...
  CHECK(fd_numbers(line_after(own.payload, "work: ")) == std::vector<int>{0, 1, 2});
#if RESNETRS_SPAWN_HAS_CLOSEFROM
  // ...and where glibc has posix_spawn_file_actions_addclosefrom_np, none reaches its main() at all.
  CHECK(fd_numbers(line_after(o.payload, "start: ")) == std::vector<int>{0, 1, 2});
#endif
}
