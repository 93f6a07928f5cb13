// The manifest the parsing child sends back (io/weights_manifest.h): what is encoded decodes to
// the same values, and bytes that are not a whole manifest are refused with kInternal, never read
// past their end.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "common/error.h"
#include "io/weights_file.h"
#include "io/weights_manifest.h"
#include "io/weights_schema.h"
#include "support/manifest_layout.h"

using namespace resnetrs;

namespace {

WeightsManifest sample_manifest() {
  RawWeights w = synthetic_weights(50, 2, 10);
  WeightsManifest m = testing::laid_out_manifest(w, 2048, [](size_t i, const TensorSlot& s) { return i % 7 == 3 && s.count() <= 1024; });
  m.attrs.checksum = "crc32:89abcdef";
  m.attrs.source = "tf1:gs://bucket/resnet-rs-50-i160";
  m.attrs.train_resolution = 160;
  m.variant.activation = Activation::kSwish;
  m.variant.stride2_padding = Stride2Padding::kSame;
  m.variant.stage1_shortcut_pool = true;
  m.tensors[1].in_file = false;  // a compact dataset with no values at all
  m.tensors[1].values.clear();
  m.tensors[1].offset = m.tensors[1].bytes = 0;
  m.other_datasets = {"/notes", "/stage9/extra"};
  return m;
}

}  // namespace

TEST_CASE("manifest: what is encoded decodes to the same values", "[io][manifest]") {
  const WeightsManifest m = sample_manifest();
  const WeightsManifest d = decode_manifest(encode_manifest(m));
  CHECK(d.attrs.checksum == m.attrs.checksum);
  CHECK(d.attrs.source == m.attrs.source);
  CHECK(d.attrs.depth == 50);
  CHECK(d.attrs.num_classes == 10);
  CHECK(d.attrs.bn_epsilon == m.attrs.bn_epsilon);
  CHECK(d.attrs.input_std == m.attrs.input_std);
  CHECK(d.attrs.train_resolution == 160);
  CHECK(d.variant.activation == Activation::kSwish);
  CHECK(d.variant.stride2_padding == Stride2Padding::kSame);
  CHECK(d.variant.stage1_shortcut_pool);
  REQUIRE(d.tensors.size() == m.tensors.size());
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    INFO(m.tensors[i].path);
    CHECK(d.tensors[i].path == m.tensors[i].path);
    CHECK(d.tensors[i].in_file == m.tensors[i].in_file);
    CHECK(d.tensors[i].offset == m.tensors[i].offset);
    CHECK(d.tensors[i].bytes == m.tensors[i].bytes);
    CHECK(d.tensors[i].values == m.tensors[i].values);
  }
  CHECK(d.other_datasets == m.other_datasets);
  CHECK(encode_manifest(d) == encode_manifest(m));
}

TEST_CASE("manifest: every truncation and a trailing byte are refused", "[io][manifest]") {
  const std::string bytes = encode_manifest(sample_manifest());
  for (size_t n = 0; n < bytes.size(); n += (n < 256 ? 1 : 97)) {
    INFO("first " << n << " of " << bytes.size() << " bytes");
    try {
      decode_manifest(bytes.substr(0, n));
      FAIL("decoded");
    } catch (const Error& e) {
      CHECK(e.status() == Status::kInternal);
    }
  }
  CHECK_THROWS_AS(decode_manifest(bytes + '\0'), Error);
}

TEST_CASE("manifest: counts larger than the input and unknown codes are refused", "[io][manifest]") {
  const std::string good = encode_manifest(sample_manifest());
  // The tensor count follows the fixed part: magic, 2 ints, checksum, ...; find it by encoding a
  // manifest without tensors and patching its count.
  WeightsManifest empty = sample_manifest();
  empty.tensors.clear();
  empty.other_datasets.clear();
  std::string bytes = encode_manifest(empty);
  const size_t count_at = bytes.size() - 16;  // u64 tensor count, u64 dataset count
  for (uint64_t claim : {uint64_t(1) << 40, uint64_t(1000), ~uint64_t(0)}) {
    std::string b = bytes;
    std::memcpy(&b[count_at], &claim, sizeof claim);
    CHECK_THROWS_AS(decode_manifest(b), Error);  // and no allocation of `claim` entries
  }
  std::string bad_magic = good;
  bad_magic[0] ^= 1;
  CHECK_THROWS_AS(decode_manifest(bad_magic), Error);
}
