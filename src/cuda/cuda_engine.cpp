// TEMPORARY (replaced by the CUDA engine work in progress): refuses the CUDA backend.
#include "common/error.h"
#include "engine/engine.h"

namespace resnetrs {
std::unique_ptr<Engine> make_cuda_engine(const FoldedWeights&, const EngineOptions&) {
  throw_error(Status::kNoDevice, "the CUDA backend is not built yet");
}
}  // namespace resnetrs
