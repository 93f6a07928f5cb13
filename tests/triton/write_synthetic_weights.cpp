// write_synthetic_weights OUT.h5 DEPTH SEED: writes the deterministic synthetic weights of
// resnetrs_engine_create_synthetic() to a resnetrs-weights file, so the Triton tests
// (tests/python/test_triton_*.py) serve a real weights file and compare with the C API on it.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "common/error.h"
#include "io/weights_file.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s OUT.h5 DEPTH SEED\n", argv[0]);
    return 2;
  }
  try {
    const int depth = std::atoi(argv[2]);
    const unsigned long long seed = std::strtoull(argv[3], nullptr, 10);
    resnetrs::save_weights(resnetrs::synthetic_weights(depth, seed), argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_synthetic_weights: %s\n", e.what());
    return 1;
  }
  return 0;
}
