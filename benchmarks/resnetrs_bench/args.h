// Command-line flags of resnetrs-bench (named after trtexec's where one exists) and their
// parsing. Bad or missing flags throw UsageError: main prints the usage and exits 2.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

extern const char* const kUsage;

enum class BackendChoice { kAuto, kCpu, kCuda };

// The timing subcommand's flags. Optional fields are unset when the flag was not given, so the
// mode (table or single config, GPU or CPU) can pick its own defaults.
struct BenchArgs {
  bool table = false;                  // --table
  std::optional<int> depth;            // --model rs50..rs420
  std::optional<int> resolution;       // --res
  std::optional<int> batch;            // --batch (no halving on OOM when given)
  std::string weights;                 // --weights FILE.h5 (empty: synthetic)
  std::vector<std::string> precisions{"fp32"};  // --precision fp32|tf32|fp16|bf16|fp32x3, comma-separated
  BackendChoice backend = BackendChoice::kAuto;  // --backend cuda|cpu
  std::optional<double> warmup_ms;     // --warmup-ms
  std::optional<int> iterations;       // --iterations
  std::optional<double> duration_s;    // --duration-s
  bool cuda_graph = true;              // --cuda-graph on|off
  std::string json_path;               // --json FILE
  std::string tuning_cache;            // --tuning-cache FILE
  std::optional<int> threads;          // --threads N (CPU backend; 0: the cores this process may run on)
  std::optional<std::string> winograd; // --winograd auto|off|fast (CPU backend; unset: auto)
  std::vector<std::string> argv;       // the command line, for the JSON record
};

// `infer` subcommand flags (kept exactly as the first bench had them).
struct InferArgs {
  std::string weights, input, output;
  std::string backend = "cpu";
  std::string layout = "nchw";
};

// Parses argv[first..argc). Throws UsageError.
BenchArgs parse_bench_args(int argc, char** argv, int first);
InferArgs parse_infer_args(int argc, char** argv, int first);

// "rs50" -> 50; throws UsageError naming the valid models.
int parse_model(const std::string& value);

}  // namespace bench
