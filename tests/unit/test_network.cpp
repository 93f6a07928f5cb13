// The network description: parameter and MAC counts of the 11 release configs
// (resnetrs-architecture.md §6) and the geometry at awkward resolutions.
#include <catch2/catch.hpp>

#include "common/error.h"
#include "engine/engine.h"
#include "engine/gpu_gate.h"
#include "model/network.h"

using namespace resnetrs;

TEST_CASE("trainable parameters equal timm's counts for every depth", "[model]") {
  const std::pair<int, int64_t> expected[] = {{50, 35691912},   {101, 63618696},  {152, 86621576}, {200, 93209992},
                                              {270, 129861448}, {350, 163956168}, {420, 191891656}};
  for (const auto& [depth, params] : expected) {
    INFO("depth " << depth);
    CHECK(describe_network(config_for_depth(depth), 160, 160).trainable_params() == params);
  }
}

TEST_CASE("MACs of the 11 release configs match the architecture table", "[model]") {
  struct Row { int depth, res; double gmacs; };
  const Row rows[] = {{50, 160, 2.28},  {101, 160, 4.18},  {101, 192, 6.01}, {152, 192, 8.75},
                      {152, 224, 11.90}, {152, 256, 15.53}, {200, 256, 20.09}, {270, 256, 26.95},
                      {350, 256, 34.38}, {350, 320, 53.68}, {420, 320, 63.94}};
  for (const Row& r : rows) {
    INFO("RS-" << r.depth << " @" << r.res);
    const double gmacs = describe_network(config_for_depth(r.depth), r.res, r.res).macs() / 1e9;
    CHECK(gmacs == Approx(r.gmacs).margin(0.005));  // the table prints two decimals
  }
}

TEST_CASE("block counts, widths and strides follow the depth", "[model]") {
  const NetworkDesc net = describe_network(config_for_depth(50), 160, 160);
  REQUIRE(net.blocks.size() == 16);
  CHECK(net.stem[0].h_out == 80);
  CHECK(net.stem[3].h_out == 40);
  CHECK(net.blocks[0].has_projection);
  CHECK_FALSE(net.blocks[0].pool_shortcut);  // stage 1 has no pooling
  CHECK(net.blocks[3].pool_shortcut);        // stage 2 block 0
  CHECK(net.blocks[3].conv2.stride == 2);
  CHECK(net.blocks[3].conv1.stride == 1);    // the stride sits on the 3x3 conv
  CHECK(net.blocks[3].se_channels == 128);   // r from the block's output channels: 512/4
  CHECK(net.final_h == 5);
  CHECK(net.blocks.back().cout == 2048);
}

TEST_CASE("odd resolutions use ceil at every stride-2 op", "[model]") {
  // 300 -> 150 -> 75 (stage 2 input is odd) -> 38 -> 19 -> 10
  const NetworkDesc net = describe_network(config_for_depth(50), 300, 299);
  CHECK(net.stem[0].h_out == 150);
  CHECK(net.stem[0].w_out == 150);
  CHECK(net.stem[3].h_out == 75);
  CHECK(net.stem[3].w_out == 75);
  CHECK(net.blocks[3].h_in == 75);
  CHECK(net.blocks[3].h_out == 38);
  CHECK(net.final_h == 10);
  const NetworkDesc small = describe_network(config_for_depth(101), 33, 47);
  CHECK(small.final_h == 2);
  CHECK(small.final_w == 2);
}

TEST_CASE("bad depth and resolution are refused with a clear message", "[model]") {
  CHECK_THROWS_WITH(config_for_depth(34), Catch::Contains("unsupported ResNet-RS depth 34"));
  CHECK_THROWS_WITH(describe_network(config_for_depth(50), 31, 64), Catch::Contains("at least 32x32"));
}

TEST_CASE("the Model Garden variant has 'same' stride-2 padding and swish and a stage-1 pool with the same sizes and counts", "[model][garden]") {
  ModelConfig cfg = config_for_depth(50, 1001);
  cfg.variant = model_garden_variant();
  for (int res : {64, 75}) {
    INFO("resolution " << res);
    const NetworkDesc g = describe_network(cfg, res, res);
    const NetworkDesc t = describe_network(config_for_depth(50, 1001), res, res);
    CHECK(g.trainable_params() == t.trainable_params());
    CHECK(g.macs() == t.macs());
    for (int i = 0; i < 4; ++i) {
      CHECK(g.stem[i].h_out == t.stem[i].h_out);
      CHECK(g.stem[i].act == Activation::kSwish);
      CHECK(t.stem[i].act == Activation::kRelu);
      // stride 2 on an even size: nothing before, the padded row/column after; odd: 1 and 1
      const int want = g.stem[i].stride == 2 ? (g.stem[i].h_in % 2 == 0 ? 0 : 1) : 1;
      CHECK(g.stem[i].pad_top == want);
      CHECK(t.stem[i].pad_top == 1);
    }
    for (size_t b = 0; b < g.blocks.size(); ++b) {
      const BlockShape& gb = g.blocks[b];
      CHECK(gb.h_out == t.blocks[b].h_out);
      CHECK(gb.act == Activation::kSwish);
      CHECK(gb.conv3.act == Activation::kNone);
      CHECK(gb.conv2.pad_top == (gb.stride == 2 && gb.h_in % 2 == 0 ? 0 : 1));
      CHECK(gb.conv2.symmetric_padding() == !(gb.stride == 2 && gb.h_in % 2 == 0));
      CHECK(gb.pool_shortcut == gb.has_projection);  // stage 1 pools too
      if (gb.has_projection) CHECK(gb.pool_stride == gb.stride);
    }
    CHECK(g.blocks[0].pool_shortcut);
    CHECK(g.blocks[0].pool_stride == 1);
    CHECK_FALSE(t.blocks[0].pool_shortcut);
  }
  // 64 -> 32 -> 16: both stride-2 stem convs see even sizes
  CHECK(describe_network(cfg, 64, 64).stem[0].pad_top == 0);
  CHECK(describe_network(cfg, 75, 75).stem[0].pad_top == 1);
  CHECK(describe_network(cfg, 75, 75).stem[3].pad_top == 0);  // 38 -> 19
}

TEST_CASE("a default build's CUDA backend refuses every non-TF1 variant with a message saying so", "[model][garden]") {
  ModelConfig cfg = config_for_depth(50);
  CHECK_NOTHROW(require_cuda_backend_supports(cfg));
  ModelVariant parts[3];
  parts[0].activation = Activation::kSwish;
  parts[1].stride2_padding = Stride2Padding::kSame;
  parts[2].stage1_shortcut_pool = true;
  for (const ModelVariant& v : parts) {
    cfg.variant = v;
    if (unverified_gpu_enabled()) {
      // RESNETRS_UNVERIFIED_GPU=ON: the variant passes; the CUDA engine's plan checks the rest.
      CHECK_NOTHROW(require_cuda_backend_supports(cfg));
      continue;
    }
    try {
      require_cuda_backend_supports(cfg);
      FAIL("accepted " << v.describe());
    } catch (const Error& e) {
      CHECK(e.status() == Status::kInvalidArgument);
      const std::string m = e.what();
      CHECK(m.find("CUDA backend does not run this ResNet-RS variant") != std::string::npos);
      CHECK(m.find(v.describe()) != std::string::npos);
      CHECK(m.find("CPU backend") != std::string::npos);
      CHECK(m.find("RESNETRS_UNVERIFIED_GPU") != std::string::npos);
    }
  }
}
