// Issue 22: a damaged weights file never changes the result silently. Hundreds of seeded
// mutations of an RS-50 file (tests/api/weights_mutations.h) go through the C API: each one either
// loads and gives logits identical to the original's, bit for bit, or is refused with
// WEIGHTS_INVALID and a valid UTF-8 message naming the file; never another status, a crash or a
// hang. RESNETRS_MUTATIONS (default 200) and RESNETRS_MUTATION_SEED (default 22) choose the run;
// docs/testing.md records a longer one.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "api_test_util.h"
#include "common/utf8_text.h"
#include "io/hdf5_handle.h"
#include "io/weights_file.h"
#include "io/weights_manifest.h"
#include "weights_mutations.h"

using namespace resnetrs::apitest;

namespace {

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Loads `path` into a CPU engine and runs one image; the status, and the logits or the message.
resnetrs_status_t logits_of(const std::string& path, const std::vector<float>& image, std::vector<float>& logits, std::string& message) {
  const resnetrs_options_t o = cpu_options(1);
  resnetrs_engine_t* e = nullptr;
  resnetrs_status_t s = resnetrs_engine_create_from_file(path.c_str(), &o, &e);
  if (s == RESNETRS_STATUS_OK) {
    resnetrs_engine_info_t info{};
    info.struct_size = sizeof(info);
    s = resnetrs_engine_get_info(e, &info);
    if (s == RESNETRS_STATUS_OK) {
      logits.assign(size_t(info.num_classes), 0.0f);
      s = resnetrs_engine_run_host(e, image.data(), 1, logits.data());
    }
  }
  message = s == RESNETRS_STATUS_OK ? "" : resnetrs_last_error();
  resnetrs_engine_destroy(e);
  return s;
}

}  // namespace

TEST_CASE("mutated weights files load with identical logits or are refused with WEIGHTS_INVALID", "[api][weights][mutation]") {
  const uint64_t count = env_number("RESNETRS_MUTATIONS", 200);
  const uint64_t seed = env_number("RESNETRS_MUTATION_SEED", 22);
  TempDir dir("mutation");
  const std::string original = dir.file("original.h5"), copy = dir.file("mutated.h5"), short_file = dir.file("cut.h5");
  resnetrs::save_weights(resnetrs::synthetic_weights(50, 11, 10), original);
  const std::string bytes = read_all(original);
  REQUIRE(bytes.size() > 16384);
  std::ofstream(copy, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  std::vector<std::pair<uint64_t, uint64_t>> data;
  {
    const std::lock_guard<std::mutex> hdf5(resnetrs::hdf5_lock());
    for (const resnetrs::StoredTensor& t : resnetrs::read_manifest(original).tensors) {
      if (t.in_file) data.emplace_back(t.offset, t.bytes);
    }
  }
  const MutationPlanner planner(bytes, data);

  const std::vector<float> image = pixels(image_floats(), 5);
  std::vector<float> reference, logits;
  std::string message;
  REQUIRE(logits_of(original, image, reference, message) == RESNETRS_STATUS_OK);
  // The logits depend on the weights (a test that cannot fail is a defect).
  REQUIRE(reference.size() == 10);
  CHECK(reference[0] != reference[1]);

  uint64_t same = 0, refused = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const Mutation m = planner.make(seed * 1000003u + i);
    INFO("mutation " << i << " (seed " << seed << "): " << m.what);
    const std::string path = planner.apply(copy, short_file, m);
    REQUIRE(!path.empty());
    const resnetrs_status_t s = logits_of(path, image, logits, message);
    if (s == RESNETRS_STATUS_OK) {
      REQUIRE(logits.size() == reference.size());
      CHECK(std::memcmp(logits.data(), reference.data(), logits.size() * sizeof(float)) == 0);
      ++same;
    } else {
      INFO("status " << resnetrs_status_string(s) << ": " << message);
      CHECK(s == RESNETRS_STATUS_WEIGHTS_INVALID);
      CHECK(message.find(path) != std::string::npos);
      CHECK(resnetrs::is_valid_utf8(message));
      ++refused;
    }
    REQUIRE(planner.undo(copy, m));
  }
  std::printf("weights mutations (seed %llu): %llu files, %llu loaded with identical logits, %llu refused with WEIGHTS_INVALID\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(count), static_cast<unsigned long long>(same),
              static_cast<unsigned long long>(refused));
  CHECK(read_all(copy) == bytes);  // every mutation was undone
  CHECK(refused > 0);
}
