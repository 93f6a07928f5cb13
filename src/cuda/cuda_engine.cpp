// The CUDA backend (docs/cuda-engine.md): cuDNN convolutions chosen per layer by timing, our
// kernels for everything else, a CUDA graph per batch size, all device memory allocated at build.
//
// Dataflow mirrors the CPU engine (src/cpu/cpu_engine.cpp) buffer for buffer (engine_plan.h):
//   normalize(input) -> X; stem X->T1->X->T1->X; per block: conv1 X->T1, conv2 T1->T2,
//   conv3 T2->T3, squeeze T3 -> pooled, excite pooled -> hidden -> gate, shortcut X [pool -> PI]
//   -> SC, tail (T3, gate, shortcut) -> X; head: pool X -> head_pooled, GEMM -> logits_raw;
//   bias add logits_raw -> caller's logits.
// The graph holds everything from the stem to the GEMM; the normalize kernel (reads the caller's
// input) and the bias add (writes the caller's logits) run outside it, so no copy is needed.
//
// Threading: calls are serialized by a mutex; one engine serves one thread at a time (use one
// engine per thread for concurrency). run_device returns before completion; a later call on a
// different stream waits (cudaStreamWaitEvent) for the previous run, since runs share the arena.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "cuda/conv_choice.h"
#include "cuda/conv_tuner.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_engine_info.h"
#include "cuda/cuda_raii.h"
#include "cuda/cudnn_legacy_conv.h"
#include "cuda/device_info.h"
#include "cuda/device_weights.h"
#include "cuda/engine_plan.h"
#include "cuda/tuning_cache.h"
#include "engine/engine.h"
#include "engine/gpu_gate.h"
#include "kernels/avg_pool_2x2.cuh"
#include "kernels/bias_add.cuh"
#include "kernels/block_tail.cuh"
#include "kernels/global_avg_pool.cuh"
#include "kernels/normalize_input.cuh"
#include "kernels/se_excite.cuh"

namespace resnetrs {
namespace {

using cuda::ConvChoice;
using cuda::ConvGeometry;
using cuda::ConvMode;
using cuda::DeviceBuffer;
using cuda::LegacyConv;
using kernels::TensorLayout;

// cuBLAS workspace we hand to the handle (cublasSetWorkspace) so it never allocates, in
// particular not while a graph is being captured; 32 MiB is NVIDIA's recommendation for Hopper.
constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}

std::string mib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  return text;
}

class CudaEngine final : public Engine {
 public:
  CudaEngine(const FoldedWeights& weights, const EngineOptions& options, const CudaEngineTweaks& tweaks);
  ~CudaEngine() override;

  const NetworkDesc& network() const override { return m_net; }
  const EngineOptions& options() const override { return m_options; }
  void run_host(const float* input, int batch, float* logits) override;
  void run_device(const float* input, int batch, float* logits, void* stream) override;

  size_t device_bytes() const override { return m_info.total_device_bytes(); }
  // Time spent choosing algorithms; 0 when the tuning cache answered for every shape.
  double tune_ms() const override { return m_info.shapes_tuned > 0 ? m_info.tune_ms : 0.0; }

  const CudaEngineInfo& info() const { return m_info; }

 private:
  // One unique convolution shape at one batch size: its descriptors and how it runs there.
  struct ShapeState {
    LegacyConv conv;
    ConvChoice choice;
  };
  struct BatchState {
    int batch = 0;
    std::vector<ShapeState> shapes;  // parallel to m_plan.unique
    cuda::UniqueGraphExec graph;     // null: run eagerly
  };

  ConvGeometry geometry(const ConvShape& s, int batch) const;
  void allocate_buffers();
  void tune();
  ConvChoice effective_choice(LegacyConv& conv, const ConvChoice& tuned, const std::string& name) const;
  BatchState& batch_state(int batch);
  void capture_graph(BatchState& st);
  void bind_stream(cudaStream_t s);
  void forward(BatchState& st, cudaStream_t s);
  void after_op(const std::string& what, cudaStream_t s);
  void run_device_locked(const float* input, int batch, float* logits, cudaStream_t s);
  float* buf(int b) const { return m_buffers[b].floats(); }

  // Declared first, so destroyed last: restores the caller's current device after every member
  // (freed with the engine's device current) is gone.
  struct DeviceRestore {
    int previous = -1;
    ~DeviceRestore() {
      if (previous >= 0) RESNETRS_CUDA_CHECK_LOG(cudaSetDevice(previous));
    }
  } m_restore;
  EngineOptions m_options;
  CudaEngineTweaks m_tweaks;
  NetworkDesc m_net;
  cuda::EnginePlan m_plan;
  cuda::DeviceInfo m_device;
  bool m_strict = true;
  TensorLayout m_layout = TensorLayout::kNCHW;
  TensorLayout m_input_layout = TensorLayout::kNCHW;
  kernels::NormalizeParams m_norm{};

  cuda::UniqueStream m_stream;
  cuda::UniqueEvent m_done;
  cuda::UniqueCudnn m_cudnn;
  cuda::UniqueCublas m_cublas;

  cuda::DeviceWeights m_weights;
  DeviceBuffer m_buffers[cuda::kBufCount];
  DeviceBuffer m_pooled, m_hidden, m_gate, m_head_pooled, m_logits_raw;  // small per-batch vectors
  DeviceBuffer m_host_input, m_host_logits;                              // run_host staging
  DeviceBuffer m_workspace, m_cublas_workspace;

  std::vector<ConvChoice> m_tuned;  // per unique shape, at max_batch
  std::vector<bool> m_from_cache;
  std::map<int, std::unique_ptr<BatchState>> m_batches;
  std::vector<LegacyConv> m_tuned_convs;  // max_batch descriptors made while tuning, reused

  std::mutex m_mutex;
  cudaStream_t m_last_stream = nullptr;
  bool m_has_run = false;
  CudaEngineInfo m_info;
};

CudaEngine::CudaEngine(const FoldedWeights& weights, const EngineOptions& options, const CudaEngineTweaks& tweaks)
    : m_options(options), m_tweaks(tweaks), m_net(describe_network(weights.config, options.height, options.width)) {
  const auto t0 = std::chrono::steady_clock::now();
  if (precision_is_unverified_on_gpu(options.precision)) {  // passed the gate: RESNETRS_UNVERIFIED_GPU=ON
    throw_error(Status::kInvalidArgument, std::string("precision ") + precision_name(options.precision) +
                                              " is not implemented yet by the CUDA backend (use fp32 or tf32)");
  }
  RESNETRS_CHECK_ARG(options.precision == Precision::kFp32 || options.precision == Precision::kTf32,
                     "unknown precision " + std::to_string(int(options.precision)));
  RESNETRS_CHECK_ARG(options.input_layout == Layout::kNCHW || options.input_layout == Layout::kNHWC,
                     "unknown input layout " + std::to_string(int(options.input_layout)));
  m_strict = options.precision == Precision::kFp32;
  // Measured on the H200 (docs/device-notes.md): strict fp32 is faster in NCHW, TF32 in NHWC.
  switch (tweaks.layout) {
    case CudaEngineTweaks::LayoutChoice::kNCHW: m_layout = TensorLayout::kNCHW; break;
    case CudaEngineTweaks::LayoutChoice::kNHWC: m_layout = TensorLayout::kNHWC; break;
    default: m_layout = m_strict ? TensorLayout::kNCHW : TensorLayout::kNHWC; break;
  }
  m_input_layout = options.input_layout == Layout::kNHWC ? TensorLayout::kNHWC : TensorLayout::kNCHW;
  for (int c = 0; c < 3; ++c) {
    RESNETRS_CHECK_ARG(weights.input_std[c] > 0.0f, "input_std must be positive");
    m_norm.mean[c] = weights.input_mean[c];
    m_norm.inv_std[c] = 1.0f / weights.input_std[c];  // the CPU operator's exact expression
  }

  {
    int previous = -1;
    if (cudaGetDevice(&previous) == cudaSuccess) {
      m_restore.previous = previous;  // restored at the end (or by m_restore if construction throws)
    } else {
      (void)cudaGetLastError();
    }
  }
  m_device = cuda::select_device(options.device);  // makes options.device current
  if (tweaks.verbose) std::fprintf(stderr, "resnetrs cuda: %s\n", m_device.describe().c_str());

  m_plan = cuda::make_engine_plan(m_net);
  m_stream = cuda::make_stream();
  m_done = cuda::make_event(false);
  m_cudnn = cuda::make_cudnn();
  m_cublas = cuda::make_cublas();
  RESNETRS_CUBLAS_CHECK(cublasSetMathMode(m_cublas.get(), m_strict ? CUBLAS_DEFAULT_MATH : CUBLAS_TF32_TENSOR_OP_MATH));
  RESNETRS_CUBLAS_CHECK(cublasSetPointerMode(m_cublas.get(), CUBLAS_POINTER_MODE_HOST));

  m_weights = cuda::upload_weights(weights, m_net, m_layout == TensorLayout::kNHWC);
  allocate_buffers();
  bind_stream(m_stream.get());

  const auto t_tune = std::chrono::steady_clock::now();
  tune();
  m_info.tune_ms = ms_since(t_tune);

  // One workspace: the largest the chosen algorithms need at max_batch.
  size_t ws = 0;
  for (const ConvChoice& c : m_tuned) ws = std::max(ws, c.workspace);
  m_workspace = DeviceBuffer(ws, "the cuDNN workspace");
  bind_stream(m_stream.get());

  // Max-batch state (reuses the descriptors made while tuning), an eager warm-up run that checks
  // every layer once, then the graph.
  BatchState& st = batch_state(options.max_batch);
  forward(st, m_stream.get());
  {
    const cudaError_t err = cudaStreamSynchronize(m_stream.get());
    if (err != cudaSuccess) {
      throw_error(Status::kCudaError, std::string("the warm-up forward pass failed asynchronously: ") + cudaGetErrorName(err) +
                                          " (" + cudaGetErrorString(err) +
                                          "); rebuild the engine with RESNETRS_SYNC_CHECK=1 to find the layer");
    }
  }
  capture_graph(st);
  if (st.graph) {
    RESNETRS_CUDA_CHECK(cudaGraphLaunch(st.graph.get(), m_stream.get()));
    RESNETRS_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));
  }

  // Info.
  m_info.device = m_device.describe();
  m_info.device_name = m_device.name;
  m_info.cc_major = m_device.cc_major;
  m_info.cc_minor = m_device.cc_minor;
  m_info.cudnn_version = m_device.cudnn_version;
  m_info.precision = options.precision;
  m_info.activation_layout = m_layout == TensorLayout::kNHWC ? Layout::kNHWC : Layout::kNCHW;
  m_info.weight_bytes = m_weights.buffer.bytes();
  m_info.arena_bytes = 0;
  for (const DeviceBuffer& b : m_buffers) m_info.arena_bytes += b.bytes();
  for (const DeviceBuffer* b : {&m_pooled, &m_hidden, &m_gate, &m_head_pooled, &m_logits_raw, &m_host_input, &m_host_logits})
    m_info.arena_bytes += b->bytes();
  m_info.workspace_bytes = m_workspace.bytes() + m_cublas_workspace.bytes();
  m_info.unique_shapes = static_cast<int>(m_plan.unique.size());
  m_info.tuning_cache_path = options.tuning_cache_path;
  m_info.graph_used = static_cast<bool>(st.graph);
  for (size_t i = 0; i < m_plan.convs.size(); ++i) {
    const cuda::ConvLayer& l = m_plan.convs[i];
    CudaLayerInfo li;
    li.layer = l.shape.name;
    li.geometry = geometry(l.shape, options.max_batch).describe();
    li.choice = st.shapes[l.unique].choice.to_string();
    li.relu = l.shape.relu();
    li.from_cache = m_from_cache[l.unique];
    li.workspace = st.shapes[l.unique].choice.workspace;
    m_info.layers.push_back(li);
  }
  m_info.build_ms = ms_since(t0);
  if (tweaks.verbose) std::fprintf(stderr, "%s", m_info.format().c_str());
  if (m_restore.previous >= 0 && m_restore.previous != options.device) {
    RESNETRS_CUDA_CHECK(cudaSetDevice(m_restore.previous));
  }
  m_restore.previous = -1;
}

CudaEngine::~CudaEngine() {
  // Finish outstanding work before the buffers go; members are then released in reverse order
  // of declaration (graphs and descriptors before the handles and the stream).
  int current = -1;
  if (cudaGetDevice(&current) == cudaSuccess && current != m_options.device) {
    RESNETRS_CUDA_CHECK_LOG(cudaSetDevice(m_options.device));
    m_restore.previous = current;
  }
  if (m_stream) RESNETRS_CUDA_CHECK_LOG(cudaStreamSynchronize(m_stream.get()));
  if (m_has_run && m_done) RESNETRS_CUDA_CHECK_LOG(cudaEventSynchronize(m_done.get()));
  m_batches.clear();
  m_tuned_convs.clear();
}

ConvGeometry CudaEngine::geometry(const ConvShape& s, int batch) const {
  ConvGeometry g;
  g.n = batch;
  g.cin = s.cin;
  g.h = s.h_in;
  g.w = s.w_in;
  g.cout = s.cout;
  g.kernel = s.kernel;
  g.stride = s.stride;
  g.pad = s.pad;
  g.nhwc = m_layout == TensorLayout::kNHWC;
  return g;
}

void CudaEngine::allocate_buffers() {
  const size_t n = size_t(m_options.max_batch);
  for (int b = 0; b < cuda::kBufCount; ++b) {
    const size_t floats = size_t(m_plan.buffer_floats[b]) * n;
    m_buffers[b] = DeviceBuffer(std::max<size_t>(floats, 1) * sizeof(float), std::string("activation buffer ") + cuda::buf_name(b));
    // Zero once: the fused cuDNN call is given z = y with alpha2 = 0, and tuning reads these
    // buffers before anything was written; never let it see uninitialized bit patterns.
    RESNETRS_CUDA_CHECK(cudaMemset(m_buffers[b].get(), 0, m_buffers[b].bytes()));
  }
  const size_t c = size_t(std::max(m_plan.max_block_channels, kFinalChannels));
  m_pooled = DeviceBuffer(n * c * sizeof(float), "SE pooled vectors");
  m_hidden = DeviceBuffer(n * size_t(std::max(m_plan.max_se_channels, 1)) * sizeof(float), "SE hidden vectors");
  m_gate = DeviceBuffer(n * c * sizeof(float), "SE gates");
  m_head_pooled = DeviceBuffer(n * kFinalChannels * sizeof(float), "head pooled features");
  m_logits_raw = DeviceBuffer(n * size_t(m_net.num_classes) * sizeof(float), "head GEMM output");
  m_host_input = DeviceBuffer(n * 3 * size_t(m_net.height) * m_net.width * sizeof(float), "run_host input staging");
  m_host_logits = DeviceBuffer(n * size_t(m_net.num_classes) * sizeof(float), "run_host logits staging");
  m_cublas_workspace = DeviceBuffer(kCublasWorkspaceBytes, "the cuBLAS workspace");
  for (const DeviceBuffer* b : {&m_pooled, &m_hidden, &m_gate, &m_head_pooled, &m_logits_raw}) {
    RESNETRS_CUDA_CHECK(cudaMemset(b->get(), 0, b->bytes()));
  }
  // cudaMemset runs on the legacy stream, which our non-blocking stream does not wait for.
  RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
}

void CudaEngine::bind_stream(cudaStream_t s) {
  RESNETRS_CUDNN_CHECK(cudnnSetStream(m_cudnn.get(), s));
  RESNETRS_CUBLAS_CHECK(cublasSetStream(m_cublas.get(), s));
  // cublasSetStream resets the workspace to cuBLAS's own pool: hand ours back every time.
  if (m_cublas_workspace.get()) {
    RESNETRS_CUBLAS_CHECK(cublasSetWorkspace(m_cublas.get(), m_cublas_workspace.get(), m_cublas_workspace.bytes()));
  }
}

void CudaEngine::tune() {
  const char* prec = precision_name(m_options.precision);
  const char* layout = m_layout == TensorLayout::kNHWC ? "nhwc" : "nchw";
  const size_t cap = m_options.workspace_cap_bytes;
  const bool timed = m_tweaks.modes == CudaEngineTweaks::ModeChoice::kTimed;
  const cuda::ConvPolicy policy = m_tweaks.modes == CudaEngineTweaks::ModeChoice::kFusedOnly ? cuda::ConvPolicy::kFusedOnly
                                  : m_tweaks.modes == CudaEngineTweaks::ModeChoice::kPlainOnly ? cuda::ConvPolicy::kPlainOnly
                                                                                               : cuda::ConvPolicy::kTimed;
  cuda::TuningCache cache(timed ? m_options.tuning_cache_path : std::string());
  cache.load();
  DeviceBuffer tune_ws;  // the cap, allocated on the first cache miss and freed after tuning
  m_tuned.assign(m_plan.unique.size(), ConvChoice{});
  m_from_cache.assign(m_plan.unique.size(), false);
  m_tuned_convs.clear();
  for (size_t u = 0; u < m_plan.unique.size(); ++u) {
    const cuda::UniqueConv& uc = m_plan.unique[u];
    const ConvShape& s = uc.shape;
    const ConvGeometry g = geometry(s, m_options.max_batch);
    try {
      m_tuned_convs.emplace_back(m_cudnn.get(), g, m_strict);
      LegacyConv& conv = m_tuned_convs.back();
      const std::string key = cuda::tuning_key(m_device, prec, layout, g, s.relu(), cap);
      ConvChoice c;
      bool hit = cache.lookup(key, &c);
      if (hit) {
        // A cached choice must still be valid here: allowed math, identity rule, workspace.
        size_t bytes = 0;
        hit = (!m_strict || c.math == cuda::ConvMath::kFma) &&
              (s.relu() || c.mode == ConvMode::kPlain || c.algo == cuda::kAlgoImplicitPrecompGemm) &&
              conv.workspace_size(c.algo, c.math, &bytes) == CUDNN_STATUS_SUCCESS && bytes <= cap;
        c.workspace = bytes;
        if (!hit) warn("tuning cache entry for " + s.name + " (" + key + ") is not usable here; re-tuning");
      }
      if (!hit) {
        if (!tune_ws.get() && cap > 0) tune_ws = DeviceBuffer(cap, "the cuDNN tuning workspace (workspace_cap_bytes)");
        const int layer = uc.layers.front();
        const cuda::DeviceConv* dc = nullptr;
        if (layer < 4) {
          dc = &m_weights.stem[layer];
        } else {
          // Find the block layer's weights.
          for (size_t b = 0; b < m_plan.blocks.size() && !dc; ++b) {
            const cuda::BlockPlan& bp = m_plan.blocks[b];
            const cuda::DeviceBlock& db = m_weights.blocks[b];
            if (bp.conv1 == layer) dc = &db.conv1;
            if (bp.conv2 == layer) dc = &db.conv2;
            if (bp.conv3 == layer) dc = &db.conv3;
            if (bp.shortcut == layer) dc = &db.shortcut;
          }
        }
        if (!dc) throw_error(Status::kInternal, "plan: no weights for layer " + s.name);
        cuda::TuneBuffers tb;
        tb.x = buf(uc.in);
        tb.w = dc->weight;
        tb.bias = dc->bias;
        tb.y = buf(uc.out);
        tb.workspace = tune_ws.get();
        tb.workspace_bytes = tune_ws.get() ? cap : 0;
        const cuda::TuneOutcome outcome = cuda::tune_conv(conv, s.relu(), tb, m_layout, m_stream.get(), policy);
        c = outcome.best;
        cache.put(key, c);
        ++m_info.shapes_tuned;
        if (m_tweaks.verbose) {
          std::fprintf(stderr, "resnetrs cuda: tuned %s [%s]\n%s", s.name.c_str(), g.describe().c_str(), outcome.summary().c_str());
        }
      } else {
        m_from_cache[u] = true;
        ++m_info.shapes_from_cache;
      }
      m_tuned[u] = c;
    } catch (const Error& e) {
      throw Error(e.status(), "tuning convolution " + s.name + " [" + g.describe() + "]: " + e.what());
    }
  }
  RESNETRS_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));
  cache.save();
}

// The choice for a batch other than max_batch: the tuned one when it fits the allocated
// workspace there, else the first that does of: fused IMPLICIT_PRECOMP_GEMM (for a fused
// choice), plain IMPLICIT_GEMM (default math, then FMA), plain IMPLICIT_PRECOMP_GEMM (FMA).
ConvChoice CudaEngine::effective_choice(LegacyConv& conv, const ConvChoice& tuned, const std::string& name) const {
  const size_t have = m_workspace.bytes();
  auto fits = [&](ConvChoice c, ConvChoice* out) {
    size_t bytes = 0;
    if (conv.workspace_size(c.algo, c.math, &bytes) != CUDNN_STATUS_SUCCESS || bytes > have) return false;
    c.workspace = bytes;
    *out = c;
    return true;
  };
  ConvChoice out;
  if (fits(tuned, &out)) return out;
  std::vector<ConvChoice> fallbacks;
  if (tuned.mode == ConvMode::kFused) {
    fallbacks.push_back(ConvChoice{ConvMode::kFused, cuda::kAlgoImplicitPrecompGemm, conv.default_math(), 0, 0});
  }
  fallbacks.push_back(ConvChoice{ConvMode::kPlain, cuda::kAlgoImplicitGemm, conv.default_math(), 0, 0});
  fallbacks.push_back(ConvChoice{ConvMode::kPlain, cuda::kAlgoImplicitGemm, cuda::ConvMath::kFma, 0, 0});
  fallbacks.push_back(ConvChoice{ConvMode::kPlain, cuda::kAlgoImplicitPrecompGemm, cuda::ConvMath::kFma, 0, 0});
  for (const ConvChoice& f : fallbacks) {
    if (fits(f, &out)) return out;
  }
  throw_error(Status::kCudnnError, "no cuDNN algorithm runs " + name + " [" + conv.geometry().describe() + "] within the " +
                                       std::to_string(have) + "-byte workspace (tuned: " + tuned.to_string() + ")");
}

CudaEngine::BatchState& CudaEngine::batch_state(int batch) {
  auto it = m_batches.find(batch);
  if (it != m_batches.end()) return *it->second;
  auto st = std::make_unique<BatchState>();
  st->batch = batch;
  st->shapes.reserve(m_plan.unique.size());
  for (size_t u = 0; u < m_plan.unique.size(); ++u) {
    const ConvShape& s = m_plan.unique[u].shape;
    try {
      if (batch == m_options.max_batch && u < m_tuned_convs.size()) {
        ShapeState ss{std::move(m_tuned_convs[u]), m_tuned[u]};
        st->shapes.push_back(std::move(ss));
      } else {
        LegacyConv conv(m_cudnn.get(), geometry(s, batch), m_strict);
        ConvChoice c = effective_choice(conv, m_tuned[u], s.name);
        st->shapes.push_back(ShapeState{std::move(conv), c});
      }
    } catch (const Error& e) {
      throw Error(e.status(), "preparing convolution " + s.name + " for batch " + std::to_string(batch) + ": " + e.what());
    }
  }
  if (batch == m_options.max_batch) m_tuned_convs.clear();
  BatchState& ref = *st;
  m_batches.emplace(batch, std::move(st));
  if (batch != m_options.max_batch) capture_graph(ref);  // max_batch: captured after its warm-up
  return ref;
}

void CudaEngine::capture_graph(BatchState& st) {
  if (!m_options.cuda_graph || m_tweaks.sync_check) return;
  cudaStream_t s = m_stream.get();
  std::string failure;
  RESNETRS_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  try {
    forward(st, s);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  cudaGraph_t raw = nullptr;
  const cudaError_t end = cudaStreamEndCapture(s, &raw);
  cuda::UniqueGraph graph(raw);
  if (failure.empty() && end != cudaSuccess) failure = std::string("cudaStreamEndCapture: ") + cudaGetErrorName(end);
  if (failure.empty()) {
    cudaGraphExec_t exec = nullptr;
    const cudaError_t inst = cudaGraphInstantiate(&exec, graph.get(), 0);
    if (inst == cudaSuccess) {
      st.graph.reset(exec);
      const cudaError_t up = cudaGraphUpload(exec, s);
      if (up != cudaSuccess) {
        st.graph.reset();
        failure = std::string("cudaGraphUpload: ") + cudaGetErrorName(up);
      }
    } else {
      failure = std::string("cudaGraphInstantiate: ") + cudaGetErrorName(inst);
    }
  }
  if (!failure.empty()) {
    (void)cudaGetLastError();  // the failed capture's error must not be blamed on a later call
    st.graph.reset();
    bind_stream(m_stream.get());
    const std::string msg = "CUDA graph capture for batch " + std::to_string(st.batch) + " failed, running eagerly: " + failure;
    if (st.batch == m_options.max_batch) m_info.graph_note = msg;
    warn(msg);
  }
}

void CudaEngine::after_op(const std::string& what, cudaStream_t s) {
  if (!m_tweaks.sync_check) return;
  const cudaError_t err = cudaStreamSynchronize(s);
  const cudaError_t last = err != cudaSuccess ? err : cudaGetLastError();
  if (last != cudaSuccess) {
    throw_error(Status::kCudaError, "RESNETRS_SYNC_CHECK: " + what + " failed on the device: " + cudaGetErrorName(last) + " (" +
                                        cudaGetErrorString(last) + ")");
  }
}

void CudaEngine::forward(BatchState& st, cudaStream_t s) {
  bind_stream(s);
  const int n = st.batch;
  auto conv = [&](int layer, const cuda::DeviceConv& dc) -> bool {
    const cuda::ConvLayer& l = m_plan.convs[size_t(layer)];
    ShapeState& ss = st.shapes[size_t(l.unique)];
    try {
      cuda::run_conv_choice(ss.conv, l.shape.relu(), ss.choice, buf(l.in), dc.weight, dc.bias, buf(l.out), m_workspace.get(),
                            m_workspace.bytes(), m_layout, s);
    } catch (const Error& e) {
      throw Error(e.status(), "layer " + l.shape.name + " (batch " + std::to_string(n) + ", " + ss.choice.to_string() +
                                  "): " + e.what());
    }
    after_op(l.shape.name, s);
    return l.shape.relu() || ss.choice.bias_in_conv();
  };
  for (int i = 0; i < 4; ++i) conv(i, m_weights.stem[i]);

  for (size_t bi = 0; bi < m_net.blocks.size(); ++bi) {
    const BlockShape& b = m_net.blocks[bi];
    const cuda::BlockPlan& bp = m_plan.blocks[bi];
    const cuda::DeviceBlock& db = m_weights.blocks[bi];
    const int hw = b.h_out * b.w_out;
    conv(bp.conv1, db.conv1);
    conv(bp.conv2, db.conv2);
    const bool b3_in_conv = conv(bp.conv3, db.conv3);
    const float* b3 = b3_in_conv ? nullptr : db.conv3.bias;
    try {
      kernels::launch_global_avg_pool(buf(cuda::kBufT3), b3, m_pooled.floats(), n, b.cout, hw, m_layout, s);
      kernels::launch_dense_act(m_pooled.floats(), db.se_w1, db.se_b1, m_hidden.floats(), n, b.cout, b.se_channels,
                                kernels::DenseActivation::kRelu, s);
      kernels::launch_dense_act(m_hidden.floats(), db.se_w2, db.se_b2, m_gate.floats(), n, b.se_channels, b.cout,
                                kernels::DenseActivation::kSigmoid, s);
    } catch (const Error& e) {
      throw Error(e.status(), b.name + "/se (batch " + std::to_string(n) + "): " + e.what());
    }
    after_op(b.name + "/se", s);
    const float* shortcut = buf(cuda::kBufX);
    const float* bsc = nullptr;
    if (bp.shortcut >= 0) {
      if (b.pool_shortcut) {
        try {
          kernels::launch_avg_pool_2x2_same(buf(cuda::kBufX), buf(cuda::kBufPI), n, b.cin, b.h_in, b.w_in, m_layout, s);
        } catch (const Error& e) {
          throw Error(e.status(), b.name + "/shortcut_pool (batch " + std::to_string(n) + "): " + e.what());
        }
        after_op(b.name + "/shortcut_pool", s);
      }
      const bool bsc_in_conv = conv(bp.shortcut, db.shortcut);
      shortcut = buf(cuda::kBufSC);
      bsc = bsc_in_conv ? nullptr : db.shortcut.bias;
    }
    try {
      kernels::launch_block_tail(buf(cuda::kBufT3), b3, m_gate.floats(), shortcut, bsc, buf(cuda::kBufX), n, b.cout, hw,
                                 m_layout, s);
    } catch (const Error& e) {
      throw Error(e.status(), b.name + "/tail (batch " + std::to_string(n) + "): " + e.what());
    }
    after_op(b.name + "/tail", s);
  }

  // Head: global average pool, then logits_raw[n, K] = pooled[n, 2048] . W[K, 2048]^T. Column-
  // major view for cuBLAS: C[K, n] = op(A)[K, 2048] * B[2048, n] with A = W viewed as [2048, K]
  // (lda 2048, transposed) and B = pooled viewed as [2048, n] (ldb 2048).
  try {
    kernels::launch_global_avg_pool(buf(cuda::kBufX), nullptr, m_head_pooled.floats(), n, kFinalChannels,
                                    m_net.final_h * m_net.final_w, m_layout, s);
    const float alpha = 1.0f, beta = 0.0f;
    RESNETRS_CUBLAS_CHECK(cublasSgemm(m_cublas.get(), CUBLAS_OP_T, CUBLAS_OP_N, m_net.num_classes, n, kFinalChannels, &alpha,
                                      m_weights.dense_weight, kFinalChannels, m_head_pooled.floats(), kFinalChannels, &beta,
                                      m_logits_raw.floats(), m_net.num_classes));
  } catch (const Error& e) {
    throw Error(e.status(), "head (batch " + std::to_string(n) + "): " + e.what());
  }
  after_op("head", s);
}

void CudaEngine::run_device_locked(const float* input, int batch, float* logits, cudaStream_t s) {
  BatchState& st = batch_state(batch);
  if (m_has_run && s != m_last_stream) RESNETRS_CUDA_CHECK(cudaStreamWaitEvent(s, m_done.get(), 0));
  try {
    kernels::launch_normalize_input(input, m_input_layout, buf(cuda::kBufX), m_layout, batch, m_net.height, m_net.width,
                                    m_norm, s);
  } catch (const Error& e) {
    throw Error(e.status(), std::string("input normalization: ") + e.what());
  }
  after_op("input normalization", s);
  if (st.graph) {
    RESNETRS_CUDA_CHECK(cudaGraphLaunch(st.graph.get(), s));
  } else {
    forward(st, s);
  }
  try {
    kernels::launch_bias_add_rows(m_logits_raw.floats(), m_weights.dense_bias, logits, batch, m_net.num_classes, s);
  } catch (const Error& e) {
    throw Error(e.status(), std::string("head bias: ") + e.what());
  }
  after_op("head bias", s);
  RESNETRS_CUDA_CHECK(cudaEventRecord(m_done.get(), s));
  m_last_stream = s;
  m_has_run = true;
}

void CudaEngine::run_device(const float* input, int batch, float* logits, void* stream) {
  RESNETRS_CHECK_ARG(input && logits, "input and logits must not be null");
  RESNETRS_CHECK_ARG(batch >= 1 && batch <= m_options.max_batch,
                     "batch " + std::to_string(batch) + " outside 1.." + std::to_string(m_options.max_batch));
  std::lock_guard<std::mutex> lock(m_mutex);
  cuda::DeviceGuard guard(m_options.device);
  for (const void* p : {static_cast<const void*>(input), static_cast<const void*>(logits)}) {
    cudaPointerAttributes attr{};
    const cudaError_t err = cudaPointerGetAttributes(&attr, p);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      throw_error(Status::kInvalidArgument, std::string("run_device: cannot query a pointer: ") + cudaGetErrorName(err));
    }
    RESNETRS_CHECK_ARG(attr.type != cudaMemoryTypeUnregistered,
                       "run_device needs device (or registered/managed) pointers; got plain host memory (use run_host)");
  }
  run_device_locked(input, batch, logits, stream ? static_cast<cudaStream_t>(stream) : m_stream.get());
}

void CudaEngine::run_host(const float* input, int batch, float* logits) {
  RESNETRS_CHECK_ARG(input && logits, "input and logits must not be null");
  RESNETRS_CHECK_ARG(batch >= 1 && batch <= m_options.max_batch,
                     "batch " + std::to_string(batch) + " outside 1.." + std::to_string(m_options.max_batch));
  std::lock_guard<std::mutex> lock(m_mutex);
  cuda::DeviceGuard guard(m_options.device);
  cudaStream_t s = m_stream.get();
  const size_t in_bytes = size_t(batch) * 3 * m_net.height * m_net.width * sizeof(float);
  const size_t out_bytes = size_t(batch) * m_net.num_classes * sizeof(float);
  if (m_has_run && s != m_last_stream) RESNETRS_CUDA_CHECK(cudaStreamWaitEvent(s, m_done.get(), 0));
  RESNETRS_CUDA_CHECK(cudaMemcpyAsync(m_host_input.get(), input, in_bytes, cudaMemcpyHostToDevice, s));
  run_device_locked(m_host_input.floats(), batch, m_host_logits.floats(), s);
  RESNETRS_CUDA_CHECK(cudaMemcpyAsync(logits, m_host_logits.get(), out_bytes, cudaMemcpyDeviceToHost, s));
  const cudaError_t err = cudaStreamSynchronize(s);
  if (err != cudaSuccess) {
    throw_error(Status::kCudaError, std::string("the forward pass failed on the device: ") + cudaGetErrorName(err) + " (" +
                                        cudaGetErrorString(err) + "); rerun with RESNETRS_SYNC_CHECK=1 to find the layer");
  }
}

}  // namespace

std::string CudaEngineInfo::format() const {
  std::ostringstream os;
  os << "resnetrs CUDA engine on " << device << "\n";
  os << "  precision " << precision_name(precision) << ", activations " << layout_name(activation_layout) << ", graph "
     << (graph_used ? "yes" : "no") << (graph_note.empty() ? "" : " (" + graph_note + ")") << "\n";
  os << "  device memory: weights " << mib(weight_bytes) << ", activations " << mib(arena_bytes) << ", workspace "
     << mib(workspace_bytes) << ", total " << mib(total_device_bytes()) << "\n";
  os << "  build " << build_ms << " ms (tuning " << tune_ms << " ms: " << unique_shapes << " unique conv shapes, "
     << shapes_tuned << " timed, " << shapes_from_cache << " from cache"
     << (tuning_cache_path.empty() ? "" : " " + tuning_cache_path) << ")\n";
  for (const CudaLayerInfo& l : layers) {
    os << "  " << l.layer << " [" << l.geometry << "] " << l.choice << (l.from_cache ? " (cache)" : "") << " ws "
       << l.workspace << "\n";
  }
  return os.str();
}

const CudaEngineInfo* cuda_engine_info(const Engine& engine) {
  const auto* e = dynamic_cast<const CudaEngine*>(&engine);
  return e ? &e->info() : nullptr;
}

CudaEngineTweaks cuda_tweaks_from_env() {
  CudaEngineTweaks t;
  if (const char* v = std::getenv("RESNETRS_CUDA_LAYOUT")) {
    const std::string s = v;
    if (s == "nchw" || s == "NCHW") {
      t.layout = CudaEngineTweaks::LayoutChoice::kNCHW;
    } else if (s == "nhwc" || s == "NHWC") {
      t.layout = CudaEngineTweaks::LayoutChoice::kNHWC;
    } else if (!s.empty()) {
      warn("RESNETRS_CUDA_LAYOUT='" + s + "' is neither nchw nor nhwc; ignored");
    }
  }
  t.sync_check = env_flag("RESNETRS_SYNC_CHECK");
  t.verbose = env_flag("RESNETRS_CUDA_VERBOSE");
  return t;
}

std::unique_ptr<Engine> make_cuda_engine_ex(const FoldedWeights& weights, const EngineOptions& options,
                                            const CudaEngineTweaks& tweaks) {
  validate_engine_options(weights, options);
  require_cuda_backend_supports(weights.config);  // before any CUDA call: the same refusal with or without a GPU
  require_cuda_precision_available(options.precision);
  return std::make_unique<CudaEngine>(weights, options, tweaks);
}

std::unique_ptr<Engine> make_cuda_engine(const FoldedWeights& weights, const EngineOptions& options) {
  return make_cuda_engine_ex(weights, options, cuda_tweaks_from_env());
}

}  // namespace resnetrs
