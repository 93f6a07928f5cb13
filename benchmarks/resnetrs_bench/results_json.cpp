#include "results_json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace bench {
namespace {

using nlohmann::ordered_json;  // keys in the order written, as docs/benchmarks.md lists them

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// JSON has no NaN or infinity: a non-finite number is written as null.
ordered_json number(double d) { return std::isfinite(d) ? ordered_json(d) : ordered_json(nullptr); }

template <typename T>
ordered_json or_null(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}
ordered_json or_null(const std::optional<double>& v) { return v ? number(*v) : ordered_json(nullptr); }

// Samples keep 6 significant digits (sub-microsecond digits of a CUDA event time are noise).
double six_digits(double d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", d);
  return std::strtod(buf, nullptr);
}

ordered_json summary(const Summary& s) {
  return {{"median", number(s.median)}, {"mean", number(s.mean)}, {"min", number(s.min)}, {"max", number(s.max)},
          {"p90", number(s.p90)},       {"p95", number(s.p95)},   {"p99", number(s.p99)}};
}

ordered_json environment(const Environment& e) {
  ordered_json software = {{"library_version", e.library_version},
                           {"api_version", e.api_version},
                           {"git_commit", e.git_commit},
                           {"build_type", e.build_type},
                           {"cuda_architectures", e.cuda_architectures},
                           {"cxx_flags", e.cxx_flags},
                           {"cuda_flags", e.cuda_flags},
                           {"compiler", e.compiler},
                           {"cudnn_version_compiled", e.cudnn_version_compiled}};
  return {{"backend", e.backend},
          {"device_name", e.device_name},
          {"compute_capability", or_null(e.compute_capability)},
          {"sm_count", or_null(e.sm_count)},
          {"device_memory_bytes", or_null(e.device_memory_bytes)},
          {"driver_version", or_null(e.driver_version)},
          {"cuda_runtime_version", or_null(e.cuda_runtime_version)},
          {"cudnn_version", or_null(e.cudnn_version)},
          {"cublas_version", or_null(e.cublas_version)},
          {"host_cpu", e.host_cpu},
          {"host_cores", e.host_cores},
          {"host_cpu_flags", e.host_cpu_flags},
          {"cpu_isa_env", or_null(e.cpu_isa_env)},
          {"software", software}};
}

ordered_json result(const ConfigResult& r, bool cuda) {
  ordered_json j = {
      {"model", "rs" + std::to_string(r.spec.depth)},
      {"depth", r.spec.depth},
      {"resolution", r.spec.resolution},
      {"mode", "resnetrs"},
      {"precision", r.spec.precision},
      {"layout", "nchw"},
      {"cuda_graph", cuda && r.spec.cuda_graph},
      {"backend", cuda ? "cuda" : "cpu"},
      {"cpu_threads", cuda ? ordered_json(nullptr) : or_null(r.cpu_threads)},
      {"cpu_winograd", cuda ? ordered_json(nullptr) : ordered_json(r.spec.cpu_winograd)},
      {"weights", r.spec.weights.empty() ? "synthetic:seed=" + std::to_string(r.spec.seed) : r.spec.weights},
      {"batch_requested", r.batch_requested},
      {"batch", r.batch},
      {"status", r.ok ? "ok" : "error"},
      {"error", r.ok ? ordered_json(nullptr) : ordered_json(r.error)},
  };
  if (!r.ok) return j;
  j["params_m"] = number(r.params_m);
  j["gflops_per_image"] = number(r.gflops);
  j["release_v100_train_step_s"] = or_null(r.v100_train_step_s);
  j["warmup_iterations"] = r.warmup_iterations;
  j["warmup_s"] = number(r.warmup_s);
  j["iterations"] = r.iterations;
  j["timed_s"] = number(r.timed_s);
  j["latency_ms"] = summary(r.latency_ms);
  j["host_ms"] = summary(r.host_ms);
  j["enqueue_ms"] = r.enqueue_ms && cuda ? summary(*r.enqueue_ms) : ordered_json(nullptr);
  j["images_per_s"] = number(r.images_per_s);
  j["build_s"] = number(r.build_s);
  j["load_s"] = number(r.load_s);
  j["tune_s"] = number(r.tune_s);
  j["memory"] = {{"method", cuda ? "cudaMemGetInfo" : "none"},
                 {"peak_bytes", or_null(r.memory.peak)},
                 {"after_build_bytes", or_null(r.memory.after_build)},
                 {"after_runs_bytes", or_null(r.memory.after_runs)},
                 {"engine_bytes", or_null(r.memory.engine)}};
  j["outputs_finite"] = or_null(r.outputs_finite);
  ordered_json samples = ordered_json::array();
  for (double v : r.samples_ms) samples.push_back(number(six_digits(v)));
  j["samples_ms"] = std::move(samples);
  return j;
}

}  // namespace

std::string results_to_json(const RunRecord& rec) {
  std::string command;
  for (const std::string& a : rec.argv) command += (command.empty() ? "" : " ") + a;
  ordered_json doc = {
      {"schema", "resnetrs-bench-results"},
      {"schema_version", kSchemaVersion},
      {"producer", {{"name", "resnetrs-bench"}, {"version", rec.environment.library_version}}},
      {"created_utc", utc_now()},
      {"command", command},
      {"environment", environment(rec.environment)},
      {"protocol",
       {{"warmup_ms", number(rec.protocol.warmup_ms)},
        {"min_iterations", rec.protocol.min_iterations},
        {"min_duration_s", number(rec.protocol.min_duration_s)},
        {"clock", rec.cuda ? "cuda_event" : "steady_clock"},
        {"data_transfers", "excluded"},
        {"synchronization", "per_iteration"},
        {"percentiles", "nearest_rank"},
        {"reduced_cpu_table", rec.reduced_cpu_table}}},
  };
  ordered_json results = ordered_json::array();
  for (const ConfigResult& r : rec.results) results.push_back(result(r, rec.cuda));
  doc["results"] = std::move(results);
  // replace: an invalid UTF-8 byte in a message (a file name) must not make the document unwritable.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void write_results_json(const std::string& path, const RunRecord& record) {
  const std::string doc = results_to_json(record);
  const std::string tmp = path + ".partial";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << doc;
    if (!f) throw std::runtime_error("cannot write '" + path + "' (is the directory writable?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot move '" + tmp + "' to '" + path + "'");
  }
}

}  // namespace bench
