#include "table.h"

#include <algorithm>

namespace bench {

std::string config_name(int depth, int resolution) { return "RS-" + std::to_string(depth) + " @" + std::to_string(resolution); }

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string gib(const std::optional<int64_t>& bytes) {
  return bytes ? fmt("%.2f", double(*bytes) / double(int64_t(1) << 30)) : "-";
}

}  // namespace

void print_header(std::FILE* out, const RunRecord& rec) {
  const Environment& e = rec.environment;
  if (rec.cuda) {
    std::fprintf(out, "device: %s (compute capability %s, %d SMs, %.1f GiB), driver CUDA %s, runtime %s, cuDNN %s, cuBLAS %s\n",
                 e.device_name.c_str(), e.compute_capability ? e.compute_capability->c_str() : "?", e.sm_count.value_or(0),
                 double(e.device_memory_bytes.value_or(0)) / double(int64_t(1) << 30), e.driver_version.value_or("?").c_str(),
                 e.cuda_runtime_version.value_or("?").c_str(), e.cudnn_version.value_or("?").c_str(),
                 e.cublas_version.value_or("?").c_str());
  } else {
    std::fprintf(out, "device: CPU backend on %s (%d cores)\n", e.host_cpu.c_str(), e.host_cores);
  }
  std::fprintf(out, "library: libresnetrs %s (%s, %s, CUDA archs %s)\n", e.library_version.c_str(), e.git_commit.c_str(),
               e.build_type.c_str(), e.cuda_architectures.c_str());
  const Protocol& p = rec.protocol;
  std::fprintf(out,
               "protocol: warm-up %.0f ms, then at least %d runs and %.1f s; %s around each run; input already in "
               "%s memory, H2D/D2H excluded; synchronized after each run\n",
               p.warmup_ms, p.min_iterations, p.min_duration_s, rec.cuda ? "CUDA events" : "steady_clock",
               rec.cuda ? "device" : "host");
  std::string precisions;
  for (const std::string& prec : rec.precisions) {
    precisions += (precisions.empty() ? "" : ", ") + prec + (prec == "fp32" ? " (strict, no TF32)" : "");
  }
  std::fprintf(out, "engine: precision %s, CUDA graph %s, weights %s\n", precisions.empty() ? "fp32" : precisions.c_str(),
               rec.cuda ? (rec.cuda_graph ? "on" : "off") : "n/a", rec.weights.empty() ? "synthetic" : rec.weights.c_str());
  if (!rec.cuda) {
    const std::string threads = rec.cpu_threads > 0 ? std::to_string(rec.cpu_threads) : "all the cores this process may run on";
    std::string flags;
    for (const std::string& f : e.host_cpu_flags) flags += (flags.empty() ? "" : " ") + f;
    std::fprintf(out, "cpu: threads %s, winograd %s; processor flags: %s%s%s\n", threads.c_str(), rec.cpu_winograd.c_str(),
                 flags.empty() ? "none of avx2 fma avx512f" : flags.c_str(), e.cpu_isa_env ? ", RESNETRS_CPU_ISA=" : "",
                 e.cpu_isa_env ? e.cpu_isa_env->c_str() : "");
  }
}

void print_table(std::FILE* out, const RunRecord& rec) {
  if (rec.reduced_cpu_table) {
    std::fprintf(out, "REDUCED TABLE ON THE CPU BACKEND: latencies are CPU wall times, not GPU results\n");
  }
  // The legend goes first so the table rows are the last lines printed.
  std::fprintf(out,
               "median ms: %s of one forward pass of the whole batch; images/s: batch x runs / wall time of the timed runs;\n"
               "mem GiB: %s; build s: wall time of engine creation (weights, folding, build, tuning).\n",
               rec.cuda ? "GPU time (CUDA events)" : "wall time",
               rec.cuda ? "peak device memory used above the baseline (cudaMemGetInfo)" : "not measured on the CPU");
  const char* lat = rec.cuda ? "median ms" : "median ms (CPU)";
  std::fprintf(out, "%-8s %5s %-6s %9s %7s %6s %16s %10s %10s %8s  %s\n", "model", "res", "prec", "params M", "GFLOPs", "batch", lat,
               "images/s", "mem GiB", "build s", "V100 train-step s (release, not comparable)");
  for (const ConfigResult& r : rec.results) {
    const std::string model = "RS-" + std::to_string(r.spec.depth);
    const std::string v100 = r.v100_train_step_s ? fmt("%.2f", *r.v100_train_step_s) : "-";
    if (!r.ok) {
      std::fprintf(out, "%-8s %5d %-6s  error: %s\n", model.c_str(), r.spec.resolution, r.spec.precision.c_str(), r.error.c_str());
      continue;
    }
    std::string batch = std::to_string(r.batch);
    if (r.batch_halvings > 0) batch += "*";
    std::fprintf(out, "%-8s %5d %-6s %9.2f %7.2f %6s %16.2f %10.1f %10s %8.1f  %s%s\n", model.c_str(), r.spec.resolution,
                 r.spec.precision.c_str(), r.params_m,
                 r.gflops, batch.c_str(), r.latency_ms.median, r.images_per_s, gib(r.memory.peak).c_str(), r.build_s,
                 v100.c_str(), r.outputs_finite.value_or(true) ? "" : "  WARNING: non-finite logits");
  }
  const bool halved = std::any_of(rec.results.begin(), rec.results.end(), [](const ConfigResult& r) { return r.batch_halvings > 0; });
  if (halved) std::fprintf(out, "* batch halved from %d until the engine fit in device memory\n", rec.results.front().batch_requested);
}

}  // namespace bench
