// The --json document: schema "resnetrs-bench-results" version 1 (docs/benchmarks.md), shared
// with benchmarks/peers/torch_peer.py and read by benchmarks/peers/join_results.py.
#pragma once

#include <string>
#include <vector>

#include "environment.h"
#include "measurement.h"

namespace bench {

constexpr int kSchemaVersion = 1;

struct RunRecord {
  std::vector<std::string> argv;
  std::vector<std::string> precisions;  // as asked (--precision), for the table's header
  bool cuda_graph = true;
  std::string weights;                  // empty: synthetic
  Environment environment;
  Protocol protocol;
  bool cuda = true;
  bool reduced_cpu_table = false;
  int cpu_threads = 0;                // requested (--threads; 0: the cores this process may run on)
  std::string cpu_winograd = "auto";  // --winograd
  std::vector<ConfigResult> results;
};

std::string results_to_json(const RunRecord& record);

// Writes the document; throws std::runtime_error naming the file when it cannot be written.
void write_results_json(const std::string& path, const RunRecord& record);

}  // namespace bench
