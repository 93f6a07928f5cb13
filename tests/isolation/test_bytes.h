// Deterministic bytes that the isolation test helper sends and the tests recompute to compare.
#pragma once

#include <random>
#include <string>

namespace resnetrs::testing {

inline std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = char(rng());
  return s;
}

}  // namespace resnetrs::testing
