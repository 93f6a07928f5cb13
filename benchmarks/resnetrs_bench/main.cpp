// resnetrs-bench (foundation version): `infer` runs a weights file on a .npy batch; the timing
// mode times the forward pass of one config and prints one result line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/engine.h"
#include "io/npy.h"
#include "io/weights_file.h"
#include "model/fold.h"

using namespace resnetrs;

namespace {

const char* kUsage =
    "usage:\n"
    "  resnetrs-bench infer --weights FILE.h5 --input X.npy --output LOGITS.npy [--backend cpu|cuda] [--layout nchw|nhwc]\n"
    "  resnetrs-bench [--backend cpu|cuda] [--model rs50|rs101|...|rs420] [--res N] [--batch N] [--weights FILE.h5]\n"
    "                 [--iterations N] [--warmup-ms MS]\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::map<std::string, std::string> parse_flags(int argc, char** argv, int first, const std::vector<std::string>& known) {
  std::map<std::string, std::string> flags;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + a + "'");
    std::string key = a.substr(2), value;
    const size_t eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else {
      if (i + 1 >= argc) throw UsageError("flag --" + key + " needs a value");
      value = argv[++i];
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) throw UsageError("unknown flag --" + key);
    flags[key] = value;
  }
  return flags;
}

int to_int(const std::string& flag, const std::string& v) {
  try {
    size_t pos = 0;
    const int x = std::stoi(v, &pos);
    if (pos != v.size()) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    throw UsageError("--" + flag + " expects an integer, got '" + v + "'");
  }
}

Backend parse_backend(const std::string& v) {
  if (v == "cpu") return Backend::kCpu;
  if (v == "cuda") return Backend::kCuda;
  throw UsageError("--backend expects cpu or cuda, got '" + v + "'");
}

int parse_model(const std::string& v) {
  for (int d : supported_depths()) {
    if (v == "rs" + std::to_string(d)) return d;
  }
  throw UsageError("--model expects one of rs50, rs101, rs152, rs200, rs270, rs350, rs420, got '" + v + "'");
}

int run_infer(int argc, char** argv) {
  auto f = parse_flags(argc, argv, 2, {"weights", "input", "output", "backend", "layout"});
  for (const char* req : {"weights", "input", "output"}) {
    if (!f.count(req)) throw UsageError(std::string("infer needs --") + req);
  }
  EngineOptions o;
  o.backend = parse_backend(f.count("backend") ? f["backend"] : "cpu");
  const std::string layout = f.count("layout") ? f["layout"] : "nchw";
  if (layout != "nchw" && layout != "nhwc") throw UsageError("--layout expects nchw or nhwc, got '" + layout + "'");
  o.input_layout = layout == "nhwc" ? Layout::kNHWC : Layout::kNCHW;
  const NpyArray x = load_npy(f["input"]);
  if (x.shape.size() != 4 || (o.input_layout == Layout::kNCHW ? x.shape[1] : x.shape[3]) != 3) {
    throw Error(Status::kInvalidArgument, "input '" + f["input"] + "': expected float32 [N,3,H,W] (or [N,H,W,3] with --layout nhwc)");
  }
  const int n = int(x.shape[0]);
  o.height = int(o.input_layout == Layout::kNCHW ? x.shape[2] : x.shape[1]);
  o.width = int(o.input_layout == Layout::kNCHW ? x.shape[3] : x.shape[2]);
  o.max_batch = n;
  const RawWeights raw = load_weights(f["weights"]);
  auto engine = create_engine(fold_weights(raw), o);
  std::vector<float> logits(size_t(n) * raw.config.num_classes);
  engine->run_host(x.data.data(), n, logits.data());
  save_npy(f["output"], {n, raw.config.num_classes}, logits.data());
  std::printf("infer: %d image(s) %dx%d, depth %d, backend %s -> %s\n", n, o.height, o.width, raw.config.depth,
              backend_name(o.backend), f["output"].c_str());
  return 0;
}

int run_timing(int argc, char** argv) {
  auto f = parse_flags(argc, argv, 1, {"backend", "model", "res", "batch", "weights", "iterations", "warmup-ms"});
  EngineOptions o;
  o.backend = parse_backend(f.count("backend") ? f["backend"] : "cpu");
  const int depth = parse_model(f.count("model") ? f["model"] : "rs50");
  o.height = o.width = f.count("res") ? to_int("res", f["res"]) : 160;
  o.max_batch = f.count("batch") ? to_int("batch", f["batch"]) : 1;
  const int iterations = f.count("iterations") ? to_int("iterations", f["iterations"]) : 3;
  const int warmup_ms = f.count("warmup-ms") ? to_int("warmup-ms", f["warmup-ms"]) : 0;
  if (iterations < 1) throw UsageError("--iterations must be at least 1");
  RawWeights raw = f.count("weights") ? load_weights(f["weights"]) : synthetic_weights(depth, 1);
  if (f.count("weights") && f.count("model") && raw.config.depth != depth) {
    throw UsageError("--model rs" + std::to_string(depth) + " disagrees with the weights file (depth " + std::to_string(raw.config.depth) + ")");
  }
  auto engine = create_engine(fold_weights(raw), o);
  std::vector<float> input(size_t(o.max_batch) * 3 * o.height * o.width);
  for (size_t i = 0; i < input.size(); ++i) input[i] = float((i * 2654435761u) % 256);
  std::vector<float> logits(size_t(o.max_batch) * raw.config.num_classes);
  using clock = std::chrono::steady_clock;
  const auto warm_end = clock::now() + std::chrono::milliseconds(warmup_ms);
  do engine->run_host(input.data(), o.max_batch, logits.data());
  while (clock::now() < warm_end);
  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = clock::now();
    engine->run_host(input.data(), o.max_batch, logits.data());
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  std::printf("result: backend=%s model=rs%d res=%d batch=%d weights=%s median_ms=%.2f images_per_s=%.1f iterations=%d\n",
              backend_name(o.backend), depth, o.height, o.max_batch, f.count("weights") ? f["weights"].c_str() : "synthetic",
              median, o.max_batch * 1000.0 / median, iterations);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
      std::printf("%s", kUsage);
      return 0;
    }
    if (argc >= 2 && !std::strcmp(argv[1], "infer")) return run_infer(argc, argv);
    return run_timing(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "resnetrs-bench: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "resnetrs-bench: error (%s): %s\n", status_name(e.status()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resnetrs-bench: error: %s\n", e.what());
    return 1;
  }
}
