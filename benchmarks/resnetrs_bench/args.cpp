#include "args.h"

#include <cmath>
#include <cstdlib>
#include <map>

#include "release_configs.h"

namespace bench {

const char* const kUsage =
    "usage:\n"
    "  resnetrs-bench                      the release table: 11 configs, batch 128 (halved until it fits),\n"
    "                                      strict fp32 on the GPU; a reduced CPU table when there is no GPU\n"
    "  resnetrs-bench --backend cpu [--model rs50 --res 160] [--batch 1] [--threads N]   the CPU backend, full protocol\n"
    "  resnetrs-bench --model rs152 [--res 256] [--batch 128]   one config\n"
    "  resnetrs-bench infer --weights FILE.h5 --input X.npy --output LOGITS.npy [--backend cpu|cuda] [--layout nchw|nhwc]\n"
    "\n"
    "flags (timing):\n"
    "  --table                  run the table (the default when neither --model nor --res is given;\n"
    "                           with --model, only that model's release configs)\n"
    "  --model rs50|rs101|rs152|rs200|rs270|rs350|rs420\n"
    "  --res N                  input resolution, 32..4096 (single config; default: the model's first release resolution)\n"
    "  --batch N                batch size; no halving on OOM when given (default 128, halved on OOM;\n"
    "                           --backend cpu: 1; reduced CPU table: 2)\n"
    "  --weights FILE.h5        a resnetrs-weights file instead of synthetic weights (needs --model in table mode)\n"
    "  --precision fp32|tf32|fp16|bf16|fp32x3   default fp32 (strict: no TF32); a comma-separated list runs\n"
    "                           each config in each precision (--precision fp32,tf32,fp16); fp16, bf16 and\n"
    "                           fp32x3 need a build with -DRESNETRS_UNVERIFIED_GPU=ON (docs/cuda-engine.md):\n"
    "                           a precision the library refuses is an error row, the others still run\n"
    "  --backend cuda|cpu       default: cuda when a CUDA device exists, else the reduced CPU table;\n"
    "                           cpu: the configs asked for (the release table, or --model/--res) on the CPU\n"
    "                           backend with the full protocol\n"
    "  --threads N              CPU backend: threads of one run, 0..1024 (default 0: the cores this process may\n"
    "                           run on); the JSON records what the engine resolved\n"
    "  --winograd auto|off|fast CPU backend: Winograd 3x3 convolutions (default auto: only where as exact as the\n"
    "                           direct convolution; fast: wherever faster, less exact)\n"
    "  --warmup-ms MS           warm-up by time before timing, at least one run (default 200)\n"
    "  --iterations N           time at least N runs (default 10; reduced CPU table 3)\n"
    "  --duration-s S           and at least S seconds (default 1 for the table, 3 for one config; reduced CPU table 0)\n"
    "  --cuda-graph on|off      replay the forward pass as a CUDA graph (default on)\n"
    "  --tuning-cache FILE      cache of algorithm choices, read and written by the engine\n"
    "  --json FILE              write every number and the environment as JSON (docs/benchmarks.md)\n"
    "  --help                   this text\n"
    "Flags take their value as the next argument or after '=' (--res=160).\n";

namespace {

// Splits argv into flag -> value. `switches` take no value.
// A repeated flag is an error, except where `last_wins` (infer keeps the first bench's behaviour).
std::map<std::string, std::string> split_flags(int argc, char** argv, int first, const std::vector<std::string>& valued,
                                               const std::vector<std::string>& switches, bool last_wins = false) {
  auto known = [](const std::vector<std::string>& v, const std::string& k) {
    for (const auto& s : v)
      if (s == k) return true;
    return false;
  };
  std::map<std::string, std::string> flags;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) throw UsageError("unexpected argument '" + arg + "'");
    std::string key = arg.substr(2), value;
    const size_t eq = key.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    if (known(switches, key)) {
      if (inline_value) throw UsageError("flag --" + key + " takes no value");
      value = "1";
    } else if (known(valued, key)) {
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError("flag --" + key + " needs a value");
        value = argv[++i];
      }
      if (value.empty()) throw UsageError("flag --" + key + " needs a non-empty value");
    } else {
      throw UsageError("unknown flag --" + key);
    }
    if (flags.count(key) && !last_wins) throw UsageError("flag --" + key + " given twice");
    flags[key] = value;
  }
  return flags;
}

int to_int(const std::string& flag, const std::string& v, int lo, int hi) {
  char* end = nullptr;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0') throw UsageError("--" + flag + " expects an integer, got '" + v + "'");
  if (x < lo || x > hi) {
    throw UsageError("--" + flag + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + v);
  }
  return int(x);
}

double to_double(const std::string& flag, const std::string& v, double lo, double hi) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !std::isfinite(x)) throw UsageError("--" + flag + " expects a number, got '" + v + "'");
  if (x < lo || x > hi) throw UsageError("--" + flag + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + v);
  return x;
}

std::string one_of(const std::string& flag, const std::string& v, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& a : allowed) {
    if (a == v) return v;
    list += (list.empty() ? "" : "|") + a;
  }
  throw UsageError("--" + flag + " expects " + list + ", got '" + v + "'");
}

// "fp32,tf32" -> {"fp32", "tf32"}: each one checked, no empty item, no repeat.
std::vector<std::string> precision_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) throw UsageError("--precision has an empty item in '" + text + "'");
    const std::string p = one_of("precision", item, {"fp32", "tf32", "fp16", "bf16", "fp32x3"});
    for (const std::string& q : out) {
      if (q == p) throw UsageError("--precision lists " + p + " twice");
    }
    out.push_back(p);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

int parse_model(const std::string& value) {
  for (int d : kDepths) {
    if (value == "rs" + std::to_string(d)) return d;
  }
  throw UsageError("--model expects one of rs50, rs101, rs152, rs200, rs270, rs350, rs420, got '" + value + "'");
}

BenchArgs parse_bench_args(int argc, char** argv, int first) {
  auto f = split_flags(argc, argv, first,
                       {"model", "res", "batch", "weights", "precision", "backend", "warmup-ms", "iterations", "duration-s",
                        "cuda-graph", "json", "tuning-cache", "threads", "winograd"},
                       {"table"});
  BenchArgs a;
  for (int i = 0; i < argc; ++i) a.argv.push_back(argv[i]);
  a.table = f.count("table") > 0;
  if (f.count("model")) a.depth = parse_model(f["model"]);
  if (f.count("res")) a.resolution = to_int("res", f["res"], 32, 4096);
  if (f.count("batch")) a.batch = to_int("batch", f["batch"], 1, 65536);
  if (f.count("weights")) a.weights = f["weights"];
  if (f.count("precision")) a.precisions = precision_list(f["precision"]);
  if (f.count("backend")) {
    a.backend = one_of("backend", f["backend"], {"cuda", "cpu"}) == "cpu" ? BackendChoice::kCpu : BackendChoice::kCuda;
  }
  if (f.count("warmup-ms")) a.warmup_ms = to_double("warmup-ms", f["warmup-ms"], 0, 3.6e6);
  if (f.count("iterations")) a.iterations = to_int("iterations", f["iterations"], 1, 10000000);
  if (f.count("duration-s")) a.duration_s = to_double("duration-s", f["duration-s"], 0, 86400);
  if (f.count("cuda-graph")) a.cuda_graph = one_of("cuda-graph", f["cuda-graph"], {"on", "off"}) == "on";
  if (f.count("json")) a.json_path = f["json"];
  if (f.count("tuning-cache")) a.tuning_cache = f["tuning-cache"];
  if (f.count("threads")) a.threads = to_int("threads", f["threads"], 0, 1024);
  if (f.count("winograd")) a.winograd = one_of("winograd", f["winograd"], {"auto", "off", "fast"});

  if (a.table && a.resolution) throw UsageError("--res selects one config; it cannot be combined with --table");
  const bool table_mode = a.table || (!a.depth && !a.resolution);
  if (table_mode && !a.weights.empty() && !a.depth) {
    throw UsageError("--weights in table mode needs --model (the file holds one model; the table runs its release configs)");
  }
  if (!table_mode && !a.depth && a.weights.empty()) throw UsageError("--res needs --model (or --weights)");
  if (a.backend == BackendChoice::kCuda && (a.threads || a.winograd)) {
    throw UsageError(std::string(a.threads ? "--threads" : "--winograd") + " applies to the CPU backend, not --backend cuda");
  }
  for (const std::string& p : a.precisions) {
    if (p != "fp32" && a.backend == BackendChoice::kCpu) throw UsageError("--precision " + p + ": the CPU backend has fp32 only");
  }
  return a;
}

InferArgs parse_infer_args(int argc, char** argv, int first) {
  auto f = split_flags(argc, argv, first, {"weights", "input", "output", "backend", "layout"}, {}, true);
  for (const char* req : {"weights", "input", "output"}) {
    if (!f.count(req)) throw UsageError(std::string("infer needs --") + req);
  }
  InferArgs a;
  a.weights = f["weights"];
  a.input = f["input"];
  a.output = f["output"];
  if (f.count("backend")) a.backend = one_of("backend", f["backend"], {"cpu", "cuda"});
  if (f.count("layout")) a.layout = one_of("layout", f["layout"], {"nchw", "nhwc"});
  return a;
}

}  // namespace bench
