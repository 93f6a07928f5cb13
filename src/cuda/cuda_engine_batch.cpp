// CudaEngine's per-batch state (cuda_engine.h): the descriptors and choices of one batch size,
// made on its first run, and its CUDA graph.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "cuda/cuda_engine.h"

namespace resnetrs {

using cuda::ConvChoice;
using cuda::ConvGeometry;
using cuda::ConvMode;
using cuda::DeviceBuffer;
using cuda::LegacyConv;
using kernels::TensorLayout;

CudaEngine::BatchState& CudaEngine::batch_state(int batch) {
  auto it = m_batches.find(batch);
  if (it != m_batches.end()) return *it->second;
  auto st = std::make_unique<BatchState>();
  st->batch = batch;
  st->shapes.reserve(m_plan.unique.size());
  // A batch size other than max_batch: its own tuning (cache or timing, within the workspace
  // allocated at build) when per-batch tuning is on, else max_batch's choices where they fit.
  TunedShapes own;
  if (batch != m_options.max_batch && m_batch_tuning) {
    if (m_has_run) RESNETRS_CUDA_CHECK(cudaStreamWaitEvent(m_stream.get(), m_done.get(), 0));  // runs share the arena
    bind_stream(m_stream.get());
    const auto t0 = std::chrono::steady_clock::now();
    own = tune_at(batch, std::min(m_options.workspace_cap_bytes, m_workspace.bytes()), m_workspace.get());
    m_info.tune_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    m_info.shapes_tuned += own.tuned;
    m_info.shapes_from_cache += own.cached;
  }
  for (size_t u = 0; u < m_plan.unique.size(); ++u) {
    const ConvShape& s = m_plan.unique[u].shape;
    try {
      if (batch == m_options.max_batch && u < m_tuned_convs.size()) {
        ShapeState ss{std::move(m_tuned_convs[u]), m_tuned[u]};
        st->shapes.push_back(std::move(ss));
      } else if (u < own.convs.size()) {
        ShapeState ss{std::move(own.convs[u]), own.choices[u]};
        st->shapes.push_back(std::move(ss));
      } else {
        LegacyConv conv = make_conv(s, batch);
        ConvChoice c = effective_choice(conv, m_tuned[u], s, batch);
        st->shapes.push_back(ShapeState{std::move(conv), c});
      }
    } catch (const Error& e) {
      throw Error(e.status(), "preparing convolution " + s.name + " for batch " + std::to_string(batch) + ": " + e.what());
    }
  }
  if (batch == m_options.max_batch) m_tuned_convs.clear();
  BatchState& ref = *st;
  m_batches.emplace(batch, std::move(st));
  if (batch != m_options.max_batch) capture_graphs(ref);  // max_batch: captured after its warm-up
  return ref;
}

void CudaEngine::capture_graphs(BatchState& st) {
  if (!m_options.cuda_graph || m_tweaks.sync_check) return;
  capture(st, st.graph, "", [&](cudaStream_t s) { forward(st, s); });
  // run_host's whole pass in one graph: normalize from the staging buffer, the forward, the
  // logits bias into the staging buffer (two launches fewer per call than graph + 2 kernels).
  if (m_whole_run_graph && st.graph) {
    capture(st, st.host_graph, " (run_host)", [&](cudaStream_t s) {
      normalize(at_f32(m_slots.host_input), st.batch, s);
      forward(st, s);
      head_bias(at_f32(m_slots.host_logits), st.batch, s);
    });
  }
}

void CudaEngine::capture(BatchState& st, cuda::UniqueGraphExec& target, const char* what,
                         const std::function<void(cudaStream_t)>& body) {
  cudaStream_t s = m_stream.get();
  std::string failure;
  RESNETRS_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  try {
    body(s);
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
      target.reset(exec);
      const cudaError_t up = cudaGraphUpload(exec, s);
      if (up != cudaSuccess) {
        target.reset();
        failure = std::string("cudaGraphUpload: ") + cudaGetErrorName(up);
      }
    } else {
      failure = std::string("cudaGraphInstantiate: ") + cudaGetErrorName(inst);
    }
  }
  if (!failure.empty()) {
    (void)cudaGetLastError();  // the failed capture's error must not be blamed on a later call
    target.reset();
    bind_stream(m_stream.get());
    const std::string msg =
        "CUDA graph capture for batch " + std::to_string(st.batch) + what + " failed, running eagerly: " + failure;
    if (st.batch == m_options.max_batch && *what == '\0') m_info.graph_note = msg;
    warn(msg);
  }
}

}  // namespace resnetrs
