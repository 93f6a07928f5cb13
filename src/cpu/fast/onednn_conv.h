// A convolution layer run by oneDNN (NHWC activations, weights in the layout oneDNN's chosen
// implementation wants, reordered once here; bias and the activation as a post-op).
// oneDNN primitives have a fixed batch, so one is created per power of two up to the engine's max
// batch and a run of b images executes b's binary decomposition (b = 5 runs 4 then 1).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cpu/fast/conv_impl.h"
#include "cpu/fast/cpu_isa.h"
#include "cpu/fast/host_buffer.h"
#include "model/network.h"

namespace dnnl {
struct stream;
}

namespace resnetrs::cpu::fast {

enum class OneDnnAlgorithm { kDirect, kWinograd };

// Makes oneDNN run at most at `isa` (kGeneric: SSE4.1) in this process, when it still can (before
// its first primitive); returns the instruction set oneDNN then runs ("avx512_core", "sse41", ...).
std::string limit_onednn_isa(CpuIsa isa);
std::string onednn_effective_isa();
// The oneDNN version, e.g. "2.6.3".
std::string onednn_version();

class OneDnnConv final : public ConvImpl {
 public:
  // weight OIHW, bias [cout] (may be null). Use make_onednn_conv, which answers null where oneDNN
  // has no implementation (e.g. Winograd on a processor without AVX-512).
  OneDnnConv(const ConvShape& shape, OneDnnAlgorithm algorithm, int max_batch, const float* weight, const float* bias);
  ~OneDnnConv() override;

  std::string name() const override;
  bool is_winograd() const override { return m_algorithm == OneDnnAlgorithm::kWinograd; }
  size_t workspace_bytes() const override { return m_workspace_bytes; }
  void run(const float* in, int batch, float* out, void* workspace, int threads) override;

 private:
  struct Piece;
  ConvShape m_shape;
  OneDnnAlgorithm m_algorithm;
  std::vector<std::unique_ptr<Piece>> m_pieces;  // batch sizes descending
  std::vector<HostBuffer> m_weight_storage;  // the reordered weights' memory (host_buffer.h)
  std::unique_ptr<dnnl::stream> m_stream;  // in-order CPU stream: execute returns when done
  size_t m_workspace_bytes = 0;
  std::string m_impl;
};

// The layer through oneDNN, or null when oneDNN implements no such convolution here. Other
// oneDNN failures throw Error(kInternal) naming the layer.
std::unique_ptr<OneDnnConv> make_onednn_conv(const ConvShape& shape, OneDnnAlgorithm algorithm, int max_batch,
                                             const float* weight, const float* bias);

}  // namespace resnetrs::cpu::fast
