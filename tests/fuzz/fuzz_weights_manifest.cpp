// libFuzzer target of decode_manifest (io/weights_manifest.h): the loading process decodes what the
// child that parsed a weights file sent back, and a child whose memory libhdf5 corrupted may send
// anything. Any bytes must decode or throw Error(kInternal); never read outside the input, never
// allocate more than the input can describe. What decodes must encode back to the same bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "io/weights_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const resnetrs::WeightsManifest m = resnetrs::decode_manifest(bytes);
    if (resnetrs::encode_manifest(m) != bytes) {
      std::fprintf(stderr, "fuzz_weights_manifest: decoded bytes do not encode back to themselves\n");
      std::abort();
    }
  } catch (const resnetrs::Error& e) {
    if (e.status() != resnetrs::Status::kInternal) {
      std::fprintf(stderr, "fuzz_weights_manifest: %s: %s\n", resnetrs::status_name(e.status()), e.what());
      std::abort();
    }
  }
  return 0;
}
