// Bad weights files through the C API: each gives the documented status and a message that names
// the file and, for a bad tensor, the dataset. The files are written with the project's own
// writer (save_weights) and then altered with the HDF5 C API.
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include "api_test_util.h"
#include "common/utf8_text.h"
#include "io/weights_file.h"
#include "support/weights_restamp.h"

using namespace resnetrs::apitest;

namespace {

// A valid RS-50 file with 10 classes (smaller than 1000), written once per test process into a
// folder that lives as long as the process.
const std::string& valid_file() {
  static const TempDir dir("valid");
  static const std::string path = [] {
    const std::string p = dir.file("valid.h5");
    resnetrs::save_weights(resnetrs::synthetic_weights(50, 3, 10), p);
    return p;
  }();
  return path;
}

// A copy of the valid file that `alter` then edits in place through an open HDF5 file id. With
// `restamp`, the checksum the altered data has is stamped, so the case tests the check it
// targets (a NaN, ...) and not the checksum.
template <typename Alter>
std::string altered_copy(const TempDir& dir, const std::string& name, Alter alter, bool restamp = false) {
  const std::string p = dir.file(name);
  std::filesystem::copy_file(valid_file(), p, std::filesystem::copy_options::overwrite_existing);
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  alter(f);
  REQUIRE(H5Fclose(f) >= 0);
  if (restamp) resnetrs::testing::restamp_checksum(p);
  return p;
}

// Replaces a dataset by one of another shape or type.
void replace_dataset(hid_t f, const char* path, std::vector<hsize_t> dims, hid_t type) {
  REQUIRE(H5Ldelete(f, path, H5P_DEFAULT) >= 0);
  const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  const hid_t ds = H5Dcreate2(f, path, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(ds >= 0);
  size_t n = 1;
  for (hsize_t d : dims) n *= size_t(d);
  std::vector<double> zeros(n, 0.0);
  REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()) >= 0);
  H5Dclose(ds);
  H5Sclose(space);
}

resnetrs_status_t create_from(const std::string& path, resnetrs_engine_t** e) {
  const resnetrs_options_t o = cpu_options(1);
  return resnetrs_engine_create_from_file(path.c_str(), &o, e);
}

}  // namespace

TEST_CASE("a missing file is IO_ERROR naming the path", "[api][weights][leak]") {
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(create_from("/nonexistent/dir/rs50.h5", &e), RESNETRS_STATUS_IO_ERROR, "/nonexistent/dir/rs50.h5");
  CHECK(e == nullptr);
  CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("resnetrs_engine_create_from_file"));
}

TEST_CASE("a file that is not HDF5 is WEIGHTS_INVALID", "[api][weights][leak]") {
  TempDir dir("nothdf5");
  const std::string p = dir.file("not_hdf5.h5");
  std::ofstream(p) << "this is a text file, not HDF5\n";
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "not an HDF5 file");
  CHECK(e == nullptr);
  const std::string empty = dir.file("empty.h5");
  std::ofstream{empty};
  CHECK_FAILS_WITH(create_from(empty, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "not an HDF5 file");
}

TEST_CASE("a directory is IO_ERROR naming the path", "[api][weights][leak]") {
  TempDir dir("dirpath");
  const std::string p = dir.file("weights_dir.h5");
  std::filesystem::create_directory(p);
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_IO_ERROR, p);
  CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("is a directory"));
  CHECK(e == nullptr);
}

TEST_CASE("a file one byte short is WEIGHTS_INVALID saying truncated", "[api][weights][leak]") {
  TempDir dir("truncated");
  // A small HDF5 file (a full weights file would take minutes under valgrind): HDF5 detects the
  // truncation against the size its superblock records, whatever the content.
  const std::string p = dir.file("short.h5");
  {
    const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(f >= 0);
    const hsize_t n = 1000;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t ds = H5Dcreate2(f, "/stem", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    std::vector<float> v(n, 0.5f);
    REQUIRE(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
    H5Dclose(ds);
    H5Sclose(space);
    REQUIRE(H5Fclose(f) >= 0);
  }
  std::filesystem::resize_file(p, std::filesystem::file_size(p) - 1);
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, p);
  CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("truncated or damaged"));
  CHECK(e == nullptr);
}

TEST_CASE("weights that fold into overflow are WEIGHTS_INVALID, not NaN logits", "[api][weights]") {
  TempDir dir("foldover");
  resnetrs::RawWeights w = resnetrs::synthetic_weights(50, 3, 10);
  w.attrs.bn_epsilon = 1e-12;
  w.stem[2].bn.moving_variance[4] = 0.0f;
  w.stem[2].bn.gamma[4] = 1e6f;
  w.stem[2].kernel[4 * 32 * 9] = 1e6f;
  const std::string p = dir.file("foldover.h5");
  resnetrs::save_weights(w, p);  // every value is in range on its own
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "/stem/conv3");
  CHECK(e == nullptr);
}

TEST_CASE("altered weights files are WEIGHTS_INVALID naming the dataset", "[api][weights]") {
  TempDir dir("altered");
  resnetrs_engine_t* e = nullptr;

  SECTION("the valid file loads") {
    REQUIRE(create_from(valid_file(), &e) == RESNETRS_STATUS_OK);
    resnetrs_engine_info_t info{};
    info.struct_size = sizeof(info);
    REQUIRE(resnetrs_engine_get_info(e, &info) == RESNETRS_STATUS_OK);
    CHECK(info.depth == 50);
    CHECK(info.num_classes == 10);
    resnetrs_engine_destroy(e);
  }
  SECTION("wrong shape") {
    const std::string p = altered_copy(dir, "shape.h5", [](hid_t f) {
      replace_dataset(f, "/stage1/block0/conv1/kernel", {32, 64, 1, 1}, H5T_IEEE_F32LE);
    });
    CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "/stage1/block0/conv1/kernel");
    CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("expected shape [64,64,1,1]") &&
                                                       Catch::Matchers::Contains("found [32,64,1,1]"));
    CHECK(e == nullptr);
  }
  SECTION("wrong dtype") {
    const std::string p = altered_copy(dir, "dtype.h5", [](hid_t f) {
      replace_dataset(f, "/head/dense/bias", {10}, H5T_IEEE_F64LE);
    });
    CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "/head/dense/bias");
    CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("float64"));
  }
  SECTION("missing dataset") {
    const std::string p = altered_copy(dir, "missing.h5", [](hid_t f) {
      REQUIRE(H5Ldelete(f, "/stage3/block2/se/expand/bias", H5P_DEFAULT) >= 0);
    });
    CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "/stage3/block2/se/expand/bias");
    CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("missing"));
  }
  SECTION("a NaN value") {
    const std::string p = altered_copy(dir, "nan.h5", [](hid_t f) {
      const hid_t ds = H5Dopen2(f, "/stem/conv2/bn/gamma", H5P_DEFAULT);
      REQUIRE(ds >= 0);
      std::vector<float> v(32, 1.0f);
      v[5] = std::numeric_limits<float>::quiet_NaN();
      REQUIRE(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
      H5Dclose(ds);
    }, true);
    CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "/stem/conv2/bn/gamma");
  }
  SECTION("an unknown depth attribute") {
    const std::string p = altered_copy(dir, "depth.h5", [](hid_t f) {
      const hid_t a = H5Aopen(f, "depth", H5P_DEFAULT);
      REQUIRE(a >= 0);
      const int depth = 51;
      REQUIRE(H5Awrite(a, H5T_NATIVE_INT, &depth) >= 0);
      H5Aclose(a);
    });
    CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "depth");
    CHECK_THAT(std::string(resnetrs_last_error()), Catch::Matchers::Contains("51"));
  }
}

// ---- resnetrs_weights_read_info (API version 3) ----

TEST_CASE("weights info: what the file says, without an engine", "[api][weights]") {
  resnetrs_weights_info_t info{};
  info.struct_size = sizeof(info);
  REQUIRE(resnetrs_weights_read_info(valid_file().c_str(), &info) == RESNETRS_STATUS_OK);
  CHECK(std::string(resnetrs_last_error()).empty());
  CHECK(info.struct_size == sizeof(info));
  CHECK(info.format_version == 1);
  CHECK(info.format_minor == 2);
  CHECK(info.depth == 50);
  CHECK((info.blocks_per_stage[0] == 3 && info.blocks_per_stage[1] == 4 && info.blocks_per_stage[2] == 6 && info.blocks_per_stage[3] == 3));
  CHECK(info.num_classes == 10);
  CHECK(info.train_resolution == 0);
  CHECK(info.bn_epsilon == 1.001e-5);
  CHECK(info.input_mean[0] == 123.675f);
  CHECK(info.input_std[2] == 57.375f);
  CHECK(std::string(info.activation) == "relu");
  CHECK(std::string(info.stride2_padding) == "symmetric");
  CHECK(std::string(info.stage1_shortcut_pool) == "none");
  CHECK(std::string(info.source) == "synthetic:seed=3");
  CHECK(std::string(info.checksum).rfind("crc32:", 0) == 0);
}

TEST_CASE("weights info: train_resolution and the variant of a written file", "[api][weights]") {
  TempDir dir("info");
  resnetrs::RawWeights w = resnetrs::synthetic_weights(50, 4, 10);
  w.attrs.train_resolution = 160;
  w.attrs.source = "timm:resnetrs50 caf\xc3\xa9";
  w.config.variant = resnetrs::model_garden_variant();
  const std::string p = dir.file("i160.h5");
  resnetrs::save_weights(w, p);
  resnetrs_weights_info_t info{};
  info.struct_size = sizeof(info);
  REQUIRE(resnetrs_weights_read_info(p.c_str(), &info) == RESNETRS_STATUS_OK);
  CHECK(info.train_resolution == 160);
  CHECK(std::string(info.activation) == "swish");
  CHECK(std::string(info.stride2_padding) == "same");
  CHECK(std::string(info.stage1_shortcut_pool) == "avg2x2_stride1_same");
  CHECK(std::string(info.source) == "timm:resnetrs50 caf\xc3\xa9");
  // The engine built from the same file reports the same train_resolution.
  resnetrs_engine_t* e = nullptr;
  REQUIRE(create_from(p, &e) == RESNETRS_STATUS_OK);
  resnetrs_engine_info_t einfo{};
  einfo.struct_size = sizeof(einfo);
  REQUIRE(resnetrs_engine_get_info(e, &einfo) == RESNETRS_STATUS_OK);
  CHECK(einfo.train_resolution == info.train_resolution);
  resnetrs_engine_destroy(e);
}

TEST_CASE("weights info: refusals with a status and a message", "[api][weights][leak]") {
  // No full weights file here (minutes under valgrind): the argument checks come before the file.
  resnetrs_weights_info_t info{};
  info.struct_size = sizeof(info);
  CHECK_FAILS_WITH(resnetrs_weights_read_info("x.h5", nullptr), RESNETRS_STATUS_INVALID_ARGUMENT, "info must not be NULL");
  CHECK_FAILS_WITH(resnetrs_weights_read_info(nullptr, &info), RESNETRS_STATUS_INVALID_ARGUMENT, "path");
  CHECK_FAILS_WITH(resnetrs_weights_read_info("", &info), RESNETRS_STATUS_INVALID_ARGUMENT, "path");
  resnetrs_weights_info_t wrong{};
  wrong.struct_size = sizeof(wrong) - 8;
  CHECK_FAILS_WITH(resnetrs_weights_read_info("x.h5", &wrong), RESNETRS_STATUS_INVALID_ARGUMENT, "struct_size");
  CHECK_FAILS_WITH(resnetrs_weights_read_info("/nonexistent/rs50.h5", &info), RESNETRS_STATUS_IO_ERROR, "/nonexistent/rs50.h5");
  TempDir dir("infobad");
  const std::string p = dir.file("text.h5");
  std::ofstream(p) << "not HDF5\n";
  CHECK_FAILS_WITH(resnetrs_weights_read_info(p.c_str(), &info), RESNETRS_STATUS_WEIGHTS_INVALID, "not an HDF5 file");
  // A small HDF5 file whose `format` is not UTF-8: refused, with a message that is.
  const std::string q = dir.file("format.h5");
  {
    const hid_t f = H5Fcreate(q.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(f >= 0);
    const hid_t scalar = H5Screate(H5S_SCALAR);
    for (const char* name : {"format_version", "format_minor"}) {
      const int v = std::string(name) == "format_version" ? 1 : 2;
      const hid_t a = H5Acreate2(f, name, H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
      REQUIRE(H5Awrite(a, H5T_NATIVE_INT, &v) >= 0);
      H5Aclose(a);
    }
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 4);
    const hid_t a = H5Acreate2(f, "format", t, scalar, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Awrite(a, t, "rs\xff\xfe") >= 0);
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(scalar);
    REQUIRE(H5Fclose(f) >= 0);
  }
  CHECK_FAILS_WITH(resnetrs_weights_read_info(q.c_str(), &info), RESNETRS_STATUS_WEIGHTS_INVALID, "the byte \\xFF at offset 2");
  CHECK(resnetrs::is_valid_utf8(resnetrs_last_error()));
}

TEST_CASE("weights info: a bad attribute of a weights file is refused as by engine creation", "[api][weights]") {
  TempDir dir("infodepth");
  resnetrs_weights_info_t info{};
  info.struct_size = sizeof(info);
  const std::string q = altered_copy(dir, "depth.h5", [](hid_t f) {
    const hid_t a = H5Aopen(f, "depth", H5P_DEFAULT);
    REQUIRE(a >= 0);
    const int depth = 51;
    REQUIRE(H5Awrite(a, H5T_NATIVE_INT, &depth) >= 0);
    H5Aclose(a);
  });
  CHECK_FAILS_WITH(resnetrs_weights_read_info(q.c_str(), &info), RESNETRS_STATUS_WEIGHTS_INVALID, "'depth'");
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(create_from(q, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "'depth'");
}

TEST_CASE("a file whose strings are not UTF-8 gives a valid UTF-8 message", "[api][weights]") {
  TempDir dir("utf8");
  const std::string p = altered_copy(dir, "activation.h5", [](hid_t f) {
    H5Adelete(f, "activation");
    const hid_t t = H5Tcopy(H5T_C_S1);
    const char value[] = "re\xff\xfelu";
    H5Tset_size(t, sizeof value - 1);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, "activation", t, space, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Awrite(a, t, value) >= 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(t);
  });
  resnetrs_engine_t* e = nullptr;
  CHECK_FAILS_WITH(create_from(p, &e), RESNETRS_STATUS_WEIGHTS_INVALID, "'re\\xFF\\xFElu'");
  CHECK(resnetrs::is_valid_utf8(resnetrs_last_error()));
  resnetrs_weights_info_t info{};
  info.struct_size = sizeof(info);
  CHECK_FAILS_WITH(resnetrs_weights_read_info(p.c_str(), &info), RESNETRS_STATUS_WEIGHTS_INVALID, "'activation'");
  CHECK(resnetrs::is_valid_utf8(resnetrs_last_error()));
  // A path that is not UTF-8 is quoted escaped too.
  const std::string bad_path = dir.file("r\xe9sum\xe9.h5");
  CHECK_FAILS_WITH(create_from(bad_path, &e), RESNETRS_STATUS_IO_ERROR, "r\\xE9sum\\xE9.h5");
  CHECK(resnetrs::is_valid_utf8(resnetrs_last_error()));
}
