// The liveness plan of the activation arena (src/model/activation_plan.h; issue 12 item 4), checked
// by brute force, independently of the planner's own bookkeeping:
//   - intervals re-derived from the steps' reads and writes;
//   - a replay of the steps over the arena in which every byte range remembers the tensor that
//     last wrote it: every read must find its producer's data intact, and a step may write over
//     bytes it reads only when it is elementwise and writes exactly the bytes of the tensor it
//     reads (the block tail in place);
//   - every pair of tensors alive at a common step: disjoint bytes (the in-place pair excepted);
//   - arena >= the largest live set and <= 1.1x of it; far below today's per-role arena.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "common/error.h"
#include "model/activation_plan.h"
#include "model/network.h"

using namespace resnetrs;

namespace {

struct Interval {
  int first = -1, last = -1;
};

std::vector<Interval> derive_intervals(const ActivationPlan& p) {
  std::vector<Interval> iv(p.tensors.size());
  for (int s = 0; s < static_cast<int>(p.steps.size()); ++s) {
    for (int t : p.steps[size_t(s)].writes) iv[size_t(t)] = {s, s};
    for (int t : p.steps[size_t(s)].reads) iv[size_t(t)].last = std::max(iv[size_t(t)].last, s);
  }
  return iv;
}

bool overlap(const PlannedTensor& a, const PlannedTensor& b) {
  return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

// b written over a in place by an elementwise step: same bytes, same elements.
bool exact_alias(const PlannedTensor& a, const PlannedTensor& b) {
  return a.offset == b.offset && a.elements == b.elements && a.element_bytes == b.element_bytes;
}

// Replays the steps over the arena, cut at every tensor boundary into segments; returns the
// first problem found, or "".
std::string replay(const ActivationPlan& p) {
  std::vector<size_t> cuts{0, p.arena_bytes};
  for (const PlannedTensor& t : p.tensors) {
    cuts.push_back(t.offset);
    cuts.push_back(t.offset + t.bytes);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  auto seg = [&](size_t byte) { return size_t(std::lower_bound(cuts.begin(), cuts.end(), byte) - cuts.begin()); };
  std::vector<int> owner(cuts.size(), -1);
  std::vector<bool> written(p.tensors.size(), false);
  for (size_t s = 0; s < p.steps.size(); ++s) {
    const PlanStep& st = p.steps[s];
    for (int r : st.reads) {
      const PlannedTensor& t = p.tensors[size_t(r)];
      if (!written[size_t(r)]) return st.name + " reads " + t.name + " before any step wrote it";
      for (size_t i = seg(t.offset); i < seg(t.offset + t.bytes); ++i) {
        if (owner[i] != r) {
          return st.name + " reads " + t.name + " but bytes at " + std::to_string(cuts[i]) + " were overwritten by " +
                 (owner[i] >= 0 ? p.tensors[size_t(owner[i])].name : std::string("nothing"));
        }
      }
    }
    for (size_t wi = 0; wi < st.writes.size(); ++wi) {
      const PlannedTensor& w = p.tensors[size_t(st.writes[wi])];
      for (int r : st.reads) {
        const PlannedTensor& t = p.tensors[size_t(r)];
        if (overlap(w, t) && !(st.elementwise && exact_alias(t, w))) {
          return st.name + " writes " + w.name + " over " + t.name + ", which it reads";
        }
      }
      for (size_t wj = 0; wj < wi; ++wj) {
        if (overlap(w, p.tensors[size_t(st.writes[wj])])) return st.name + " writes two overlapping tensors";
      }
    }
    for (int wt : st.writes) {
      const PlannedTensor& w = p.tensors[size_t(wt)];
      if (written[size_t(wt)]) return w.name + " written twice";
      written[size_t(wt)] = true;
      for (size_t i = seg(w.offset); i < seg(w.offset + w.bytes); ++i) owner[i] = wt;
    }
  }
  for (size_t t = 0; t < p.tensors.size(); ++t) {
    if (!written[t]) return p.tensors[t].name + " is never written";
  }
  return "";
}

// Every pair of tensors alive at a common step, by brute force.
std::string live_pairs(const ActivationPlan& p, const std::vector<Interval>& iv) {
  for (int s = 0; s < static_cast<int>(p.steps.size()); ++s) {
    std::vector<int> live;
    for (size_t t = 0; t < p.tensors.size(); ++t) {
      if (iv[t].first <= s && s <= iv[t].last) live.push_back(int(t));
    }
    for (size_t i = 0; i < live.size(); ++i) {
      for (size_t j = i + 1; j < live.size(); ++j) {
        const PlannedTensor& a = p.tensors[size_t(live[i])];
        const PlannedTensor& b = p.tensors[size_t(live[j])];
        if (!overlap(a, b)) continue;
        // Allowed only for an in-place pair at the step where one dies and the other is born.
        const bool handover = (iv[size_t(live[i])].last == s && iv[size_t(live[j])].first == s) ||
                              (iv[size_t(live[j])].last == s && iv[size_t(live[i])].first == s);
        if (!(handover && p.steps[size_t(s)].elementwise && exact_alias(a, b))) {
          return a.name + " and " + b.name + " are both alive at " + p.steps[size_t(s)].name + " and share bytes";
        }
      }
    }
  }
  return "";
}

size_t largest_live_set(const ActivationPlan& p, const std::vector<Interval>& iv) {
  size_t best = 0;
  for (int s = 0; s < static_cast<int>(p.steps.size()); ++s) {
    std::vector<const PlannedTensor*> live;
    for (size_t t = 0; t < p.tensors.size(); ++t) {
      if (iv[t].first <= s && s <= iv[t].last) live.push_back(&p.tensors[t]);
    }
    // Distinct byte ranges: an exact in-place pair occupies its bytes once.
    std::set<std::pair<size_t, size_t>> ranges;
    size_t sum = 0;
    for (const PlannedTensor* t : live) {
      if (ranges.insert({t->offset, t->bytes}).second) sum += t->bytes;
    }
    best = std::max(best, sum);
  }
  return best;
}

void check_plan(const ActivationPlan& p, const ActivationPlanOptions& o) {
  const std::vector<Interval> iv = derive_intervals(p);
  for (size_t t = 0; t < p.tensors.size(); ++t) {
    const PlannedTensor& pt = p.tensors[t];
    INFO(pt.name);
    REQUIRE(pt.first_step == iv[t].first);
    REQUIRE(pt.last_step == iv[t].last);
    REQUIRE(pt.offset % o.alignment == 0);
    REQUIRE(pt.bytes % o.alignment == 0);
    REQUIRE(pt.bytes >= size_t(pt.elements) * pt.element_bytes);
    REQUIRE(pt.offset + pt.bytes <= p.arena_bytes);
  }
  const std::string replayed = replay(p);
  REQUIRE(replayed == "");
  const std::string pairs = live_pairs(p, iv);
  REQUIRE(pairs == "");
  const size_t peak = largest_live_set(p, iv);
  REQUIRE(p.peak_live_bytes == peak);
  CHECK(p.arena_bytes >= peak);
  CHECK(double(p.arena_bytes) <= 1.1 * double(peak));
  // Today: one buffer per role, plus one workspace as large as the largest.
  size_t max_ws = 0;
  for (size_t b : o.conv_workspace_bytes) max_ws = std::max(max_ws, b);
  CHECK(p.arena_bytes < p.per_role_bytes + max_ws);
}

double mib(size_t b) { return double(b) / (1024.0 * 1024.0); }

}  // namespace

TEST_CASE("activation plan: every depth, several resolutions and batches, fp32 and 16-bit", "[plan]") {
  for (int depth : supported_depths()) {
    for (int res : {32, 33, 64, 97, 160, 224, 320}) {
      const NetworkDesc net = describe_network(config_for_depth(depth), res, res);
      for (int batch : {1, 3, 128}) {
        for (size_t bytes : {size_t(4), size_t(2)}) {
          INFO("RS-" << depth << " @" << res << " batch " << batch << " element bytes " << bytes);
          ActivationPlanOptions o;
          o.batch = batch;
          o.activation_bytes = bytes;
          const ActivationPlan p = plan_activations(net, o);
          check_plan(p, o);
        }
      }
    }
  }
}

TEST_CASE("activation plan: rectangular inputs, no staging, other alignments", "[plan]") {
  for (int depth : {50, 152, 420}) {
    const NetworkDesc net = describe_network(config_for_depth(depth), 33, 75);
    for (size_t align : {size_t(1), size_t(64), size_t(4096)}) {
      for (bool staging : {true, false}) {
        INFO("RS-" << depth << " alignment " << align << " staging " << staging);
        ActivationPlanOptions o;
        o.batch = 5;
        o.alignment = align;
        o.include_staging = staging;
        const ActivationPlan p = plan_activations(net, o);
        check_plan(p, o);
        const bool has_copy = std::any_of(p.steps.begin(), p.steps.end(), [](const PlanStep& s) { return s.name == "copy_in"; });
        CHECK(has_copy == staging);
      }
    }
  }
}

TEST_CASE("activation plan: cuDNN workspaces placed as tensors of their convolution's step", "[plan]") {
  const NetworkDesc net = describe_network(config_for_depth(101), 160, 160);
  size_t convs = 4;
  for (const BlockShape& b : net.blocks) convs += b.has_projection ? 4 : 3;
  std::mt19937 rng(12);
  std::uniform_int_distribution<size_t> ws(0, size_t(64) << 20);
  ActivationPlanOptions o;
  o.batch = 16;
  for (size_t i = 0; i < convs; ++i) o.conv_workspace_bytes.push_back(i % 5 == 0 ? 0 : ws(rng));
  const ActivationPlan p = plan_activations(net, o);
  check_plan(p, o);
  size_t n_ws = 0, max_ws = 0;
  for (const PlannedTensor& t : p.tensors) {
    if (t.buffer != ActivationBuffer::kConvWorkspace) continue;
    ++n_ws;
    max_ws = std::max(max_ws, t.bytes);
    CHECK(t.first_step == t.last_step);
  }
  size_t nonzero = 0;
  for (size_t b : o.conv_workspace_bytes) nonzero += b > 0;
  CHECK(n_ws == nonzero);
  CHECK(p.arena_bytes >= max_ws);
  // Without them the arena is smaller; with them it is never more than the activations' arena
  // plus one workspace as large as the largest (a separate allocation, as today).
  ActivationPlanOptions plain = o;
  plain.conv_workspace_bytes.clear();
  const ActivationPlan q = plan_activations(net, plain);
  CHECK(q.arena_bytes < p.arena_bytes);
  CHECK(p.arena_bytes <= q.arena_bytes + max_ws);

  o.conv_workspace_bytes.pop_back();
  CHECK_THROWS_WITH(plan_activations(net, o), Catch::Contains("conv_workspace_bytes has") && Catch::Contains("convolutions"));
}

TEST_CASE("activation plan: the steps and tensors are the CUDA engine's", "[plan]") {
  const NetworkDesc net = describe_network(config_for_depth(50), 160, 128);
  ActivationPlanOptions o;
  o.batch = 3;
  o.activation_bytes = 2;
  const ActivationPlan p = plan_activations(net, o);
  std::map<std::string, const PlannedTensor*> by_name;
  for (const PlannedTensor& t : p.tensors) by_name[t.name] = &t;
  std::map<std::string, const PlanStep*> step;
  for (const PlanStep& s : p.steps) step[s.name] = &s;

  // copy_in, normalize, 4 stem convs, per block 7 steps (+1 projection, +1 pool), head pool,
  // GEMM, bias, copy_out.
  size_t expected = 2 + 4 + 4;
  for (const BlockShape& b : net.blocks) expected += 7 + (b.has_projection ? 1 : 0) + (b.pool_shortcut ? 1 : 0);
  CHECK(p.steps.size() == expected);
  CHECK(p.steps.front().name == "copy_in");
  CHECK(p.steps.back().name == "copy_out");

  // Input pixels stay float32; activations take the storage size; the SE and head vectors float32.
  CHECK(by_name.at("input_staging")->element_bytes == 4);
  CHECK(by_name.at("input_staging")->elements == 3 * 3 * 160 * 128);
  CHECK(by_name.at("input_normalized")->element_bytes == 2);
  CHECK(by_name.at("stem/conv1/out")->elements == 3 * 32 * 80 * 64);
  CHECK(by_name.at("stem/conv1/out")->buffer == ActivationBuffer::kT1);
  CHECK(by_name.at("stem/conv4/out")->buffer == ActivationBuffer::kX);
  for (const BlockShape& b : net.blocks) {
    INFO(b.name);
    CHECK(by_name.at(b.conv1.name + "/out")->elements == 3 * int64_t(b.width) * b.h_in * b.w_in);
    CHECK(by_name.at(b.conv2.name + "/out")->elements == 3 * int64_t(b.width) * b.h_out * b.w_out);
    CHECK(by_name.at(b.conv3.name + "/out")->elements == 3 * int64_t(b.cout) * b.h_out * b.w_out);
    CHECK(by_name.at(b.conv3.name + "/out")->element_bytes == 2);
    CHECK(by_name.at(b.name + "/se_pooled")->elements == 3 * b.cout);
    CHECK(by_name.at(b.name + "/se_pooled")->element_bytes == 4);
    CHECK(by_name.at(b.name + "/se_hidden")->elements == 3 * b.se_channels);
    CHECK(by_name.at(b.name + "/se_gate")->element_bytes == 4);
    CHECK(by_name.count(b.name + "/shortcut_pooled") == (b.pool_shortcut ? 1u : 0u));
    CHECK(by_name.count(b.shortcut.name + "/out") == (b.has_projection ? 1u : 0u));
    if (b.pool_shortcut) CHECK(by_name.at(b.name + "/shortcut_pooled")->elements == 3 * int64_t(b.cin) * b.h_out * b.w_out);
    // The tail reads t3, the gate and the shortcut (the projection, or the block input).
    const PlanStep& tail = *step.at(b.name + "/tail");
    REQUIRE(tail.reads.size() == 3);
    CHECK(p.tensors[size_t(tail.reads[0])].name == b.conv3.name + "/out");
    CHECK(p.tensors[size_t(tail.reads[1])].name == b.name + "/se_gate");
    if (b.has_projection) CHECK(p.tensors[size_t(tail.reads[2])].name == b.shortcut.name + "/out");
    CHECK(tail.elementwise);
    // Its output takes over t3's bytes.
    const PlannedTensor& out = *by_name.at(b.name + "/out");
    CHECK(out.in_place_of == tail.reads[0]);
    CHECK(out.offset == p.tensors[size_t(tail.reads[0])].offset);
  }
  CHECK(by_name.at("head/pooled")->elements == 3 * 2048);
  CHECK(by_name.at("logits_staging")->elements == 3 * 1000);
  // Convolutions never run in place.
  for (const PlanStep& s : p.steps) {
    if (s.name.find("/conv") != std::string::npos || s.name.find("/shortcut") != std::string::npos) {
      if (s.name.find("shortcut_pool") == std::string::npos) CHECK_FALSE(s.elementwise);
    }
  }
}

TEST_CASE("activation plan: today's per-role arena matches what the CUDA engine allocated", "[plan]") {
  // docs/cuda-engine.md, measured on the H200: RS-50 @160, batch 128, fp32: activations 942 MiB
  // (the six role buffers, the SE/head vectors and the run_host staging).
  ActivationPlanOptions o;
  o.batch = 128;
  const ActivationPlan p = plan_activations(describe_network(config_for_depth(50), 160, 160), o);
  CHECK(mib(p.per_role_bytes) == Approx(942.0).margin(0.5));
  // 16-bit storage halves the activations but not the float32 vectors.
  o.activation_bytes = 2;
  const ActivationPlan h = plan_activations(describe_network(config_for_depth(50), 160, 160), o);
  CHECK(h.arena_bytes < p.arena_bytes * 0.55);
  CHECK(h.arena_bytes > p.arena_bytes * 0.45);
}

TEST_CASE("activation plan: bad options are refused with a clear message", "[plan]") {
  const NetworkDesc net = describe_network(config_for_depth(50), 64, 64);
  ActivationPlanOptions o;
  o.batch = 0;
  CHECK_THROWS_WITH(plan_activations(net, o), Catch::Contains("batch must be at least 1"));
  o.batch = 1;
  o.activation_bytes = 3;
  CHECK_THROWS_WITH(plan_activations(net, o), Catch::Contains("activation_bytes must be 1, 2, 4 or 8, got 3"));
  o.activation_bytes = 4;
  o.alignment = 96;
  CHECK_THROWS_WITH(plan_activations(net, o), Catch::Contains("alignment must be a power of two, got 96"));
  o.alignment = 0;
  CHECK_THROWS_AS(plan_activations(net, o), Error);
}

// Not run by ctest (hidden): prints the table of docs/cuda-engine.md.
//   build/tests/resnetrs_tests_unit "[.plan-report]"
TEST_CASE("activation plan: report for the 11 release configs", "[.plan-report]") {
  const std::pair<int, int> configs[] = {{50, 160},  {101, 160}, {101, 192}, {152, 192}, {152, 224}, {152, 256},
                                         {200, 256}, {270, 256}, {350, 256}, {350, 320}, {420, 320}};
  std::printf("| config | today, one buffer per role (MiB) | planned arena fp32 (MiB) | largest live set (MiB) | "
              "planned / live | planned / today | planned arena fp16/bf16 (MiB) |\n|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [depth, res] : configs) {
    const NetworkDesc net = describe_network(config_for_depth(depth), res, res);
    ActivationPlanOptions o;
    o.batch = 128;
    const ActivationPlan p = plan_activations(net, o);
    o.activation_bytes = 2;
    const ActivationPlan h = plan_activations(net, o);
    std::printf("| RS-%d @%d | %.0f | %.0f | %.0f | %.3f | %.2f | %.0f |\n", depth, res, mib(p.per_role_bytes), mib(p.arena_bytes),
                mib(p.peak_live_bytes), p.ratio(), double(p.arena_bytes) / double(p.per_role_bytes), mib(h.arena_bytes));
  }
  SUCCEED();
}
