// The CUDA engine's plan (src/cuda/engine_plan.h) on the host: the TF1 release plans as before (no
// explicit padding, the PAD buffer unused); the TF2 Model Garden plans zero padding + an unpadded
// convolution exactly where Keras 'same' pads asymmetrically, with the amounts the CPU engine's
// convolution implies, the swish epilogues and the stage-1 stride-1 pool; and the plan refuses,
// naming the layer, every network feature the engine has no code path for.
#include <catch2/catch.hpp>

#include <string>

#include "common/error.h"
#include "cuda/engine_plan.h"
#include "model/network.h"

using namespace resnetrs;
using namespace resnetrs::cuda;

namespace {

ModelConfig garden_config(int depth) {
  ModelConfig c = config_for_depth(depth);
  c.variant = model_garden_variant();
  return c;
}

void check_refused(const NetworkDesc& net, const std::string& layer, const std::string& what) {
  try {
    make_engine_plan(net);
    FAIL("planned " << what);
  } catch (const Error& e) {
    INFO("message: " << e.what());
    CHECK(e.status() == Status::kInvalidArgument);
    CHECK(std::string(e.what()).find("CUDA engine does not implement") != std::string::npos);
    CHECK(std::string(e.what()).find(layer) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("the TF1 release plans no explicit padding and the shapes of its network", "[cuda-host][plan]") {
  for (int res : {64, 75, 160}) {
    const NetworkDesc net = describe_network(config_for_depth(50), res, res);
    const EnginePlan plan = make_engine_plan(net);
    INFO("res " << res);
    CHECK(plan.buffer_floats[kBufPad] == 0);
    for (const ConvLayer& l : plan.convs) {
      CHECK_FALSE(l.pad.active);
      CHECK(l.in != kBufPad);
      CHECK(l.act == l.shape.act);
    }
    CHECK(plan.convs[0].shape.pad == 1);
    CHECK(plan.convs[0].shape.h_in == res);
  }
}

TEST_CASE("the Model Garden plans zero padding where Keras 'same' is asymmetric", "[cuda-host][plan][garden]") {
  for (int res : {64, 75}) {
    INFO("res " << res);
    const NetworkDesc net = describe_network(garden_config(50), res, res);
    const EnginePlan plan = make_engine_plan(net);
    int padded = 0;
    for (const ConvLayer& l : plan.convs) {
      INFO(l.shape.name);
      if (!l.pad.active) {
        CHECK(l.shape.symmetric_padding());
        continue;
      }
      ++padded;
      // Keras 'same', 3x3 stride 2 on an even size: nothing before, one row/column after.
      CHECK(l.shape.kernel == 3);
      CHECK(l.shape.stride == 2);
      CHECK(l.pad.h % 2 == 0);
      CHECK(l.pad.top == 0);
      CHECK(l.pad.left == 0);
      CHECK(l.pad.bottom == 1);
      CHECK(l.pad.right == 1);
      CHECK(l.in == kBufPad);
      CHECK(l.shape.pad == 0);
      CHECK(l.shape.h_in == l.pad.h + 1);
      CHECK((l.shape.h_in - 3) / 2 + 1 == l.shape.h_out);
      CHECK(plan.buffer_floats[kBufPad] >= int64_t(l.shape.cin) * l.shape.h_in * l.shape.w_in);
      CHECK(plan.buffer_floats[l.pad.from] >= int64_t(l.shape.cin) * l.pad.h * l.pad.w);
    }
    // 64: stem conv1 (64), stem conv4 (32), stage 2-4 conv2 (16, 8, 4) are all even: 5.
    // 75: stem conv1 on 75 (odd), stem conv4 on 38, stage convs on 19 (odd), 10, 5 (odd): 2.
    CHECK(padded == (res == 64 ? 5 : 2));
    for (size_t b = 0; b < net.blocks.size(); ++b) {
      const ConvLayer& c1 = plan.convs[size_t(plan.blocks[b].conv1)];
      const ConvLayer& c3 = plan.convs[size_t(plan.blocks[b].conv3)];
      CHECK(c1.act == Activation::kSwish);
      CHECK(c3.act == Activation::kNone);
    }
    CHECK(net.blocks[0].pool_stride == 1);
    CHECK(plan.blocks[0].shortcut >= 0);
    CHECK(plan.convs[size_t(plan.blocks[0].shortcut)].in == kBufPI);
    CHECK(plan.buffer_floats[kBufPI] >= int64_t(net.blocks[0].cin) * net.blocks[0].h_in * net.blocks[0].w_in);
  }
}

TEST_CASE("the plan refuses what the CUDA engine does not implement, naming the layer", "[cuda-host][plan]") {
  const NetworkDesc base = describe_network(garden_config(50), 64, 64);
  {
    NetworkDesc net = base;
    net.stem[0].act = Activation::kNone;
    check_refused(net, "stem/conv1", "a stem conv without activation");
  }
  {
    NetworkDesc net = base;
    net.blocks[1].conv3.act = Activation::kSwish;
    check_refused(net, net.blocks[1].conv3.name, "an activation on conv3");
  }
  {
    NetworkDesc net = base;
    net.blocks[0].pool_stride = 3;
    check_refused(net, "stage1/block0/shortcut_pool", "a stride-3 pool");
  }
  {
    NetworkDesc net = base;
    size_t stage2 = 0;
    while (net.blocks[stage2].stage != 2) ++stage2;
    REQUIRE(net.blocks[stage2].stride == 2);
    net.blocks[stage2].pool_stride = 1;
    check_refused(net, net.blocks[stage2].name + "/shortcut_pool", "a stride-1 pool in a stride-2 block");
  }
  {
    NetworkDesc net = base;
    net.stem[0].pad_top = 2;  // more before than the symmetric pad
    check_refused(net, "stem/conv1", "padding before larger than the pad");
  }
  {
    NetworkDesc net = base;
    net.blocks[2].act = Activation(7);
    check_refused(net, net.blocks[2].name + "/tail", "an unknown tail activation");
  }
}
