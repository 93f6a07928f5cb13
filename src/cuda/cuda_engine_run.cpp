// CudaEngine's run paths (cuda_engine.h): run_device (caller's device pointers and stream) and
// run_host (staging through the engine's buffers): normalization, graph or eager forward, bias.
#include <cuda_runtime_api.h>

#include <mutex>
#include <string>

#include "common/error.h"
#include "cuda/cuda_engine.h"
#include "kernels/bias_add.cuh"

namespace resnetrs {

using cuda::ConvChoice;
using cuda::ConvGeometry;
using cuda::ConvMode;
using cuda::DeviceBuffer;
using cuda::LegacyConv;
using kernels::TensorLayout;

void CudaEngine::normalize(const float* input, int batch, cudaStream_t s) {
  try {
    cuda::act_normalize_input(input, m_input_layout, at(m_slots.normalized), act(), batch, m_net.height, m_net.width, m_norm, s);
  } catch (const Error& e) {
    throw Error(e.status(), std::string("input normalization: ") + e.what());
  }
  after_op("input normalization", s);
}

void CudaEngine::head_bias(float* logits, int batch, cudaStream_t s) {
  try {
    kernels::launch_bias_add_rows(at_f32(m_slots.logits_raw), m_weights.dense_bias, logits, batch, m_net.num_classes, s);
  } catch (const Error& e) {
    throw Error(e.status(), std::string("head bias: ") + e.what());
  }
  after_op("head bias", s);
}

void CudaEngine::run_device_locked(const float* input, int batch, float* logits, cudaStream_t s) {
  BatchState& st = batch_state(batch);
  if (m_has_run && s != m_last_stream) RESNETRS_CUDA_CHECK(cudaStreamWaitEvent(s, m_done.get(), 0));
  if (st.host_graph && input == at_f32(m_slots.host_input) && logits == at_f32(m_slots.host_logits)) {
    RESNETRS_CUDA_CHECK(cudaGraphLaunch(st.host_graph.get(), s));  // run_host: one launch
  } else {
    normalize(input, batch, s);
    if (st.graph) {
      RESNETRS_CUDA_CHECK(cudaGraphLaunch(st.graph.get(), s));
    } else {
      forward(st, s);
    }
    head_bias(logits, batch, s);
  }
  RESNETRS_CUDA_CHECK(cudaEventRecord(m_done.get(), s));
  m_last_stream = s;
  m_has_run = true;
}

void CudaEngine::run_device(const float* input, int batch, float* logits, void* stream) {
  check_run_arguments(m_options, input, batch, logits);
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
  check_run_arguments(m_options, input, batch, logits);
  std::lock_guard<std::mutex> lock(m_mutex);
  cuda::DeviceGuard guard(m_options.device);
  cudaStream_t s = m_stream.get();
  const size_t in_bytes = size_t(batch) * 3 * m_net.height * m_net.width * sizeof(float);
  const size_t out_bytes = size_t(batch) * m_net.num_classes * sizeof(float);
  if (m_has_run && s != m_last_stream) RESNETRS_CUDA_CHECK(cudaStreamWaitEvent(s, m_done.get(), 0));
  RESNETRS_CUDA_CHECK(cudaMemcpyAsync(at(m_slots.host_input), input, in_bytes, cudaMemcpyHostToDevice, s));
  run_device_locked(at_f32(m_slots.host_input), batch, at_f32(m_slots.host_logits), s);
  RESNETRS_CUDA_CHECK(cudaMemcpyAsync(logits, at(m_slots.host_logits), out_bytes, cudaMemcpyDeviceToHost, s));
  const cudaError_t err = cudaStreamSynchronize(s);
  if (err != cudaSuccess) {
    throw_error(Status::kCudaError, std::string("the forward pass failed on the device: ") + cudaGetErrorName(err) + " (" +
                                        cudaGetErrorString(err) + "); rerun with RESNETRS_SYNC_CHECK=1 to find the layer");
  }
}

}  // namespace resnetrs
