// The CUDA engine's plan (src/cuda/engine_plan.h) on the host: the TF1 release plans as before (no
// explicit padding, the PAD buffer unused); the TF2 Model Garden plans zero padding + an unpadded
// convolution exactly where Keras 'same' pads asymmetrically, with the amounts the CPU engine's
// convolution implies, the swish epilogues and the stage-1 stride-1 pool; and the plan refuses,
// naming the layer, every network feature the engine has no code path for.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

#include "common/error.h"
#include "cpu/cpu_ops.h"
#include "cuda/activation_arena.h"
#include "cuda/engine_plan.h"
#include "engine/engine.h"
#include "io/weights_file.h"
#include "model/fold.h"
#include "model/network.h"
#include "support/compare.h"

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

// The CUDA engine's forward pass (src/cuda/cuda_engine_forward.cpp, cuda_engine_variant.cpp)
// walked on the CPU with the CPU operators, following the plan alone: its buffers at the planned
// sizes (every access checked against them), explicit zero padding into PAD and the unpadded conv,
// conv3 / projection biases left to the squeeze and the tail as the plain path does, swish
// epilogues, the shortcut pool's stride, the tail's activation. Logits for `n` images.
std::vector<float> walk_plan(const NetworkDesc& net, const FoldedWeights& fw, const std::vector<float>& pixels, int n) {
  const EnginePlan plan = make_engine_plan(net);
  std::array<std::vector<float>, kBufCount> buf;
  for (int b = 0; b < kBufCount; ++b) buf[size_t(b)].assign(size_t(plan.buffer_floats[size_t(b)]) * n, NAN);
  auto need = [&](Buf b, int64_t floats, const std::string& what) {
    INFO(what << ": buffer " << buf_name(b) << " holds " << buf[size_t(b)].size() << ", needs " << floats * n);
    REQUIRE(int64_t(buf[size_t(b)].size()) >= floats * n);
  };
  std::vector<float> ws;
  cpu::normalize_input(pixels.data(), false, n, net.height, net.width, fw.input_mean, fw.input_std, buf[kBufX].data());
  // Runs conv `index`; returns whether its bias is in its output (false: conv3 / projection).
  auto conv = [&](int index, const FoldedConv& f) -> bool {
    const ConvLayer& l = plan.convs[size_t(index)];
    const ConvShape& s = l.shape;
    if (l.pad.active) {
      need(l.pad.from, int64_t(s.cin) * l.pad.h * l.pad.w, s.name + " pad source");
      need(kBufPad, int64_t(s.cin) * s.h_in * s.w_in, s.name + " padded input");
      const std::vector<float>& src = buf[size_t(l.pad.from)];
      std::vector<float>& dst = buf[kBufPad];
      for (int b = 0; b < n * s.cin; ++b)
        for (int y = 0; y < s.h_in; ++y)
          for (int x = 0; x < s.w_in; ++x) {
            const int iy = y - l.pad.top, ix = x - l.pad.left;
            dst[(size_t(b) * s.h_in + y) * s.w_in + x] =
                iy >= 0 && iy < l.pad.h && ix >= 0 && ix < l.pad.w ? src[(size_t(b) * l.pad.h + iy) * l.pad.w + ix] : 0.0f;
          }
    }
    need(l.in, int64_t(s.cin) * s.h_in * s.w_in, s.name + " input");
    need(l.out, int64_t(s.cout) * s.h_out * s.w_out, s.name + " output");
    const cpu::ConvParams p = cpu::conv_params(s, n);
    REQUIRE(s.symmetric_padding());  // all cuDNN can run
    REQUIRE(p.h_out() == s.h_out);
    ws.resize(std::max(ws.size(), p.workspace_floats()));
    const bool bias_in = l.act != Activation::kNone;
    cpu::conv2d(p, buf[size_t(l.in)].data(), f.weight.data(), bias_in ? f.bias.data() : nullptr,
                l.act == Activation::kRelu ? Activation::kRelu : Activation::kNone, buf[size_t(l.out)].data(), ws.data());
    if (l.act == Activation::kSwish) {  // the bias_act epilogue
      float* y = buf[size_t(l.out)].data();
      for (size_t i = 0; i < size_t(n) * s.cout * s.h_out * s.w_out; ++i) y[i] = cpu::swish(y[i]);
    }
    return bias_in;
  };
  for (int i = 0; i < 4; ++i) conv(i, fw.stem[i]);
  for (size_t bi = 0; bi < net.blocks.size(); ++bi) {
    const BlockShape& b = net.blocks[bi];
    const BlockPlan& bp = plan.blocks[bi];
    const FoldedBlock& fb = fw.blocks[bi];
    const int hw = b.h_out * b.w_out;
    conv(bp.conv1, fb.conv1);
    conv(bp.conv2, fb.conv2);
    REQUIRE_FALSE(conv(bp.conv3, fb.conv3));
    std::vector<float> t3 = buf[kBufT3];  // + b3, as the squeeze and the tail add it
    for (size_t i = 0; i < size_t(n) * b.cout * hw; ++i) t3[i] += fb.conv3.bias[(i / size_t(hw)) % size_t(b.cout)];
    std::vector<float> pooled(size_t(n) * b.cout), hidden(size_t(n) * b.se_channels), gate(size_t(n) * b.cout);
    cpu::global_avg_pool(t3.data(), n, b.cout, b.h_out, b.w_out, pooled.data());
    cpu::se_gate(pooled.data(), n, b.cout, b.se_channels, fb.se_reduce_weight.data(), fb.se_reduce_bias.data(),
                 fb.se_expand_weight.data(), fb.se_expand_bias.data(), hidden.data(), gate.data());
    std::vector<float> shortcut = buf[kBufX];
    if (bp.shortcut >= 0) {
      if (b.pool_shortcut) {
        need(kBufPI, int64_t(b.cin) * plan.convs[size_t(bp.shortcut)].shape.h_in * plan.convs[size_t(bp.shortcut)].shape.w_in,
             b.name + " pool");
        cpu::avg_pool_2x2_same(buf[kBufX].data(), n, b.cin, b.h_in, b.w_in, b.pool_stride, buf[kBufPI].data());
      }
      REQUIRE_FALSE(conv(bp.shortcut, fb.shortcut));
      shortcut = buf[kBufSC];
      for (size_t i = 0; i < size_t(n) * b.cout * hw; ++i) shortcut[i] += fb.shortcut.bias[(i / size_t(hw)) % size_t(b.cout)];
    }
    need(kBufX, int64_t(b.cout) * hw, b.name + " output");
    cpu::excite_residual(t3.data(), gate.data(), shortcut.data(), n, b.cout, hw, b.act, buf[kBufX].data());
  }
  std::vector<float> pooled(size_t(n) * kFinalChannels), logits(size_t(n) * net.num_classes);
  cpu::global_avg_pool(buf[kBufX].data(), n, kFinalChannels, net.final_h, net.final_w, pooled.data());
  cpu::dense(pooled.data(), n, kFinalChannels, net.num_classes, fw.dense_weight.data(), fw.dense_bias.data(), logits.data());
  return logits;
}

}  // namespace

TEST_CASE("the CUDA engine's dataflow, walked on the CPU from its plan, gives the CPU engine's logits",
          "[cuda-host][plan][garden]") {
  RawWeights raw = synthetic_weights(50, 20260401u);
  for (bool garden : {false, true}) {
    raw.config.variant = garden ? model_garden_variant() : ModelVariant{};
    const FoldedWeights fw = fold_weights(raw);
    for (int res : {64, 75}) {
      INFO((garden ? "Model Garden" : "TF1 release") << " RS-50 @" << res);
      const int n = 2;
      const std::vector<float> pixels = test::random_floats(size_t(n) * 3 * res * res, 77 + uint64_t(res), 0.0f, 255.0f);
      EngineOptions o;
      o.backend = Backend::kCpu;
      o.max_batch = n;
      o.height = o.width = res;
      auto cpu = make_cpu_reference_engine(fw, o);
      std::vector<float> want(size_t(n) * cpu->network().num_classes);
      cpu->run_host(pixels.data(), n, want.data());
      const std::vector<float> got = walk_plan(cpu->network(), fw, pixels, n);
      const double l2 = test::relative_l2(got, want);
      INFO("rel L2 " << l2);
      // The same float operations in the same order (a padded conv's im2col columns equal the
      // asymmetric conv's): observed 0. A misplaced padding row gives 2e-5 .. 2e-3.
      CHECK(l2 <= 1e-7);
      CHECK(test::argmax_rows(got, n, cpu->network().num_classes) == test::argmax_rows(want, n, cpu->network().num_classes));
    }
  }
}

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

TEST_CASE("the arena places the Model Garden's padded inputs apart from every planned tensor", "[cuda-host][plan][garden]") {
  for (bool garden : {false, true}) {
    const ModelConfig config = garden ? garden_config(50) : config_for_depth(50);
    const NetworkDesc net = describe_network(config, 64, 64);
    const EnginePlan plan = make_engine_plan(net);
    for (bool liveness : {false, true}) {
      for (size_t act_bytes : {size_t(4), size_t(2)}) {
        INFO((garden ? "Model Garden" : "TF1 release") << (liveness ? ", by liveness" : ", per role") << ", " << act_bytes
                                                       << "-byte activations");
        const ArenaLayout a = liveness ? liveness_layout(net, plan, 3, act_bytes) : per_role_layout(net, plan, 3, act_bytes);
        REQUIRE(a.convs.size() == plan.convs.size());
        int padded = 0;
        for (size_t i = 0; i < plan.convs.size(); ++i) {
          const ConvLayer& l = plan.convs[i];
          const ConvSlots& cs = a.convs[i];
          INFO(l.shape.name);
          if (!l.pad.active) {
            CHECK(cs.src.bytes == 0);
            continue;
          }
          ++padded;
          const size_t padded_bytes = size_t(l.shape.cin) * l.shape.h_in * l.shape.w_in * 3 * act_bytes;
          const size_t src_bytes = size_t(l.shape.cin) * l.pad.h * l.pad.w * 3 * act_bytes;
          CHECK(cs.in.bytes >= padded_bytes);
          CHECK(cs.src.bytes >= src_bytes);
          CHECK(cs.in.end() <= a.bytes);
          CHECK(cs.src.end() <= a.bytes);
          // The padded copy overlaps neither its source nor the conv's output.
          CHECK((cs.in.end() <= cs.src.offset || cs.src.end() <= cs.in.offset));
          CHECK((cs.in.end() <= cs.out.offset || cs.out.end() <= cs.in.offset));
          // Its source is what the previous step wrote (stem conv1: the normalized input).
          if (i == 0) {
            CHECK(cs.src.offset == a.normalized.offset);
          } else {
            CHECK(cs.src.offset == a.convs[i - 1].out.offset);
          }
        }
        CHECK(padded == (garden ? 5 : 0));
      }
    }
  }
}
