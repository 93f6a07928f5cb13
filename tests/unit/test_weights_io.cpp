// The weights loader accepts a good file and refuses every bad case of docs/weights-format.md
// with a message naming the file, the path, what was expected and what was found.
#include <catch2/catch.hpp>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "io/weights_file.h"
#include "unit/weights_test_files.h"

using namespace resnetrs;
using namespace resnetrs::weightstest;


TEST_CASE("a written file reads back identically", "[io]") {
  const RawWeights w = synthetic_weights(50, 7);
  const auto parsing = GENERATE(MetadataParsing::kIsolated, MetadataParsing::kInProcess);
  const RawWeights r = load_weights(good_file().string(), parsing);
  CHECK(r.config.depth == 50);
  CHECK(r.attrs.bn_epsilon == 1.001e-5);
  CHECK(r.attrs.source == "synthetic:seed=7");
  CHECK(r.attrs.input_mean[1] == 116.28f);
  REQUIRE(r.blocks.size() == 16);
  CHECK(r.stem[0].kernel == w.stem[0].kernel);
  CHECK(r.blocks[3].shortcut.bn.moving_variance == w.blocks[3].shortcut.bn.moving_variance);
  CHECK(r.blocks[15].se_expand_bias == w.blocks[15].se_expand_bias);
  CHECK(r.dense_kernel == w.dense_kernel);
}

TEST_CASE("synthetic weights are deterministic per seed", "[io]") {
  const RawWeights a = synthetic_weights(50, 3), b = synthetic_weights(50, 3), c = synthetic_weights(50, 4);
  CHECK(a.blocks[5].conv2.kernel == b.blocks[5].conv2.kernel);
  CHECK(a.dense_bias == b.dense_bias);
  CHECK(a.blocks[5].conv2.kernel != c.blocks[5].conv2.kernel);
  for (float v : a.blocks[2].conv1.bn.moving_variance) CHECK(v > 0.0f);
}

TEST_CASE("missing and non-HDF5 files are refused", "[io]") {
  expect_refusal(temp_dir() / "does_not_exist.h5", Status::kIoError, {"cannot open"});
  const fs::path junk = temp_dir() / "junk.h5";
  std::ofstream(junk) << "this is not an HDF5 file";
  expect_refusal(junk, Status::kWeightsInvalid, {"not an HDF5 file"});
}

TEST_CASE("unknown format, version, depth or block list is refused", "[io]") {
  auto p = copy_of_good("format.h5");
  set_string_attr(p, "format", "something-else");
  expect_refusal(p, Status::kWeightsInvalid, {"'format'", "expected 'resnetrs-weights'", "found 'something-else'"});
  p = copy_of_good("version.h5");
  set_int_attr(p, "format_version", {2});
  expect_refusal(p, Status::kWeightsInvalid, {"'format_version'", "expected 1", "found 2"});
  p = copy_of_good("depth.h5");
  set_int_attr(p, "depth", {34});
  expect_refusal(p, Status::kWeightsInvalid, {"'depth'", "found 34"});
  p = copy_of_good("blocks.h5");
  set_int_attr(p, "blocks_per_stage", {3, 4, 23, 3});
  expect_refusal(p, Status::kWeightsInvalid, {"'blocks_per_stage'", "expected [3,4,6,3]", "found [3,4,23,3]"});
  p = copy_of_good("noattr.h5");
  {
    File f(p);
    H5Adelete(f.id, "bn_epsilon");
  }
  expect_refusal(p, Status::kWeightsInvalid, {"'bn_epsilon'", "missing"});
}

TEST_CASE("missing dataset, wrong shape and wrong dtype are refused", "[io]") {
  auto p = copy_of_good("missing.h5");
  {
    File f(p);
    H5Ldelete(f.id, "/stage2/block1/se/reduce/bias", H5P_DEFAULT);
  }
  expect_refusal(p, Status::kWeightsInvalid, {"'/stage2/block1/se/reduce/bias'", "missing", "[128]"});

  p = copy_of_good("shape.h5");
  replace_dataset(p, "/stage1/block0/conv1/kernel", H5T_IEEE_F32LE, {64, 32, 1, 1}, std::vector<double>(64 * 32, 0.1));
  expect_refusal(p, Status::kWeightsInvalid, {"'/stage1/block0/conv1/kernel'", "expected shape [64,64,1,1]", "found [64,32,1,1]"});

  p = copy_of_good("dtype.h5");
  replace_dataset(p, "/head/dense/bias", H5T_IEEE_F64LE, {1000}, std::vector<double>(1000, 0.1));
  expect_refusal(p, Status::kWeightsInvalid, {"'/head/dense/bias'", "expected dtype float32", "found float64"});
}

TEST_CASE("NaN, infinity and negative variance are refused", "[io]") {
  auto p = copy_of_good("nan.h5");
  poke(p, "/stage3/block2/conv2/kernel", 17, std::nanf(""));
  expect_refusal(p, Status::kWeightsInvalid, {"'/stage3/block2/conv2/kernel'", "NaN", "index 17"});
  p = copy_of_good("inf.h5");
  poke(p, "/stem/conv1/bn/beta", 3, INFINITY);
  expect_refusal(p, Status::kWeightsInvalid, {"'/stem/conv1/bn/beta'", "infinity"});
  p = copy_of_good("var.h5");
  poke(p, "/stage4/block0/shortcut/bn/moving_variance", 5, -0.5f);
  expect_refusal(p, Status::kWeightsInvalid, {"'/stage4/block0/shortcut/bn/moving_variance'", ">= 0", "-0.5"});
}

TEST_CASE("an unexpected dataset is a warning, not an error", "[io]") {
  auto p = copy_of_good("extra.h5");
  replace_dataset(p, "/extra_tensor", H5T_IEEE_F32LE, {2}, {1.0, 2.0});
  const CapturedWarnings warnings;
  const RawWeights w = load_weights(p.string());
  CHECK(w.config.depth == 50);
  REQUIRE(warnings.list.size() == 1);
  CHECK(warnings.list[0].find("'/extra_tensor'") != std::string::npos);
}

TEST_CASE("the writer leaves no file behind on failure", "[io]") {
  RawWeights w = synthetic_weights(50, 1);
  w.blocks[0].conv1.kernel.pop_back();  // invalid: refused before anything is written
  const fs::path p = temp_dir() / "never.h5";
  CHECK_THROWS_AS(save_weights(w, p.string()), Error);
  CHECK_FALSE(fs::exists(p));
  CHECK_THROWS_WITH(save_weights(synthetic_weights(50, 1), "/nonexistent_dir/x.h5"), Catch::Contains("cannot create"));
  CHECK_FALSE(fs::exists("/nonexistent_dir/x.h5.partial"));
}

// Format 1.1: the network variant (docs/weights-format.md).
TEST_CASE("the variant attributes round-trip and a minor-0 file is the TF1 network", "[io][garden]") {
  RawWeights w = synthetic_weights(50, 9, 1001);
  w.config.variant = model_garden_variant();
  const fs::path p = temp_dir() / "garden.h5";
  save_weights(w, p.string());
  const RawWeights r = load_weights(p.string());
  CHECK(r.attrs.format_minor == kWeightsFormatMinor);
  CHECK(r.config.variant == model_garden_variant());
  CHECK(r.config.num_classes == 1001);
  CHECK(r.stem[0].kernel == w.stem[0].kernel);
  // The good file (TF1 variant) says so explicitly...
  CHECK(load_weights(good_file().string()).config.variant.is_tf1_release());
  // ...and a minor-0 file (no format_minor, no variant attributes) means the TF1 network.
  const fs::path m0 = temp_dir() / "minor0.h5";
  fs::copy_file(p, m0, fs::copy_options::overwrite_existing);
  {
    File f(m0);
    for (const char* a : {"format_minor", "checksum", "activation", "stride2_padding", "stage1_shortcut_pool"}) H5Adelete(f.id, a);
  }
  const RawWeights r0 = load_weights(m0.string());
  CHECK(r0.attrs.format_minor == 0);
  CHECK(r0.config.variant.is_tf1_release());
}

TEST_CASE("unknown or missing variant attributes of a minor-1 file are refused", "[io][garden]") {
  auto p = copy_of_good("activation.h5");
  set_string_attr(p, "activation", "gelu");
  expect_refusal(p, Status::kWeightsInvalid, {"'activation'", "'relu', 'swish'", "found 'gelu'"});
  p = copy_of_good("padding.h5");
  set_string_attr(p, "stride2_padding", "valid");
  expect_refusal(p, Status::kWeightsInvalid, {"'stride2_padding'", "'symmetric', 'same'", "found 'valid'"});
  p = copy_of_good("pool.h5");
  set_string_attr(p, "stage1_shortcut_pool", "max");
  expect_refusal(p, Status::kWeightsInvalid, {"'stage1_shortcut_pool'", "found 'max'"});
  p = copy_of_good("noactivation.h5");
  {
    File f(p);
    H5Adelete(f.id, "activation");
  }
  expect_refusal(p, Status::kWeightsInvalid, {"'activation'", "missing"});
  p = copy_of_good("minor.h5");
  set_int_attr(p, "format_minor", {-1});
  expect_refusal(p, Status::kWeightsInvalid, {"'format_minor'", "found -1"});
}
