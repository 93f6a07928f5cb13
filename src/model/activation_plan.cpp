#include "model/activation_plan.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"

namespace resnetrs {
namespace {

size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

// Builds the steps and tensors in the CUDA engine's stream order (src/cuda/cuda_engine_forward.cpp).
class PlanBuilder {
 public:
  PlanBuilder(const NetworkDesc& net, const ActivationPlanOptions& o) : m_net(net), m_o(o) {}

  struct Result {
    ActivationPlan plan;
    std::vector<std::vector<int>> in_place;  // per step: the inputs its output may overwrite
  };

  Result build() {
    const int64_t n = m_o.batch;
    const size_t act = m_o.activation_bytes;
    const size_t f32 = sizeof(float);
    const int64_t hw_in = int64_t(m_net.height) * m_net.width;

    // Input: run_host stages the caller's pixels; normalize writes the activation type.
    std::vector<int> norm_reads;
    if (m_o.include_staging) {
      const int staged = tensor("input_staging", ActivationBuffer::kHostInput, n * 3 * hw_in, f32);
      step("copy_in", {}, {staged});
      norm_reads.push_back(staged);
    }
    int x = tensor("input_normalized", ActivationBuffer::kX, n * 3 * hw_in, act);
    step("normalize", norm_reads, {x});

    // Stem: X -> T1 -> X -> T1 -> X.
    const ActivationBuffer stem_buf[4] = {ActivationBuffer::kT1, ActivationBuffer::kX, ActivationBuffer::kT1,
                                          ActivationBuffer::kX};
    for (int i = 0; i < 4; ++i) x = conv(m_net.stem[i], x, stem_buf[i]);

    for (const BlockShape& b : m_net.blocks) x = block(b, x);

    // Head: pool -> GEMM -> bias (into the staging, or the caller's logits) -> copy out.
    const int pooled = tensor("head/pooled", ActivationBuffer::kHeadPooled, n * kFinalChannels, f32);
    step("head/pool", {x}, {pooled});
    const int raw = tensor("head/logits_raw", ActivationBuffer::kLogitsRaw, n * m_net.num_classes, f32);
    step("head/gemm", {pooled}, {raw});
    if (m_o.include_staging) {
      const int staged = tensor("logits_staging", ActivationBuffer::kHostLogits, n * m_net.num_classes, f32);
      step("head/bias", {raw}, {staged}, /*elementwise=*/true, {raw});
      step("copy_out", {staged}, {});
    } else {
      step("head/bias", {raw}, {});
    }
    return Result{std::move(m_plan), std::move(m_in_place)};
  }

 private:
  int tensor(std::string name, ActivationBuffer buffer, int64_t elements, size_t element_bytes) {
    PlannedTensor t;
    t.name = std::move(name);
    t.buffer = buffer;
    t.elements = elements;
    t.element_bytes = element_bytes;
    t.bytes = round_up(std::max<size_t>(size_t(elements) * element_bytes, 1), m_o.alignment);
    m_plan.tensors.push_back(std::move(t));
    return static_cast<int>(m_plan.tensors.size()) - 1;
  }

  // `in_place` lists, in order of preference, the inputs whose storage the (single) output may
  // take over; only for elementwise steps.
  void step(std::string name, std::vector<int> reads, std::vector<int> writes, bool elementwise = false,
            std::vector<int> in_place = {}) {
    PlanStep s;
    s.name = std::move(name);
    s.reads = std::move(reads);
    s.writes = std::move(writes);
    s.elementwise = elementwise;
    m_plan.steps.push_back(std::move(s));
    m_in_place.push_back(std::move(in_place));
  }

  int conv(const ConvShape& s, int in, ActivationBuffer out_buffer) {
    const int out = tensor(s.name + "/out", out_buffer, int64_t(m_o.batch) * s.cout * s.h_out * s.w_out, m_o.activation_bytes);
    std::vector<int> writes{out};
    if (!m_o.conv_workspace_bytes.empty()) {
      const size_t ws = m_o.conv_workspace_bytes[m_conv_index];
      if (ws > 0) writes.push_back(tensor(s.name + "/workspace", ActivationBuffer::kConvWorkspace, int64_t(ws), 1));
    }
    ++m_conv_index;
    step(s.name, {in}, writes);
    return out;
  }

  int block(const BlockShape& b, int x) {
    const int64_t n = m_o.batch;
    const size_t f32 = sizeof(float);
    const int t1 = conv(b.conv1, x, ActivationBuffer::kT1);
    const int t2 = conv(b.conv2, t1, ActivationBuffer::kT2);
    const int t3 = conv(b.conv3, t2, ActivationBuffer::kT3);
    const int pooled = tensor(b.name + "/se_pooled", ActivationBuffer::kSePooled, n * b.cout, f32);
    step(b.name + "/se_squeeze", {t3}, {pooled});
    const int hidden = tensor(b.name + "/se_hidden", ActivationBuffer::kSeHidden, n * b.se_channels, f32);
    step(b.name + "/se_reduce", {pooled}, {hidden});
    const int gate = tensor(b.name + "/se_gate", ActivationBuffer::kSeGate, n * b.cout, f32);
    step(b.name + "/se_expand", {hidden}, {gate});
    int shortcut = x;
    if (b.has_projection) {
      int src = x;
      if (b.pool_shortcut) {
        src = tensor(b.name + "/shortcut_pooled", ActivationBuffer::kPI, n * b.cin * b.h_out * b.w_out, m_o.activation_bytes);
        step(b.name + "/shortcut_pool", {x}, {src});
      }
      shortcut = conv(b.shortcut, src, ActivationBuffer::kSC);
    }
    const int out = tensor(b.name + "/out", ActivationBuffer::kX, n * b.cout * b.h_out * b.w_out, m_o.activation_bytes);
    // The tail reads t3, the gate and the shortcut element by element and may write over t3
    // or over the identity shortcut (the block input) in place.
    std::vector<int> in_place{t3};
    if (!b.has_projection) in_place.push_back(x);
    step(b.name + "/tail", {t3, gate, shortcut}, {out}, /*elementwise=*/true, in_place);
    return out;
  }

  const NetworkDesc& m_net;
  const ActivationPlanOptions& m_o;
  size_t m_conv_index = 0;
  ActivationPlan m_plan;
  std::vector<std::vector<int>> m_in_place;
};

// Tensors that share storage through in-place steps form one group, placed as one block.
struct Group {
  std::vector<int> members;
  int first = 0, last = 0;
  size_t bytes = 0;
  size_t offset = 0;
  bool workspace = false;  // a convolution's cuDNN workspace
};

void compute_intervals(ActivationPlan& plan) {
  for (int s = 0; s < static_cast<int>(plan.steps.size()); ++s) {
    for (int t : plan.steps[size_t(s)].writes) {
      if (plan.tensors[size_t(t)].first_step >= 0) throw_error(Status::kInternal, "plan: " + plan.tensors[size_t(t)].name + " written twice");
      plan.tensors[size_t(t)].first_step = s;
      plan.tensors[size_t(t)].last_step = s;
    }
    for (int t : plan.steps[size_t(s)].reads) {
      PlannedTensor& pt = plan.tensors[size_t(t)];
      if (pt.first_step < 0 || pt.first_step >= s) throw_error(Status::kInternal, "plan: " + pt.name + " read before it is written");
      pt.last_step = std::max(pt.last_step, s);
    }
  }
}

// Greedy by size with best fit: the largest group first, into the smallest gap between the
// groups already placed that are alive at some common step (else above all of them). Only the
// groups with use[g] set are placed, starting from base. Returns the end of the highest one.
size_t place(std::vector<Group>& groups, const std::vector<bool>& use, size_t base, size_t alignment) {
  std::vector<int> order;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (use[g]) order.push_back(static_cast<int>(g));
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (groups[size_t(a)].bytes != groups[size_t(b)].bytes) return groups[size_t(a)].bytes > groups[size_t(b)].bytes;
    return groups[size_t(a)].first < groups[size_t(b)].first;
  });
  std::vector<int> placed;
  std::vector<int> conflicts;
  size_t top = base;
  for (int gi : order) {
    Group& g = groups[size_t(gi)];
    conflicts.clear();
    for (int pi : placed) {
      const Group& p = groups[size_t(pi)];
      if (p.first <= g.last && g.first <= p.last) conflicts.push_back(pi);
    }
    std::sort(conflicts.begin(), conflicts.end(), [&](int a, int b) { return groups[size_t(a)].offset < groups[size_t(b)].offset; });
    size_t end = base, best = SIZE_MAX, best_gap = SIZE_MAX;
    for (int ci : conflicts) {
      const Group& c = groups[size_t(ci)];
      if (c.offset > end && c.offset - end >= g.bytes && c.offset - end < best_gap) {
        best = end;
        best_gap = c.offset - end;
      }
      end = std::max(end, c.offset + c.bytes);
    }
    g.offset = best != SIZE_MAX ? best : round_up(end, alignment);
    placed.push_back(gi);
    top = std::max(top, g.offset + g.bytes);
  }
  return top;
}

}  // namespace

const char* activation_buffer_name(ActivationBuffer b) {
  static const char* const names[] = {"X", "T1", "T2", "T3", "SC", "PI", "se_pooled", "se_hidden", "se_gate", "head_pooled",
                                      "logits_raw", "host_input", "host_logits", "conv_workspace"};
  static_assert(sizeof(names) / sizeof(names[0]) == size_t(ActivationBuffer::kCount), "one name per buffer");
  const int i = static_cast<int>(b);
  return i >= 0 && i < static_cast<int>(ActivationBuffer::kCount) ? names[i] : "?";
}

ActivationPlan plan_activations(const NetworkDesc& net, const ActivationPlanOptions& options) {
  RESNETRS_CHECK_ARG(options.batch >= 1, "activation plan: batch must be at least 1, got " + std::to_string(options.batch));
  const size_t e = options.activation_bytes;
  RESNETRS_CHECK_ARG(e == 1 || e == 2 || e == 4 || e == 8,
                     "activation plan: activation_bytes must be 1, 2, 4 or 8, got " + std::to_string(e));
  const size_t a = options.alignment;
  RESNETRS_CHECK_ARG(a >= 1 && (a & (a - 1)) == 0,
                     "activation plan: alignment must be a power of two, got " + std::to_string(a));
  size_t convs = 4;
  for (const BlockShape& b : net.blocks) convs += b.has_projection ? 4 : 3;
  RESNETRS_CHECK_ARG(options.conv_workspace_bytes.empty() || options.conv_workspace_bytes.size() == convs,
                     "activation plan: conv_workspace_bytes has " + std::to_string(options.conv_workspace_bytes.size()) +
                         " entries; the network has " + std::to_string(convs) + " convolutions");

  PlanBuilder::Result built = PlanBuilder(net, options).build();
  ActivationPlan& plan = built.plan;
  compute_intervals(plan);

  // In place: an elementwise step's output takes over the first candidate input that dies
  // there, has the same element size and is at least as large (and is not taken already).
  std::vector<bool> taken(plan.tensors.size(), false);
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const PlanStep& st = plan.steps[s];
    if (!st.elementwise || st.writes.size() != 1) continue;
    PlannedTensor& out = plan.tensors[size_t(st.writes[0])];
    for (int c : built.in_place[s]) {
      const PlannedTensor& in = plan.tensors[size_t(c)];
      if (!taken[size_t(c)] && in.last_step == int(s) && in.element_bytes == out.element_bytes && in.bytes >= out.bytes) {
        out.in_place_of = c;
        taken[size_t(c)] = true;
        break;
      }
    }
  }

  // Groups: follow in-place chains back to their root.
  std::vector<int> group_of(plan.tensors.size(), -1);
  std::vector<Group> groups;
  for (size_t t = 0; t < plan.tensors.size(); ++t) {
    const PlannedTensor& pt = plan.tensors[t];
    int g;
    if (pt.in_place_of >= 0) {
      g = group_of[size_t(pt.in_place_of)];
    } else {
      g = static_cast<int>(groups.size());
      groups.push_back(Group{{}, pt.first_step, pt.last_step, 0, 0, pt.buffer == ActivationBuffer::kConvWorkspace});
    }
    group_of[t] = g;
    Group& gr = groups[size_t(g)];
    gr.members.push_back(static_cast<int>(t));
    gr.first = std::min(gr.first, pt.first_step);
    gr.last = std::max(gr.last, pt.last_step);
    gr.bytes = std::max(gr.bytes, pt.bytes);
  }
  const std::vector<bool> all(groups.size(), true);
  plan.arena_bytes = place(groups, all, 0, a);
  bool any_workspace = false;
  for (const Group& g : groups) any_workspace |= g.workspace;
  if (any_workspace) {
    // Greedy is not optimal: never do worse than the activations alone with the workspaces
    // stacked above them (their own region, as a separate allocation would be).
    std::vector<Group> alt = groups;
    std::vector<bool> acts(alt.size()), wss(alt.size());
    for (size_t g = 0; g < alt.size(); ++g) {
      acts[g] = !alt[g].workspace;
      wss[g] = alt[g].workspace;
    }
    const size_t top = place(alt, acts, 0, a);
    const size_t alt_arena = place(alt, wss, round_up(top, a), a);
    if (alt_arena < plan.arena_bytes) {
      groups = std::move(alt);
      plan.arena_bytes = alt_arena;
    }
  }
  for (const Group& g : groups) {
    for (int t : g.members) plan.tensors[size_t(t)].offset = g.offset;
  }

  // The largest live set: per step, every live tensor, an in-place output counted once with the
  // tensor it overwrites (at that step both are live at the same bytes).
  std::vector<size_t> live(plan.steps.size(), 0);
  for (const PlannedTensor& t : plan.tensors) {
    for (int s = t.first_step; s <= t.last_step; ++s) live[size_t(s)] += t.bytes;
    if (t.in_place_of >= 0) live[size_t(t.first_step)] -= t.bytes;
  }
  for (size_t s = 0; s < live.size(); ++s) {
    if (live[s] > plan.peak_live_bytes) {
      plan.peak_live_bytes = live[s];
      plan.peak_step = static_cast<int>(s);
    }
  }

  // Today's arena: one buffer per role, each as large as the largest tensor it ever holds.
  size_t role_max[size_t(ActivationBuffer::kCount)] = {};
  for (const PlannedTensor& t : plan.tensors) {
    size_t& m = role_max[size_t(t.buffer)];
    m = std::max(m, size_t(t.elements) * t.element_bytes);
  }
  for (size_t b = 0; b < size_t(ActivationBuffer::kCount); ++b) {
    if (b != size_t(ActivationBuffer::kConvWorkspace)) plan.per_role_bytes += role_max[b];
  }
  return std::move(built.plan);
}

}  // namespace resnetrs
