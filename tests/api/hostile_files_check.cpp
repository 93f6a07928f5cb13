// The hostile weights files of tests/data/hostile-weights given to the C API one after the other in
// a fresh process, as an application would: each must be WEIGHTS_INVALID with a message naming the
// file, and the process must go on (parsed in this process, several of them would end it).
//   resnetrs_hostile_files_check DIR MIN_CRASHES
// MIN_CRASHES: how many loads must at least report a libhdf5 crash (3 with libhdf5 1.10, 0 with
// others), so that the files still test what they were kept for. Each parse runs in a fresh helper
// process, where 6 of them fault; parsed in a long-lived process, whether they fault depends on the
// state of libhdf5's heap.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "resnetrs/resnetrs.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DIR MIN_CRASHES\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[1])) {
    if (e.path().extension() == ".h5") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  const int min_crashes = std::atoi(argv[2]);
  int failures = 0, crashes = 0;
  for (const fs::path& f : files) {
    resnetrs_options_t options;
    if (resnetrs_options_init(&options) != RESNETRS_STATUS_OK) return 2;
    options.backend = RESNETRS_BACKEND_CPU;
    options.max_batch = 1;
    options.height = options.width = 32;
    resnetrs_engine_t* engine = nullptr;
    const resnetrs_status_t s = resnetrs_engine_create_from_file(f.c_str(), &options, &engine);
    const std::string message = s == RESNETRS_STATUS_OK ? "" : resnetrs_last_error();
    std::printf("%-28s %s %s\n", f.filename().c_str(), resnetrs_status_string(s), message.c_str());
    const bool ok = s == RESNETRS_STATUS_WEIGHTS_INVALID && engine == nullptr && message.find("'" + f.string() + "'") != std::string::npos;
    if (!ok) {
      std::printf("  FAILED: expected WEIGHTS_INVALID, no engine, a message naming the file\n");
      ++failures;
    }
    if (message.find("libhdf5 crashed") != std::string::npos) ++crashes;
    if (engine) resnetrs_engine_destroy(engine);
  }
  std::printf("%zu files, %d refused as expected, %d with a libhdf5 crash in the parsing process (at least %d expected)\n",
              files.size(), int(files.size()) - failures, crashes, min_crashes);
  if (files.size() < 10) {
    std::printf("FAILED: expected the 10 files of %s\n", argv[1]);
    return 1;
  }
  return failures == 0 && crashes >= min_crashes ? 0 : 1;
}
