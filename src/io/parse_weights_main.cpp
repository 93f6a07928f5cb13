// resnetrs-parse-weights FILE: the helper program in which libhdf5 parses a weights file's
// structure (docs/weights-format.md, "How a file is read"). Started by the loader with
// posix_spawn; writes the file's manifest (src/io/weights_manifest.h), or the error, to stdout in
// the form common/isolated_call.h defines. Not meant to be run by hand.
#include <cstdio>

#include "common/isolated_call.h"
#include "io/weights_manifest.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: resnetrs-parse-weights FILE (started by libresnetrs when it loads a weights file)\n");
    return 2;
  }
  const std::string path = argv[1];
  return resnetrs::serve_isolated([&] { return resnetrs::encode_manifest(resnetrs::read_manifest(path)); });
}
