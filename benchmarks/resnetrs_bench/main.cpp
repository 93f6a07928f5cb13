// resnetrs-bench: a trtexec-style benchmark of libresnetrs through its public C API, and the
// `infer` subcommand. Exit status: 0 success, 1 a failure (library error, a config that did not
// run), 2 bad or missing flags (with the usage).
#include <cstdio>
#include <cstring>

#include "api_check.h"
#include "args.h"
#include "bench.h"
#include "infer.h"
#include "npy_io.h"

int main(int argc, char** argv) {
  using namespace bench;
  try {
    if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
      std::printf("%s", kUsage);
      return 0;
    }
    if (argc >= 2 && !std::strcmp(argv[1], "infer")) return run_infer(parse_infer_args(argc, argv, 2));
    return run_bench(parse_bench_args(argc, argv, 1));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "resnetrs-bench: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const ApiError& e) {
    std::fprintf(stderr, "resnetrs-bench: error (%s): %s\n", resnetrs_status_string(e.status), e.what());
    return 1;
  } catch (const NpyError& e) {
    std::fprintf(stderr, "resnetrs-bench: error (%s): %s\n", e.status.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resnetrs-bench: error: %s\n", e.what());
    return 1;
  }
}
