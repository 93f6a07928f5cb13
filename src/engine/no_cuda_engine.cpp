// The CUDA backend of a CPU-only build (RESNETRS_CUDA=OFF): there is none, and asking for it says
// so plainly instead of failing somewhere inside CUDA.
#include "common/error.h"
#include "engine/engine.h"

namespace resnetrs {

const char* const kBuiltWithoutCuda =
    "this libresnetrs was built without CUDA (-DRESNETRS_CUDA=OFF): only the CPU backend (RESNETRS_BACKEND_CPU) is "
    "available; rebuild with -DRESNETRS_CUDA=ON for the CUDA backend";

std::unique_ptr<Engine> make_cuda_engine(const FoldedWeights&, const EngineOptions&) {
  throw_error(Status::kNoDevice, kBuiltWithoutCuda);
}

}  // namespace resnetrs
