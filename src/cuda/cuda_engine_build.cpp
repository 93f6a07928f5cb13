// CudaEngine construction (cuda_engine.h): device, weights, buffers, tuning, warm-up, the
// max_batch graph and the info; and destruction.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "cuda/cuda_engine.h"
#include "engine/gpu_gate.h"

namespace resnetrs {

using cuda::ConvChoice;
using cuda::ConvGeometry;
using cuda::ConvMode;
using cuda::DeviceBuffer;
using cuda::LegacyConv;
using kernels::TensorLayout;

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

using cuda_engine_detail::kCublasWorkspaceBytes;

CudaEngine::CudaEngine(const FoldedWeights& weights, const EngineOptions& options, const CudaEngineTweaks& tweaks)
    : m_options(options), m_tweaks(tweaks), m_net(describe_network(weights.config, options.height, options.width)) {
  const auto t0 = std::chrono::steady_clock::now();
  RESNETRS_CHECK_ARG(options.input_layout == Layout::kNCHW || options.input_layout == Layout::kNHWC,
                     "unknown input layout " + std::to_string(int(options.input_layout)));
  // The numeric policy (unknown precision: kInvalidArgument) and the activation layout, before
  // any CUDA call; the device's compute capability is checked against it once it is selected.
  m_policy = cuda::precision_policy(options.precision);
  m_layout = cuda::choose_layout(m_policy, tweaks.layout == CudaEngineTweaks::LayoutChoice::kNCHW   ? cuda::LayoutRequest::kNCHW
                                           : tweaks.layout == CudaEngineTweaks::LayoutChoice::kNHWC ? cuda::LayoutRequest::kNHWC
                                                                                                    : cuda::LayoutRequest::kAuto);
  m_plan = cuda::make_engine_plan(m_net);
  m_slots = choose_arena(tweaks);
  m_zero_fused_outputs = m_slots.by_liveness && tweaks.zero_fused_outputs;
  m_batch_tuning = unverified_gpu_enabled();
  if (tweaks.batch_tuning == CudaEngineTweaks::BatchTuning::kMaxBatchOnly) m_batch_tuning = false;
  if (tweaks.batch_tuning == CudaEngineTweaks::BatchTuning::kEachBatch) {
    require_unverified_gpu("per-batch-size tuning and whole-run graphs in the CUDA engine");
    m_batch_tuning = true;
  }
  m_whole_run_graph = m_batch_tuning;

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
  m_policy = cuda::select_precision_policy(options.precision, m_device.cc_major, m_device.cc_minor);
  if (tweaks.verbose) std::fprintf(stderr, "resnetrs cuda: precision %s\n", cuda::describe(m_policy).c_str());

  m_stream = cuda::make_stream();
  m_done = cuda::make_event(false);
  m_cudnn = cuda::make_cudnn();
  m_cublas = cuda::make_cublas();
  RESNETRS_CUBLAS_CHECK(cublasSetMathMode(m_cublas.get(), m_policy.cublas_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  RESNETRS_CUBLAS_CHECK(cublasSetPointerMode(m_cublas.get(), CUBLAS_POINTER_MODE_HOST));

  m_weights = cuda::upload_weights(weights, m_net, m_layout == TensorLayout::kNHWC, m_policy.act);
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
  capture_graphs(st);
  if (st.graph) {
    RESNETRS_CUDA_CHECK(cudaGraphLaunch(st.graph.get(), m_stream.get()));
    RESNETRS_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));
  }

  // Batch sizes asked for at build: tuned (or max_batch's choices) and captured now.
  for (int b : tweaks.prepare_batches) {
    if (b < 1 || b > options.max_batch) {
      warn("prepare_batches: batch " + std::to_string(b) + " is outside 1.." + std::to_string(options.max_batch) + "; ignored");
    } else if (b != options.max_batch) {
      (void)batch_state(b);
    }
  }
  RESNETRS_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));

  // Info.
  m_info.device = m_device.describe();
  m_info.device_name = m_device.name;
  m_info.cc_major = m_device.cc_major;
  m_info.cc_minor = m_device.cc_minor;
  m_info.cudnn_version = m_device.cudnn_version;
  m_info.precision = options.precision;
  m_info.activation_layout = m_layout == TensorLayout::kNHWC ? Layout::kNHWC : Layout::kNCHW;
  m_info.weight_bytes = m_weights.buffer.bytes();
  m_info.arena_bytes = m_arena.bytes();
  m_info.arena_by_liveness = m_slots.by_liveness;
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

cuda::ArenaLayout CudaEngine::choose_arena(const CudaEngineTweaks& tweaks) const {
  bool liveness = unverified_gpu_enabled();
  if (tweaks.arena == CudaEngineTweaks::ArenaChoice::kPerRole) liveness = false;
  if (tweaks.arena == CudaEngineTweaks::ArenaChoice::kLiveness) {
    require_unverified_gpu("activations placed by liveness in the CUDA engine");
    liveness = true;
  }
  const size_t act_bytes = size_t(m_policy.act_bytes);
  return liveness ? cuda::liveness_layout(m_net, m_plan, m_options.max_batch, act_bytes)
                  : cuda::per_role_layout(m_net, m_plan, m_options.max_batch, act_bytes);
}

void CudaEngine::allocate_buffers() {
  // One arena for every activation, SE / head vector and the run_host staging, placed per role
  // or by liveness (activation_arena.h; chosen in the constructor, before any CUDA call).
  m_arena = DeviceBuffer(m_slots.bytes, m_slots.by_liveness ? "the activation arena (placed by liveness)"
                                                            : "the activation arena (one region per role)");
  // Zero once: the fused cuDNN call is given z = y with alpha2 = 0, and tuning reads these
  // buffers before anything was written; never let it see uninitialized bit patterns.
  RESNETRS_CUDA_CHECK(cudaMemset(m_arena.get(), 0, m_arena.bytes()));
  m_cublas_workspace = DeviceBuffer(kCublasWorkspaceBytes, "the cuBLAS workspace");
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

}  // namespace resnetrs
