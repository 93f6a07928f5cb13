#include "cpu/fast/conv_choice.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>

#include "common/error.h"
#include "cpu/fast/cpu_isa.h"
#include "cpu/fast/gemm_conv1x1.h"
#include "cpu/fast/onednn_conv.h"
#include "cpu/fast/conv_error_probe.h"
#include "cpu/fast/winograd_conv.h"

namespace resnetrs::cpu::fast {

// Builds, probes and times the candidates of one layer (choose_conv adds the remembered choices).
ConvChoice choose_conv_once(const ConvShape& s, const FoldedConv& f, const ChoiceContext& ctx);

namespace {

// Our Winograd convolution (winograd_conv.h) as a candidate, for up to the engine's thread count.
class WinogradImpl final : public ConvImpl {
 public:
  WinogradImpl(WinogradTile tile, const ConvShape& s, CpuIsa isa, int max_batch, int threads, const FoldedConv& f)
      : m_tile(tile), m_threads(threads),
        m_conv(tile, isa, s.cin, s.cout, s.h_in, s.w_in, max_batch, f.weight.data(), f.bias.empty() ? nullptr : f.bias.data(),
               isa_act(s.act)) {}
  std::string name() const override { return std::string("winograd ") + winograd_tile_name(m_tile); }
  bool is_winograd() const override { return true; }
  size_t workspace_bytes() const override { return m_conv.workspace_floats(m_threads) * sizeof(float); }
  void run(const float* in, int batch, float* out, void* workspace, int threads) override {
    m_conv.run(in, batch, out, static_cast<float*>(workspace), std::min(threads, m_threads));
  }

 private:
  WinogradTile m_tile;
  int m_threads;
  WinogradConv3x3 m_conv;
};

// Builds a candidate for a layer of `shape` and up to `max_batch` images (null: does not apply here).
using Factory = std::function<std::unique_ptr<ConvImpl>(const ConvShape& shape, int max_batch)>;

bool is_3x3_stride1(const ConvShape& s) {
  return s.kernel == 3 && s.stride == 1 && s.pad == 1 && s.pad_top == 1 && s.pad_left == 1;
}
bool is_1x1_stride1(const ConvShape& s) {
  return s.kernel == 1 && s.stride == 1 && s.pad == 0 && s.pad_top == 0 && s.pad_left == 0;
}

std::vector<Factory> candidate_factories(const ConvShape& s, const FoldedConv& f, const ChoiceContext& ctx) {
  std::vector<Factory> out;
  const float* w = f.weight.data();
  const float* b = f.bias.empty() ? nullptr : f.bias.data();
  out.push_back([=](const ConvShape& g, int n) -> std::unique_ptr<ConvImpl> {
    return make_onednn_conv(g, OneDnnAlgorithm::kDirect, n, w, b);
  });
  if (is_1x1_stride1(s)) {
    const IsaKernels& k = isa_kernels(ctx.isa);
    out.push_back([=, &k](const ConvShape& g, int) -> std::unique_ptr<ConvImpl> {
      return std::make_unique<GemmConv1x1>(g, k, w, b);
    });
  }
  if (is_3x3_stride1(s) && ctx.winograd != CpuWinograd::kOff) {
    out.push_back([=](const ConvShape& g, int n) -> std::unique_ptr<ConvImpl> {
      return make_onednn_conv(g, OneDnnAlgorithm::kWinograd, n, w, b);
    });
    for (WinogradTile tile : {WinogradTile::kF2x2, WinogradTile::kF4x4}) {
      const CpuIsa isa = ctx.isa;
      const int threads = ctx.threads;
      out.push_back([=, &f](const ConvShape& g, int n) -> std::unique_ptr<ConvImpl> {
        return std::make_unique<WinogradImpl>(tile, g, isa, n, threads, f);
      });
    }
  }
  return out;
}

// The layer cropped to at most 12x12 output for the accuracy probe (3x3 stride 1: same size in and out).
ConvShape probe_shape(const ConvShape& s) {
  ConvShape g = s;
  g.h_in = g.h_out = std::min(s.h_out, 12);
  g.w_in = g.w_out = std::min(s.w_out, 12);
  return g;
}

double time_ms(ConvImpl& impl, const ChoiceContext& ctx, void* workspace) {
  impl.run(ctx.scratch_in, ctx.tune_batch, ctx.scratch_out, workspace, ctx.threads);  // warm-up
  double best = 1e30;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    impl.run(ctx.scratch_in, ctx.tune_batch, ctx.scratch_out, workspace, ctx.threads);
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// The choices made in this process, so that an engine built again for the same layer (shape,
// weights, options) runs the same algorithms and gives bit-identical results, without timing again.
class RememberedChoices {
 public:
  static std::string key(const ConvShape& s, const FoldedConv& f, const ChoiceContext& ctx) {
    // FNV-1a over the weights (the accuracy rule depends on them), a 64-bit word at a time: byte by
    // byte it showed in perf profiles of an engine build (0.5-3% of it).
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const void* data, size_t bytes) {
      const auto* p = static_cast<const unsigned char*>(data);
      size_t i = 0;
      for (; i + 8 <= bytes; i += 8) {
        uint64_t word;
        std::memcpy(&word, p + i, 8);
        h = (h ^ word) * 1099511628211ull;
      }
      for (; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
    };
    mix(f.weight.data(), f.weight.size() * sizeof(float));
    mix(f.bias.data(), f.bias.size() * sizeof(float));
    return std::to_string(s.cin) + "x" + std::to_string(s.cout) + " k" + std::to_string(s.kernel) + " s" +
           std::to_string(s.stride) + " p" + std::to_string(s.pad_top) + "," + std::to_string(s.pad_left) + " " +
           std::to_string(s.h_in) + "x" + std::to_string(s.w_in) + " act" + std::to_string(int(s.act)) + " threads" +
           std::to_string(ctx.threads) + " isa" + std::to_string(int(ctx.isa)) + " wino" + std::to_string(int(ctx.winograd)) +
           " batch" + std::to_string(ctx.max_batch) + "/" + std::to_string(ctx.tune_batch) + " w" + std::to_string(h);
  }
  std::string find(const std::string& key) {
    std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = m_choices.find(key);
    return it == m_choices.end() ? std::string() : it->second;
  }
  void remember(const std::string& key, const std::string& name) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_choices[key] = name;
  }
  static RememberedChoices& instance() {
    static RememberedChoices choices;
    return choices;
  }

 private:
  std::mutex m_mutex;
  std::map<std::string, std::string> m_choices;
};

}  // namespace

std::string cpu_cache_machine(const std::string& onednn_version, const std::string& onednn_isa) {
  std::string model = "unknown-cpu";
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      model = line.substr(line.find(':') + 1);
      break;
    }
  }
  std::string out = model + "|onednn" + onednn_version + ":" + onednn_isa;
  for (char& c : out) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '|' || c == ':')) c = '_';
  }
  return out;
}

ChoiceCacheFile cpu_tuning_cache(const std::string& path) {
  return ChoiceCacheFile(path, "cpu1|", [](const std::string& value) { return !value.empty(); });
}

ConvChoice choose_conv(const ConvShape& s, const FoldedConv& f, const ChoiceContext& given) {
  if (!given.forced.empty()) return choose_conv_once(s, f, given);
  // One layer is chosen at a time in a process: engines built in parallel for the same model then
  // get the same choice (the first decides, the others find it remembered), and no timing is
  // taken while another engine's candidates compete for the same cores.
  static std::mutex choosing;
  std::lock_guard<std::mutex> lock(choosing);
  const std::string key = RememberedChoices::key(s, f, given);
  const std::string file_key = "cpu1|" + given.cache_machine + "|" + key;
  // The cache file first (what the user asked to reproduce), then this process's earlier choice.
  std::string known;
  if (given.cache) given.cache->lookup(file_key, &known);
  if (known.empty()) known = RememberedChoices::instance().find(key);
  if (!known.empty()) {
    ChoiceContext ctx = given;
    ctx.forced = known;
    try {
      ConvChoice choice = choose_conv_once(s, f, ctx);
      RememberedChoices::instance().remember(key, known);
      std::string in_file;
      if (given.cache && !(given.cache->lookup(file_key, &in_file) && in_file == known)) given.cache->put(file_key, known);
      return choice;
    } catch (const Error& e) {
      if (e.status() != Status::kInvalidArgument) throw;  // no longer a candidate here: time again
    }
  }
  ConvChoice choice = choose_conv_once(s, f, given);
  RememberedChoices::instance().remember(key, choice.impl->name());
  if (given.cache) given.cache->put(file_key, choice.impl->name());
  return choice;
}

ConvChoice choose_conv_once(const ConvShape& s, const FoldedConv& f, const ChoiceContext& ctx) {
  ConvChoice choice;
  std::vector<std::unique_ptr<ConvImpl>> built;
  std::vector<Factory> factories = candidate_factories(s, f, ctx);
  // The accuracy probe of this layer and the direct convolution's error on it, made on first need.
  std::unique_ptr<ConvErrorProbe> probe;
  double direct_error = 0;
  const ConvShape g = probe_shape(s);
  for (const Factory& make : factories) {
    std::unique_ptr<ConvImpl> impl = make(s, ctx.max_batch);
    if (!impl) continue;
    CandidateReport r;
    r.name = impl->name();
    if (!ctx.forced.empty() && r.name != ctx.forced) {
      r.eligible = false;
      r.why_not = "not the forced choice";
    }
    if (r.eligible && impl->is_winograd() && ctx.winograd == CpuWinograd::kAuto) {
      // The accuracy rule: error vs float64 at most 2x the direct convolution's on the same sample.
      std::vector<float> got(size_t(g.h_out) * g.w_out * g.cout);
      if (!probe) {
        probe = std::make_unique<ConvErrorProbe>(probe_geometry(s, 1, g.h_in, g.w_in), f.weight.data(),
                                                 f.bias.empty() ? nullptr : f.bias.data(), isa_act(s.act), /*seed=*/20);
        std::unique_ptr<ConvImpl> direct = make_onednn_conv(g, OneDnnAlgorithm::kDirect, 1, f.weight.data(), f.bias.data());
        std::vector<std::byte> ws(direct->workspace_bytes() + 64);
        direct->run(probe->input_nhwc(), 1, got.data(), ws.data(), ctx.threads);
        direct_error = probe->error(got.data());
      }
      std::unique_ptr<ConvImpl> small = make(g, 1);  // the same candidate for the cropped layer
      std::vector<std::byte> ws(small->workspace_bytes() + 64);
      small->run(probe->input_nhwc(), 1, got.data(), ws.data(), ctx.threads);
      r.direct_error = direct_error;
      r.error = probe->error(got.data());
      if (r.error > 2 * r.direct_error) {
        r.eligible = false;
        r.why_not = "error " + std::to_string(r.error) + " > 2x the direct convolution's " + std::to_string(r.direct_error);
      }
    }
    choice.candidates.push_back(r);
    built.push_back(std::move(impl));
  }
  size_t best = built.size();
  for (size_t i = 0; i < built.size(); ++i) {
    CandidateReport& r = choice.candidates[i];
    if (!r.eligible) continue;
    if (ctx.forced.empty()) {
      std::vector<std::byte> ws(built[i]->workspace_bytes() + 64);
      r.ms = time_ms(*built[i], ctx, ws.data());
    }
    if (best == built.size() || (r.ms >= 0 && r.ms < choice.candidates[best].ms)) best = i;
  }
  if (best == built.size()) {
    std::string names;
    for (const CandidateReport& r : choice.candidates) names += (names.empty() ? "" : ", ") + r.name;
    if (ctx.forced.empty()) throw_error(Status::kInternal, "no convolution implementation for " + s.name);
    throw_error(Status::kInvalidArgument,
                "forced algorithm '" + ctx.forced + "' is not a candidate for " + s.name + " (candidates: " + names + ")");
  }
  choice.impl = std::move(built[best]);
  return choice;
}

}  // namespace resnetrs::cpu::fast
