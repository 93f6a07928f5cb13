// Format v1.2 (docs/weights-format.md, issue 22): nothing in a weights file that changes the
// result may change silently. The checksum covers the root attributes; every attribute's and
// dataset's datatype is checked exactly before a value is read; messages that quote the file's
// bytes are valid UTF-8; v1.1 and v1.0 files still load, with a warning naming what is not covered.
#include <catch2/catch.hpp>
#include <hdf5.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/utf8_text.h"
#include "io/weights_checksum.h"
#include "unit/weights_test_files.h"

using namespace resnetrs;
using namespace resnetrs::weightstest;

namespace {

// Replaces attribute `name` by one of `file_type` holding `values` given as doubles (converted by
// HDF5 to the file type, which must be a standard one).
void set_attr(const fs::path& p, const char* name, hid_t file_type, const std::vector<double>& values) {
  File f(p);
  H5Adelete(f.id, name);
  hsize_t n = values.size();
  const hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  const hid_t a = H5Acreate2(f.id, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(a >= 0);
  REQUIRE(H5Awrite(a, H5T_NATIVE_DOUBLE, values.data()) >= 0);
  H5Aclose(a);
  H5Sclose(space);
}

// Replaces attribute `name` by one of the type `file_type` whose stored bytes are `bytes` as they
// are (no conversion): how a damaged type message over intact bytes looks.
void set_raw_attr(const fs::path& p, const char* name, hid_t file_type, size_t count, const void* bytes) {
  File f(p);
  H5Adelete(f.id, name);
  hsize_t n = count;
  const hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  const hid_t a = H5Acreate2(f.id, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(a >= 0);
  REQUIRE(H5Awrite(a, file_type, bytes) >= 0);
  H5Aclose(a);
  H5Sclose(space);
}

// A fixed-length string attribute of exactly these bytes (invalid UTF-8 included).
void set_bytes_attr(const fs::path& p, const char* name, const std::string& bytes) { set_string_attr(p, name, bytes); }

// IEEE binary32 little-endian with one field changed by `change`.
struct F32Variant {
  hid_t type;
  explicit F32Variant(void (*change)(hid_t)) : type(H5Tcopy(H5T_IEEE_F32LE)) { change(type); }
  ~F32Variant() { H5Tclose(type); }
};

void expect_checksum_refusal(const fs::path& p) {
  expect_refusal(p, Status::kWeightsInvalid, {"attribute 'checksum'", "root attributes' and the datasets' bytes give", "damaged"});
}

}  // namespace

TEST_CASE("v1.2: the canonical text of the root attributes is the documented one", "[io][integrity]") {
  const RawWeights w = synthetic_weights(50, 7);
  WeightsAttributes a = w.attrs;
  a.format_minor = 2;
  a.train_resolution = 160;
  CHECK(canonical_attributes(a, w.config) ==
        "format=resnetrs-weights\nformat_version=1\nformat_minor=2\ndepth=50\nblocks_per_stage=3,4,6,3\nnum_classes=1000\n"
        "bn_epsilon=0x3ee4fe13ec9bf514\ninput_mean=0x42f7599a,0x42e88f5c,0x42cf0f5c\ninput_std=0x4269947b,0x42647ae1,0x42658000\n"
        "train_resolution=160\nactivation=relu\nstride2_padding=symmetric\nstage1_shortcut_pool=none\n");
  const RawWeights r = load_weights(good_file().string());
  CHECK(r.attrs.format_minor == 2);
}

TEST_CASE("v1.2: a changed root attribute that a reader would accept is refused by the checksum", "[io][integrity]") {
  struct Case {
    const char* file;
    void (*alter)(const fs::path&);
  };
  const Case cases[] = {
      // the case of issue 22: input_std 57.375 -> 57.375904, a valid value
      {"std.h5", [](const fs::path& p) { set_attr(p, "input_std", H5T_IEEE_F32LE, {58.395, 57.12, 57.375904}); }},
      {"mean.h5", [](const fs::path& p) { set_attr(p, "input_mean", H5T_IEEE_F32LE, {123.675, 116.28, 103.5}); }},
      {"eps.h5", [](const fs::path& p) { set_attr(p, "bn_epsilon", H5T_IEEE_F64LE, {1e-5}); }},
      {"res.h5", [](const fs::path& p) { set_int_attr(p, "train_resolution", {224}); }},
      {"act.h5", [](const fs::path& p) { set_string_attr(p, "activation", "swish"); }},
      {"pad.h5", [](const fs::path& p) { set_string_attr(p, "stride2_padding", "same"); }},
      {"pool.h5", [](const fs::path& p) { set_string_attr(p, "stage1_shortcut_pool", "avg2x2_stride1_same"); }},
      {"minor.h5", [](const fs::path& p) { set_int_attr(p, "format_minor", {3}); }},  // a newer minor is read by v1.2's rules
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const fs::path p = copy_of_good(c.file);
    c.alter(p);
    expect_checksum_refusal(p);
  }
  // The same change with the checksum the file now has loads, with the new value: the refusal
  // above came from the checksum, not from the value.
  const fs::path p = copy_of_good("std_restamped.h5");
  set_attr(p, "input_std", H5T_IEEE_F32LE, {58.395, 57.12, 57.375904});
  resnetrs::testing::restamp_checksum(p.string());
  CHECK(load_weights(p.string()).attrs.input_std[2] == 57.375904f);
}

TEST_CASE("v1.1 and v1.0 files load with a warning naming what their checksum does not cover", "[io][integrity]") {
  const fs::path p = copy_of_good("v11.h5");
  set_int_attr(p, "format_minor", {1});
  resnetrs::testing::restamp_checksum(p.string());  // by v1.1's rule: the datasets only
  {
    const CapturedWarnings warnings;
    const RawWeights w = load_weights(p.string());
    CHECK(w.attrs.format_minor == 1);
    REQUIRE(warnings.list.size() == 1);
    for (const char* part : {"format v1.1", "covers the datasets only", "input_std", "bn_epsilon", "train_resolution", "activation", "v1.2"}) {
      CHECK_THAT(warnings.list[0], Catch::Contains(part));
    }
  }
  // A v1.1 file's attributes are not covered: input_std changes with a warning, not silently.
  set_attr(p, "input_std", H5T_IEEE_F32LE, {58.395, 57.12, 57.375904});
  {
    const CapturedWarnings warnings;
    CHECK(load_weights(p.string()).attrs.input_std[2] == 57.375904f);
    CHECK(warnings.list.size() == 1);
  }
  // A file without format_minor (read as v1.0) that has a checksum lost its format_minor.
  const fs::path m0 = copy_of_good("lost_minor.h5");
  {
    File f(m0);
    REQUIRE(H5Adelete(f.id, "format_minor") >= 0);
  }
  expect_refusal(m0, Status::kWeightsInvalid, {"attribute 'format_minor'", "missing", "'checksum'", "damaged"});
}

TEST_CASE("every attribute's datatype is checked exactly before its value is read", "[io][integrity]") {
  const float std3[3] = {58.395f, 57.12f, 57.375f};
  struct Case {
    const char* file;
    void (*alter)(const fs::path&);
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"std_be.h5", [](const fs::path& p) { set_attr(p, "input_std", H5T_IEEE_F32BE, {58.395, 57.12, 57.375}); },
       {"attribute 'input_std'", "expected float32 (IEEE binary32, little-endian)", "big-endian"}},
      {"std_f64.h5", [](const fs::path& p) { set_attr(p, "input_std", H5T_IEEE_F64LE, {58.395, 57.12, 57.375}); },
       {"attribute 'input_std'", "expected float32", "a float of 8 bytes"}},
      {"eps_f32.h5", [](const fs::path& p) { set_attr(p, "bn_epsilon", H5T_IEEE_F32LE, {1.001e-5}); },
       {"attribute 'bn_epsilon'", "expected float64 (IEEE binary64, little-endian)", "a float of 4 bytes"}},
      {"depth_i64.h5", [](const fs::path& p) { set_attr(p, "depth", H5T_STD_I64LE, {50}); },
       {"attribute 'depth'", "expected int32 (two's complement, little-endian)", "signed integer of 8 bytes"}},
      {"depth_u32.h5", [](const fs::path& p) { set_attr(p, "depth", H5T_STD_U32LE, {50}); },
       {"attribute 'depth'", "expected int32", "an unsigned integer of 4 bytes"}},
      {"res_be.h5", [](const fs::path& p) { set_attr(p, "train_resolution", H5T_STD_I32BE, {0}); },
       {"attribute 'train_resolution'", "expected int32", "big-endian"}},
      {"classes_float.h5", [](const fs::path& p) { set_attr(p, "num_classes", H5T_IEEE_F32LE, {1000}); },
       {"attribute 'num_classes'", "expected int32", "a float of 4 bytes"}},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const fs::path p = copy_of_good(c.file);
    c.alter(p);
    expect_refusal(p, Status::kWeightsInvalid, c.fragments);
  }
  // A float type message with a changed field over the same bytes (the damage of issue 22 that
  // libhdf5 1.10.8 reads as other values): bias, exponent position, mantissa size.
  struct FieldCase {
    const char* file;
    void (*change)(hid_t);
    const char* fragment;
  };
  const FieldCase fields[] = {
      {"bias.h5", [](hid_t t) { H5Tset_ebias(t, 120); }, "with bias 120"},
      {"epos.h5", [](hid_t t) { H5Tset_fields(t, 31, 22, 8, 0, 22); }, "exponent of 8 bits at bit 22"},
      {"norm.h5", [](hid_t t) { H5Tset_norm(t, H5T_NORM_NONE); }, "unnormalized"},
  };
  for (const FieldCase& c : fields) {
    INFO(c.file);
    const fs::path p = copy_of_good(c.file);
    const F32Variant type(c.change);
    set_raw_attr(p, "input_std", type.type, 3, std3);
    expect_refusal(p, Status::kWeightsInvalid, {"attribute 'input_std'", "expected float32 (IEEE binary32, little-endian)", c.fragment});
  }
}

TEST_CASE("every dataset's float32 layout is checked exactly", "[io][integrity]") {
  const fs::path p = copy_of_good("dataset_bias.h5");
  const F32Variant type([](hid_t t) { H5Tset_ebias(t, 100); });
  {
    File f(p);
    const char* path = "/stem/conv1/bn/gamma";
    REQUIRE(H5Ldelete(f.id, path, H5P_DEFAULT) >= 0);
    hsize_t n = 32;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(f.id, path, type.type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(d >= 0);
    const std::vector<float> ones(32, 1.0f);
    REQUIRE(H5Dwrite(d, type.type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ones.data()) >= 0);
    H5Dclose(d);
    H5Sclose(space);
  }
  expect_refusal(p, Status::kWeightsInvalid, {"dataset '/stem/conv1/bn/gamma'", "expected dtype float32 (IEEE, little-endian)", "with bias 100"});
}

TEST_CASE("messages that quote the file's bytes are valid UTF-8", "[io][integrity]") {
  struct Case {
    const char* file;
    const char* attr;
    std::string value;
    std::vector<std::string> fragments;
  };
  const Case cases[] = {
      {"act_bytes.h5", "activation", "re\xfflu\n", {"attribute 'activation'", "expected UTF-8 text", "of 're\\xFFlu\\x0A'"}},
      {"act_control.h5", "activation", "gelu\n\\", {"attribute 'activation'", "found 'gelu\\x0A\\x5C'"}},
      {"format_bytes.h5", "format", "resnetrs-\xc3", {"attribute 'format'", "expected UTF-8 text", "the byte \\xC3 at offset 9"}},
      {"source_bytes.h5", "source", "synthetic:\xed\xa0\x80", {"attribute 'source'", "expected UTF-8 text", "'synthetic:\\xED\\xA0\\x80'"}},
      {"checksum_bytes.h5", "checksum", "crc32:\x80\x81", {"attribute 'checksum'", "expected UTF-8 text"}},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const fs::path p = copy_of_good(c.file);
    set_bytes_attr(p, c.attr, c.value);
    expect_refusal(p, Status::kWeightsInvalid, c.fragments);
    try {
      load_weights(p.string());
    } catch (const Error& e) {
      CHECK(is_valid_utf8(e.what()));
    }
  }
  // A dataset the format does not define, named with bytes that are not UTF-8: the warning escapes them.
  const fs::path p = copy_of_good("extra_name.h5");
  replace_dataset(p, "/extra\xff\xfe", H5T_IEEE_F32LE, {2}, {1.0, 2.0});
  const CapturedWarnings warnings;
  load_weights(p.string());
  REQUIRE(warnings.list.size() == 1);
  CHECK_THAT(warnings.list[0], Catch::Contains("'/extra\\xFF\\xFE'"));
  CHECK(is_valid_utf8(warnings.list[0]));
}
