#include "common/error.h"
#include "engine/engine.h"

namespace resnetrs {

std::unique_ptr<Engine> create_engine(const FoldedWeights& weights, const EngineOptions& options) {
  switch (options.backend) {
    case Backend::kCpu: return make_cpu_fast_engine(weights, options);
    case Backend::kCuda: return make_cuda_engine(weights, options);
  }
  throw_error(Status::kInvalidArgument, "unknown backend " + std::to_string(int(options.backend)));
}

}  // namespace resnetrs
