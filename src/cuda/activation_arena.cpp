#include "cuda/activation_arena.h"

#include <algorithm>
#include <map>
#include <string>

#include "common/error.h"
#include "model/activation_plan.h"

namespace resnetrs::cuda {
namespace {

constexpr size_t kAlign = 256;
size_t round_up(size_t n) { return (std::max<size_t>(n, 1) + kAlign - 1) / kAlign * kAlign; }

}  // namespace

ArenaLayout per_role_layout(const NetworkDesc& net, const EnginePlan& plan, int max_batch, size_t act_bytes) {
  RESNETRS_CHECK_ARG(max_batch >= 1, "arena: max_batch must be >= 1");
  RESNETRS_CHECK_ARG(act_bytes == 2 || act_bytes == 4, "arena: activation bytes must be 2 or 4");
  const size_t n = size_t(max_batch);
  ArenaLayout a;
  size_t top = 0;
  auto region = [&](size_t bytes) {
    Slot s{top, round_up(bytes)};
    top += s.bytes;
    return s;
  };
  Slot role[kBufCount];
  for (int b = 0; b < kBufCount; ++b) {
    // PAD (explicitly padded convs, Model Garden only): no region at all when unused, so the TF1
    // release keeps exactly the layout it always had.
    const size_t floats = size_t(plan.buffer_floats[size_t(b)]);
    role[b] = b == kBufPad && floats == 0 ? Slot{top, 0} : region(floats * n * act_bytes);
  }
  const size_t c = size_t(std::max(plan.max_block_channels, kFinalChannels));
  const Slot pooled = region(n * c * sizeof(float));
  const Slot hidden = region(n * size_t(std::max(plan.max_se_channels, 1)) * sizeof(float));
  const Slot gate = region(n * c * sizeof(float));
  a.head_pooled = region(n * kFinalChannels * sizeof(float));
  a.logits_raw = region(n * size_t(net.num_classes) * sizeof(float));
  a.host_input = region(n * 3 * size_t(net.height) * size_t(net.width) * sizeof(float));
  a.host_logits = region(n * size_t(net.num_classes) * sizeof(float));
  a.bytes = top;
  a.normalized = role[kBufX];
  for (const ConvLayer& l : plan.convs) a.convs.push_back(ConvSlots{role[l.in], role[l.out], l.pad.active ? role[l.pad.from] : Slot{}});
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockShape& b = net.blocks[i];
    BlockSlots bs;
    bs.x_in = role[kBufX];
    bs.t3 = role[kBufT3];
    bs.pooled = pooled;
    bs.hidden = hidden;
    bs.gate = gate;
    if (b.has_projection && b.pool_shortcut) bs.pi = role[kBufPI];
    if (b.has_projection) bs.sc = role[kBufSC];
    bs.out = role[kBufX];
    a.blocks.push_back(bs);
  }
  a.final_x = role[kBufX];
  return a;
}

ArenaLayout liveness_layout(const NetworkDesc& net, const EnginePlan& plan, int max_batch, size_t act_bytes) {
  ActivationPlanOptions o;
  o.batch = max_batch;
  o.activation_bytes = act_bytes;
  o.alignment = kAlign;
  o.include_staging = true;
  const ActivationPlan p = plan_activations(net, o);

  std::map<std::string, int> tensor_index, step_index;
  for (size_t t = 0; t < p.tensors.size(); ++t) tensor_index[p.tensors[t].name] = int(t);
  for (size_t s = 0; s < p.steps.size(); ++s) step_index[p.steps[s].name] = int(s);
  auto slot_of = [&](int t) {
    const PlannedTensor& pt = p.tensors.at(size_t(t));
    return Slot{pt.offset, pt.bytes};
  };
  auto tensor = [&](const std::string& name) {
    auto it = tensor_index.find(name);
    if (it == tensor_index.end()) throw_error(Status::kInternal, "arena: the activation plan has no tensor " + name);
    return slot_of(it->second);
  };
  auto step = [&](const std::string& name) -> const PlanStep& {
    auto it = step_index.find(name);
    if (it == step_index.end()) throw_error(Status::kInternal, "arena: the activation plan has no step " + name);
    return p.steps[size_t(it->second)];
  };

  ArenaLayout a;
  a.by_liveness = true;
  a.bytes = p.arena_bytes;
  a.host_input = tensor("input_staging");
  a.normalized = tensor("input_normalized");
  for (const ConvLayer& l : plan.convs) {
    const PlanStep& s = step(l.shape.name);
    if (s.reads.size() != 1 || s.writes.empty()) throw_error(Status::kInternal, "arena: unexpected step " + s.name);
    a.convs.push_back(ConvSlots{slot_of(s.reads[0]), slot_of(s.writes[0]), Slot{}});
  }
  // Explicitly padded convs: the planned input becomes the zero-pad source, the conv reads one
  // extra region after the planned tensors, sized for the largest padded input.
  size_t pad_bytes = 0;
  for (size_t i = 0; i < plan.convs.size(); ++i) {
    const ConvLayer& l = plan.convs[i];
    if (!l.pad.active) continue;
    pad_bytes = std::max(pad_bytes, size_t(l.shape.cin) * size_t(l.shape.h_in) * size_t(l.shape.w_in) * size_t(max_batch) * act_bytes);
  }
  if (pad_bytes > 0) {
    const Slot pad{round_up(a.bytes), round_up(pad_bytes)};
    a.bytes = pad.end();
    for (size_t i = 0; i < plan.convs.size(); ++i) {
      if (!plan.convs[i].pad.active) continue;
      a.convs[i].src = a.convs[i].in;
      a.convs[i].in = pad;
    }
  }
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockShape& b = net.blocks[i];
    const BlockPlan& bp = plan.blocks[i];
    BlockSlots bs;
    bs.x_in = a.convs[size_t(bp.conv1)].in;
    bs.t3 = a.convs[size_t(bp.conv3)].out;
    bs.pooled = tensor(b.name + "/se_pooled");
    bs.hidden = tensor(b.name + "/se_hidden");
    bs.gate = tensor(b.name + "/se_gate");
    if (b.has_projection && b.pool_shortcut) bs.pi = tensor(b.name + "/shortcut_pooled");
    if (bp.shortcut >= 0) bs.sc = a.convs[size_t(bp.shortcut)].out;
    bs.out = tensor(b.name + "/out");
    a.blocks.push_back(bs);
  }
  a.final_x = slot_of(step("head/pool").reads.at(0));
  a.head_pooled = tensor("head/pooled");
  a.logits_raw = tensor("head/logits_raw");
  a.host_logits = tensor("logits_staging");
  return a;
}

}  // namespace resnetrs::cuda
