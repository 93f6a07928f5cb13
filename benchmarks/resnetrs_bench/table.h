// The results table, in the release's layout: model, resolution, params, GFLOPs, then our
// batch, median latency, throughput, memory and build time, and the release's V100 figure in a
// column that says it is a training step time and not comparable.
#pragma once

#include <cstdio>
#include <string>

#include "results_json.h"

namespace bench {

// The header: device, library build and protocol.
void print_header(std::FILE* out, const RunRecord& record);
void print_table(std::FILE* out, const RunRecord& record);

// "RS-152 @256": how configs are named in progress lines and the table.
std::string config_name(int depth, int resolution);

}  // namespace bench
