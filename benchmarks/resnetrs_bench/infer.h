// `resnetrs-bench infer`: runs a weights file on a .npy batch and writes the logits as .npy
// (used by the converter's end-to-end tests). Its flags and output are the first bench's.
#pragma once

#include "args.h"

namespace bench {

int run_infer(const InferArgs& args);

}  // namespace bench
