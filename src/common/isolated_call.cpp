#include "common/isolated_call.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "common/byte_codec.h"

extern char** environ;

namespace resnetrs {
namespace {

// The helper's reply: u64 length, then 'R' + payload, 'E' + u32 status + message, or 'M'.
constexpr char kTagResult = 'R', kTagError = 'E', kTagOutOfMemory = 'M';

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the caller gave up (timeout, too much output): nothing left to do
    p += w;
    n -= size_t(w);
  }
}

// Virtual memory of this process in bytes (the first field of /proc/self/statm, in pages); 0 if unknown.
size_t current_address_space() {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[64] = {};
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  return size_t(std::strtoull(buf, nullptr, 10)) * size_t(::sysconf(_SC_PAGESIZE));
}

struct ChildExit {
  bool known = false;  // false when someone else reaped it (SIGCHLD ignored by the application)
  int status = 0;
};

ChildExit wait_child(pid_t pid) {
  ChildExit e;
  while (true) {
    const pid_t r = ::waitpid(pid, &e.status, 0);
    if (r == pid) {
      e.known = true;
      return e;
    }
    if (r < 0 && errno == EINTR) continue;
    return e;
  }
}

// Closes every descriptor >= `first`: close_range() where the kernel has it (Linux 5.9), else
// each one /proc/self/fd lists, else every number below the descriptor limit.
void close_descriptors_from(int first) {
#if defined(SYS_close_range)
  if (::syscall(SYS_close_range, unsigned(first), ~0U, 0U) == 0) return;
#endif
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    std::vector<int> open_fds;
    const int own = ::dirfd(dir);
    while (const dirent* e = ::readdir(dir)) {
      char* end = nullptr;
      const long fd = std::strtol(e->d_name, &end, 10);
      if (end != e->d_name && *end == '\0' && fd >= first && fd != own) open_fds.push_back(int(fd));
    }
    ::closedir(dir);
    for (int fd : open_fds) ::close(fd);
    return;
  }
  rlimit nofile{};
  const rlim_t limit = ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY ? nofile.rlim_cur : 65536;
  for (rlim_t fd = rlim_t(first); fd < std::min<rlim_t>(limit, 1 << 20); ++fd) ::close(int(fd));
}

IsolatedOutcome decode_reply(std::string reply) {
  IsolatedOutcome o;
  const char tag = reply.empty() ? '\0' : reply[0];
  if (tag == kTagResult) {
    o.kind = IsolatedOutcome::Kind::kResult;
    o.payload = reply.substr(1);
  } else if (tag == kTagOutOfMemory) {
    o.kind = IsolatedOutcome::Kind::kOutOfMemory;
  } else if (tag == kTagError && reply.size() >= 1 + sizeof(uint32_t)) {
    uint32_t status = 0;
    std::memcpy(&status, reply.data() + 1, sizeof status);
    o.kind = IsolatedOutcome::Kind::kError;
    o.status = status <= uint32_t(Status::kImageInvalid) && status != 0 ? Status(status) : Status::kInternal;
    o.message = reply.substr(1 + sizeof status);
  } else {
    o.kind = IsolatedOutcome::Kind::kNoResult;
    o.message = "malformed reply";
  }
  return o;
}

}  // namespace

void close_inherited_descriptors() { close_descriptors_from(STDERR_FILENO + 1); }

int serve_isolated(const std::function<std::string()>& work, size_t max_extra_memory) {
  // Where the spawn could not close them (glibc before 2.34), the caller's descriptors end here,
  // before any work: the helper keeps stdin, its reply pipe and stderr only.
  close_inherited_descriptors();
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  // Relative to what the process already maps (a sanitizer build reserves terabytes it never touches).
  if (const size_t vm = current_address_space()) {
    rlimit as{};
    ::getrlimit(RLIMIT_AS, &as);
    const rlim_t cap = rlim_t(vm + max_extra_memory);
    if (as.rlim_cur == RLIM_INFINITY || as.rlim_cur > cap) {
      as.rlim_cur = cap;
      ::setrlimit(RLIMIT_AS, &as);
    }
  }
  std::string reply;
  try {
    reply = kTagResult + work();
  } catch (const Error& e) {
    ByteWriter w;
    w.put<char>(kTagError);
    w.put<uint32_t>(uint32_t(e.status()));
    w.append(e.what(), std::strlen(e.what()));
    reply = w.take();
  } catch (const std::bad_alloc&) {
    reply = std::string(1, kTagOutOfMemory);
  } catch (const std::exception& e) {
    ByteWriter w;
    w.put<char>(kTagError);
    w.put<uint32_t>(uint32_t(Status::kInternal));
    w.append(e.what(), std::strlen(e.what()));
    reply = w.take();
  } catch (...) {
    return 3;  // no result: the caller reports an exit without a result
  }
  const uint64_t n = reply.size();
  write_all(STDOUT_FILENO, reinterpret_cast<const char*>(&n), sizeof n);
  write_all(STDOUT_FILENO, reply.data(), reply.size());
  return 0;
}

IsolatedOutcome run_isolated(const std::string& program, const std::vector<std::string>& args, const IsolationLimits& limits) {
  using Clock = std::chrono::steady_clock;
  IsolatedOutcome o;
  int fds[2];
  // O_CLOEXEC: a helper started by another thread at the same time never holds this pipe open.
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    o.kind = IsolatedOutcome::Kind::kNotIsolated;
    o.message = std::string("pipe() failed: ") + std::strerror(errno);
    return o;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  // What a crashing library prints ("malloc(): corrupted top size") would reach the application's
  // stderr for a failure the caller already reports.
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  // The helper inherits no descriptor of the caller (a server's sockets and files would stay open
  // in it for the length of a parse): stdin is /dev/null, and everything from 3 on is closed at
  // the spawn where glibc can (2.34 and newer), else by serve_isolated() before any work.
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
#if RESNETRS_SPAWN_HAS_CLOSEFROM
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
#endif
  posix_spawnattr_init(&attr);
  sigset_t none, fatal;
  sigemptyset(&none);
  sigemptyset(&fatal);
  // An application that ignores one of these must not make the helper survive a fault in a bad state.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, SIGPIPE}) sigaddset(&fatal, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &fatal);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  // The caller's environment: HDF5 reads its own variables (HDF5_USE_FILE_LOCKING on NFS, ...).
  const int spawn_error = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (spawn_error != 0) {
    ::close(fds[0]);
    o.kind = IsolatedOutcome::Kind::kNotIsolated;
    o.message = "cannot start '" + program + "': " + std::strerror(spawn_error);
    return o;
  }

  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.timeout_s));
  std::string buf;
  uint64_t expected = 0;
  bool have_length = false, timed_out = false, too_much = false;
  char chunk[65536];
  while (!(have_length && buf.size() >= expected)) {
    // Rounded up: truncating would end the wait up to a millisecond before the deadline.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int pr = ::poll(&p, 1, int(std::min<long long>(left, 1 << 30)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue;  // the deadline check above ends the loop
    const ssize_t n = pr < 0 ? -1 : ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file: the helper is gone
    buf.append(chunk, size_t(n));
    if (!have_length && buf.size() >= sizeof expected) {
      std::memcpy(&expected, buf.data(), sizeof expected);
      have_length = true;
      if (expected > limits.max_result_bytes) {
        too_much = true;
        break;
      }
      expected += sizeof expected;
    }
  }
  ::close(fds[0]);
  if (timed_out || too_much) ::kill(pid, SIGKILL);
  const ChildExit ended = wait_child(pid);

  if (timed_out) {
    o.kind = IsolatedOutcome::Kind::kTimedOut;
    return o;
  }
  if (!too_much && have_length && buf.size() == expected) return decode_reply(buf.substr(sizeof expected));
  if (ended.known && WIFSIGNALED(ended.status) && !too_much) {
    o.kind = IsolatedOutcome::Kind::kCrashed;
    o.signal = WTERMSIG(ended.status);
    return o;
  }
  o.kind = IsolatedOutcome::Kind::kNoResult;
  if (ended.known && WIFEXITED(ended.status)) o.exit_code = WEXITSTATUS(ended.status);
  o.message = too_much ? "it sent more than " + std::to_string(limits.max_result_bytes) + " bytes"
                       : ended.known ? "it exited with code " + std::to_string(o.exit_code) + " without a complete result"
                                    : "it ended without a complete result";
  return o;
}

std::string signal_description(int signal) {
  // sigabbrev_np() needs glibc 2.32; the names of the signals a crash ends with are enough.
  static const std::pair<int, const char*> kNames[] = {{SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGFPE, "SIGFPE"},
                                                       {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGTRAP, "SIGTRAP"},
                                                       {SIGSYS, "SIGSYS"},   {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"},
                                                       {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}};
  std::string s = "signal " + std::to_string(signal);
  for (const auto& [number, name] : kNames) {
    if (number == signal) s = name;
  }
  if (const char* what = ::strsignal(signal)) s += std::string(" (") + what + ")";
  return s;
}

}  // namespace resnetrs
