#include "release_configs.h"

namespace bench {

const std::vector<ReleaseConfig>& release_configs() {
  static const std::vector<ReleaseConfig> configs = {
      {50, 160, 0.31},  {101, 160, 0.48}, {101, 192, 0.70}, {152, 192, 0.99}, {152, 224, 1.48}, {152, 256, 1.76},
      {200, 256, 2.86}, {270, 256, 3.76}, {350, 256, 4.72}, {350, 320, 8.48}, {420, 320, 10.16},
  };
  return configs;
}

std::optional<double> v100_train_step_s(int depth, int resolution) {
  for (const ReleaseConfig& c : release_configs()) {
    if (c.depth == depth && c.resolution == resolution) return c.v100_train_step_s;
  }
  return std::nullopt;
}

int default_resolution(int depth) {
  for (const ReleaseConfig& c : release_configs()) {
    if (c.depth == depth) return c.resolution;
  }
  return 224;
}

}  // namespace bench
