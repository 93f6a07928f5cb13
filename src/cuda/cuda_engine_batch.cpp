// CudaEngine's per-batch state (cuda_engine.h): the descriptors and choices of one batch size,
// made on its first run, and its CUDA graph.
#include <cuda_runtime_api.h>

#include <exception>
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

}  // namespace resnetrs
