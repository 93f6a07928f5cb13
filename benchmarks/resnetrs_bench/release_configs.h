// The 11 configs of the ResNet-RS release (resnetrs-architecture.md §6) with the release's V100
// "latency", which is a TRAINING step time (batch 128 halved until it fits, fp32) and so is not
// comparable with inference: the table prints it in a column that says so.
#pragma once

#include <optional>
#include <vector>

namespace bench {

struct ReleaseConfig {
  int depth;
  int resolution;
  double v100_train_step_s;
};

const std::vector<ReleaseConfig>& release_configs();

// Every depth, in increasing order.
constexpr int kDepths[] = {50, 101, 152, 200, 270, 350, 420};

// The release's V100 figure for (depth, resolution), if it is a release config.
std::optional<double> v100_train_step_s(int depth, int resolution);

// The first release resolution of a depth (the default --res of a single config).
int default_resolution(int depth);

}  // namespace bench
