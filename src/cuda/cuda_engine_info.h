// What the CUDA engine decided and allocated, for the benchmark, the C API and debug prints, and
// the extra construction knobs the tests (and a person debugging on a device) use.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace resnetrs {

struct CudaLayerInfo {
  std::string layer;     // e.g. "stage2/block0/conv2"
  std::string geometry;  // e.g. "n128 128x40x40->128x20x20 k3s2p1 NCHW"
  std::string choice;    // ConvChoice text at max_batch, e.g. "fused WINOGRAD_NONFUSED FMA 0.1970"
  bool relu = false;
  bool from_cache = false;  // the choice came from the tuning cache (not timed in this build)
  size_t workspace = 0;     // bytes at max_batch
};

struct CudaEngineInfo {
  std::string device;            // DeviceInfo::describe()
  std::string device_name;
  int cc_major = 0, cc_minor = 0;
  size_t cudnn_version = 0;
  Precision precision = Precision::kFp32;
  Layout activation_layout = Layout::kNCHW;  // layout of activations inside the engine

  size_t weight_bytes = 0;     // folded weights on the device
  size_t arena_bytes = 0;      // activations, SE/head vectors, run_host staging (one allocation)
  bool arena_by_liveness = false;  // placed by plan_activations() (else one region per role)
  size_t workspace_bytes = 0;  // cuDNN workspace (max over the chosen algorithms) + cuBLAS workspace
  size_t total_device_bytes() const { return weight_bytes + arena_bytes + workspace_bytes; }

  double build_ms = 0;  // whole construction, tuning included
  double tune_ms = 0;   // the tuning part (Find + timing, or cache checks)
  int unique_shapes = 0, shapes_tuned = 0, shapes_from_cache = 0;
  std::string tuning_cache_path;

  bool graph_used = false;  // the max_batch forward replays a CUDA graph
  std::string graph_note;   // why not, when a capture was attempted and failed

  std::vector<CudaLayerInfo> layers;  // every convolution, in execution order

  std::string format() const;  // multi-line debug print
};

// The info of a CUDA engine; nullptr when `engine` is not one.
const CudaEngineInfo* cuda_engine_info(const Engine& engine);

// Construction knobs beyond EngineOptions. make_cuda_engine() reads them from the environment:
//   RESNETRS_CUDA_LAYOUT=nchw|nhwc   activation layout (default: NCHW for fp32, NHWC for tf32)
//   RESNETRS_SYNC_CHECK=1            synchronize and check after every layer (no graph): pins an
//                                    asynchronous fault to the layer that caused it
//   RESNETRS_CUDA_VERBOSE=1          print the device, every tuning candidate and the plan to stderr
//   RESNETRS_CUDA_BATCHES=1,8        batch sizes prepared (tuned, graphs captured) at build
//   RESNETRS_CUDA_ARENA=role|liveness  how activations are placed in the arena (default: liveness
//                                    when built with RESNETRS_UNVERIFIED_GPU=ON, else per role)
struct CudaEngineTweaks {
  enum class LayoutChoice { kAuto, kNCHW, kNHWC };
  LayoutChoice layout = LayoutChoice::kAuto;
  bool sync_check = false;
  bool verbose = false;
  // Tests only: restrict every layer to one mode (fused conv+bias[+ReLU] in cuDNN, or plain conv
  // + our epilogues) instead of timing both. Not cached (the cache is neither read nor written).
  enum class ModeChoice { kTimed, kFusedOnly, kPlainOnly };
  ModeChoice modes = ModeChoice::kTimed;
  // Activation placement (docs/cuda-engine.md, "Memory"): kAuto = by liveness when the library
  // was built with RESNETRS_UNVERIFIED_GPU=ON, else one region per role; kLiveness passes the
  // gate (refused by a default build).
  enum class ArenaChoice { kAuto, kPerRole, kLiveness };
  ArenaChoice arena = ArenaChoice::kAuto;
  // Under the liveness placement, zero each fused cuDNN convolution's output before the call
  // (its z input is y with alpha2 = 0; y holds stale bytes of other tensors). Tests turn it off
  // to check on a device whether cuDNN reads z at all.
  bool zero_fused_outputs = true;
  // Small batches (docs/cuda-engine.md, "Batch sizes"): kEachBatch tunes every batch size on its
  // own (tuning cache or timing, within the workspace allocated at build) and gives run_host one
  // graph per batch (normalize .. logits bias); kMaxBatchOnly reuses max_batch's choices where
  // they fit (the behaviour of a default build). kAuto = kEachBatch when the library was built
  // with RESNETRS_UNVERIFIED_GPU=ON; kEachBatch passes the gate.
  enum class BatchTuning { kAuto, kMaxBatchOnly, kEachBatch };
  BatchTuning batch_tuning = BatchTuning::kAuto;
  // Batch sizes (besides max_batch) prepared at build: descriptors, choices and graphs, so their
  // first run costs nothing extra. make_cuda_engine reads RESNETRS_CUDA_BATCHES=1,8,... .
  std::vector<int> prepare_batches;
};

CudaEngineTweaks cuda_tweaks_from_env();

std::unique_ptr<Engine> make_cuda_engine_ex(const FoldedWeights& weights, const EngineOptions& options,
                                            const CudaEngineTweaks& tweaks);

}  // namespace resnetrs
