#include "infer.h"

#include <cstdio>

#include "api_check.h"
#include "npy_io.h"

namespace bench {

int run_infer(const InferArgs& a) {
  const bool nhwc = a.layout == "nhwc";
  const NpyArray x = read_npy(a.input);
  if (x.shape.size() != 4 || (nhwc ? x.shape[3] : x.shape[1]) != 3) {
    throw ApiError(RESNETRS_STATUS_INVALID_ARGUMENT,
                   "input '" + a.input + "': expected float32 [N,3,H,W] (or [N,H,W,3] with --layout nhwc)");
  }
  resnetrs_options_t o;
  check_api(resnetrs_options_init(&o));
  o.backend = a.backend == "cuda" ? RESNETRS_BACKEND_CUDA : RESNETRS_BACKEND_CPU;
  o.input_layout = nhwc ? RESNETRS_LAYOUT_NHWC : RESNETRS_LAYOUT_NCHW;
  o.max_batch = int32_t(x.shape[0]);
  o.height = int32_t(nhwc ? x.shape[1] : x.shape[2]);
  o.width = int32_t(nhwc ? x.shape[2] : x.shape[3]);
  resnetrs_engine_t* raw = nullptr;
  check_api(resnetrs_engine_create_from_file(a.weights.c_str(), &o, &raw));
  Engine engine(raw);
  const resnetrs_engine_info_t info = engine_info(engine.get());
  const int n = o.max_batch;
  std::vector<float> logits(size_t(n) * size_t(info.num_classes));
  check_api(resnetrs_engine_run_host(engine.get(), x.data.data(), n, logits.data()));
  write_npy(a.output, {n, info.num_classes}, logits.data());
  std::printf("infer: %d image(s) %dx%d, depth %d, backend %s -> %s\n", n, o.height, o.width, info.depth,
              o.backend == RESNETRS_BACKEND_CPU ? "cpu" : "cuda", a.output.c_str());
  return 0;
}

}  // namespace bench
