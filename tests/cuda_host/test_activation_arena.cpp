// The CUDA engine's activation arena (src/cuda/activation_arena.h): both placements checked on
// the host for every depth at several resolutions and batch sizes: the dataflow is connected
// (each consumer reads where its producer wrote), tensors used by the same step never overlap
// (except the tail's permitted in-place output), everything fits the arena, the liveness arena
// is the plan's, and the per-role arena is what the engine always allocated.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cuda/activation_arena.h"
#include "cuda/engine_plan.h"
#include "model/activation_plan.h"
#include "model/config.h"
#include "model/network.h"

using namespace resnetrs;
using cuda::ArenaLayout;
using cuda::Slot;

namespace {

bool overlap(const Slot& a, const Slot& b) {
  if (a.bytes == 0 || b.bytes == 0) return false;
  return a.offset < b.end() && b.offset < a.end();
}

void check_layout(const NetworkDesc& net, const cuda::EnginePlan& plan, const ArenaLayout& a, int batch, size_t act_bytes) {
  const std::string what = std::string(a.by_liveness ? "liveness" : "per role") + " RS-" + std::to_string(net.config.depth) +
                           " @" + std::to_string(net.height) + " b" + std::to_string(batch) + " act" +
                           std::to_string(act_bytes);
  INFO(what);
  REQUIRE(a.convs.size() == plan.convs.size());
  REQUIRE(a.blocks.size() == net.blocks.size());
  auto fits = [&](const Slot& s) { return s.end() <= a.bytes && s.offset % 256 == 0; };
  auto holds = [&](const Slot& s, int64_t elements, size_t bytes_each) { return s.bytes >= size_t(elements) * size_t(batch) * bytes_each; };

  CHECK(fits(a.host_input));
  CHECK(fits(a.normalized));
  CHECK(holds(a.host_input, int64_t(3) * net.height * net.width, 4));
  CHECK(holds(a.normalized, int64_t(3) * net.height * net.width, act_bytes));
  CHECK_FALSE(overlap(a.host_input, a.normalized));  // normalize reads one and writes the other

  // Every convolution: input and output hold their tensors, never overlap, fit the arena.
  for (size_t i = 0; i < plan.convs.size(); ++i) {
    const ConvShape& s = plan.convs[i].shape;
    INFO(s.name);
    CHECK(fits(a.convs[i].in));
    CHECK(fits(a.convs[i].out));
    CHECK(holds(a.convs[i].in, int64_t(s.cin) * s.h_in * s.w_in, act_bytes));
    CHECK(holds(a.convs[i].out, int64_t(s.cout) * s.h_out * s.w_out, act_bytes));
    CHECK_FALSE(overlap(a.convs[i].in, a.convs[i].out));
  }
  // The stem chain and the blocks are connected.
  CHECK(a.convs[0].in.offset == a.normalized.offset);
  for (int i = 1; i < 4; ++i) CHECK(a.convs[size_t(i)].in.offset == a.convs[size_t(i - 1)].out.offset);
  size_t x = a.convs[3].out.offset;
  for (size_t bi = 0; bi < net.blocks.size(); ++bi) {
    const BlockShape& b = net.blocks[bi];
    const cuda::BlockPlan& bp = plan.blocks[bi];
    const cuda::BlockSlots& bs = a.blocks[bi];
    INFO(b.name);
    CHECK(bs.x_in.offset == x);
    CHECK(a.convs[size_t(bp.conv1)].in.offset == x);
    CHECK(a.convs[size_t(bp.conv2)].in.offset == a.convs[size_t(bp.conv1)].out.offset);
    CHECK(a.convs[size_t(bp.conv3)].in.offset == a.convs[size_t(bp.conv2)].out.offset);
    CHECK(bs.t3.offset == a.convs[size_t(bp.conv3)].out.offset);
    CHECK(holds(bs.pooled, b.cout, 4));
    CHECK(holds(bs.hidden, b.se_channels, 4));
    CHECK(holds(bs.gate, b.cout, 4));
    CHECK(holds(bs.out, int64_t(b.cout) * b.h_out * b.w_out, act_bytes));
    for (const Slot* s : {&bs.pooled, &bs.hidden, &bs.gate, &bs.out}) CHECK(fits(*s));
    // The SE chain: each step's input and output are distinct, and t3 survives until the tail.
    CHECK_FALSE(overlap(bs.t3, bs.pooled));
    CHECK_FALSE(overlap(bs.pooled, bs.hidden));
    CHECK_FALSE(overlap(bs.hidden, bs.gate));
    CHECK_FALSE(overlap(bs.t3, bs.hidden));
    CHECK_FALSE(overlap(bs.t3, bs.gate));
    const Slot shortcut = bp.shortcut >= 0 ? bs.sc : bs.x_in;
    if (bp.shortcut >= 0) {
      // The projection (and its pool) run after the SE: t3 and the gate must survive them.
      CHECK(bs.sc.offset == a.convs[size_t(bp.shortcut)].out.offset);
      CHECK_FALSE(overlap(bs.sc, bs.t3));
      CHECK_FALSE(overlap(bs.sc, bs.gate));
      if (b.pool_shortcut) {
        CHECK(a.convs[size_t(bp.shortcut)].in.offset == bs.pi.offset);
        CHECK_FALSE(overlap(bs.pi, bs.x_in));
        CHECK_FALSE(overlap(bs.pi, bs.t3));
        CHECK_FALSE(overlap(bs.pi, bs.gate));
      } else {
        CHECK(a.convs[size_t(bp.shortcut)].in.offset == bs.x_in.offset);
      }
    } else {
      CHECK_FALSE(overlap(bs.x_in, bs.t3));  // the identity shortcut survives conv1..3 and the SE
      CHECK_FALSE(overlap(bs.x_in, bs.gate));
    }
    // The tail reads t3, gate, shortcut and writes out: out may only coincide exactly with t3 or
    // the shortcut (element-wise in place), never partly, and never with the gate.
    CHECK_FALSE(overlap(bs.out, bs.gate));
    if (overlap(bs.out, bs.t3)) CHECK(bs.out.offset == bs.t3.offset);
    if (overlap(bs.out, shortcut)) CHECK(bs.out.offset == shortcut.offset);
    CHECK_FALSE(overlap(bs.t3, shortcut));
    x = bs.out.offset;
  }
  CHECK(a.final_x.offset == x);
  CHECK(holds(a.head_pooled, kFinalChannels, 4));
  CHECK(holds(a.logits_raw, net.num_classes, 4));
  CHECK(holds(a.host_logits, net.num_classes, 4));
  CHECK_FALSE(overlap(a.final_x, a.head_pooled));
  CHECK_FALSE(overlap(a.head_pooled, a.logits_raw));
  if (overlap(a.logits_raw, a.host_logits)) CHECK(a.logits_raw.offset == a.host_logits.offset);  // bias add may alias
  for (const Slot* s : {&a.final_x, &a.head_pooled, &a.logits_raw, &a.host_logits}) CHECK(fits(*s));
}

}  // namespace

TEST_CASE("both arena placements are connected, non-overlapping where it matters, and sized right", "[cuda-host][arena]") {
  for (int depth : {50, 101, 152, 200, 270, 350, 420}) {
    for (int res : {64, 97, 160}) {
      const NetworkDesc net = describe_network(config_for_depth(depth), res, res);
      const cuda::EnginePlan plan = cuda::make_engine_plan(net);
      for (int batch : {1, 3, 128}) {
        if (batch == 128 && res != 160) continue;  // keep CI fast: the big batch at one resolution
        for (size_t act : {size_t(4), size_t(2)}) {
          const ArenaLayout role = cuda::per_role_layout(net, plan, batch, act);
          const ArenaLayout live = cuda::liveness_layout(net, plan, batch, act);
          CHECK_FALSE(role.by_liveness);
          CHECK(live.by_liveness);
          check_layout(net, plan, role, batch, act);
          check_layout(net, plan, live, batch, act);
          ActivationPlanOptions o;
          o.batch = batch;
          o.activation_bytes = act;
          const ActivationPlan p = plan_activations(net, o);
          CHECK(live.bytes == p.arena_bytes);
          CHECK(live.bytes < role.bytes);
        }
      }
    }
  }
}

TEST_CASE("the per-role arena is what the engine allocated before; liveness halves it", "[cuda-host][arena]") {
  const NetworkDesc net = describe_network(config_for_depth(50), 160, 160);
  const cuda::EnginePlan plan = cuda::make_engine_plan(net);
  const ArenaLayout role = cuda::per_role_layout(net, plan, 128, 4);
  // docs/cuda-engine.md: the H200 run of 2026-11-27 reported 942 MiB of activations.
  auto mib = [](size_t bytes) { return (bytes + (size_t(1) << 19)) >> 20; };  // rounded, as the report prints
  CHECK(mib(role.bytes) == 942);
  ActivationPlanOptions o;
  o.batch = 128;
  const ActivationPlan p = plan_activations(net, o);
  CHECK(role.bytes == p.per_role_bytes);
  const ArenaLayout live = cuda::liveness_layout(net, plan, 128, 4);
  CHECK(mib(live.bytes) == 450);
  const ArenaLayout live16 = cuda::liveness_layout(net, plan, 128, 2);
  CHECK(live16.bytes < live.bytes);
}
