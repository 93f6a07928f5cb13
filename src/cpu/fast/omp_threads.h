// Scoped OpenMP thread count for the calling thread: oneDNN (built with the OpenMP runtime) and our
// parallel loops then use `threads` threads; the caller's own setting comes back afterwards.
#pragma once

#include <omp.h>

namespace resnetrs::cpu::fast {

class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads) : m_previous(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ScopedOmpThreads() { omp_set_num_threads(m_previous); }
  ScopedOmpThreads(const ScopedOmpThreads&) = delete;
  ScopedOmpThreads& operator=(const ScopedOmpThreads&) = delete;

 private:
  int m_previous;
};

}  // namespace resnetrs::cpu::fast
