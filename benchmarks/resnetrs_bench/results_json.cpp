#include "results_json.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <stdexcept>

#include "json_writer.h"

namespace bench {
namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_summary(JsonWriter& w, const Summary& s) {
  w.begin_object();
  w.field("median", s.median);
  w.field("mean", s.mean);
  w.field("min", s.min);
  w.field("max", s.max);
  w.field("p90", s.p90);
  w.field("p95", s.p95);
  w.field("p99", s.p99);
  w.end_object();
}

void write_summary(JsonWriter& w, const std::string& k, const Summary& s) {
  w.key(k);
  write_summary(w, s);
}

void write_environment(JsonWriter& w, const Environment& e) {
  w.key("environment");
  w.begin_object();
  w.field("backend", e.backend);
  w.field("device_name", e.device_name);
  w.field("compute_capability", e.compute_capability);
  w.field("sm_count", e.sm_count);
  w.field("device_memory_bytes", e.device_memory_bytes);
  w.field("driver_version", e.driver_version);
  w.field("cuda_runtime_version", e.cuda_runtime_version);
  w.field("cudnn_version", e.cudnn_version);
  w.field("cublas_version", e.cublas_version);
  w.field("host_cpu", e.host_cpu);
  w.field("host_cores", e.host_cores);
  w.key("software");
  w.begin_object();
  w.field("library_version", e.library_version);
  w.field("api_version", e.api_version);
  w.field("git_commit", e.git_commit);
  w.field("build_type", e.build_type);
  w.field("cuda_architectures", e.cuda_architectures);
  w.field("cxx_flags", e.cxx_flags);
  w.field("cuda_flags", e.cuda_flags);
  w.field("compiler", e.compiler);
  w.field("cudnn_version_compiled", e.cudnn_version_compiled);
  w.end_object();
  w.end_object();
}

void write_result(JsonWriter& w, const ConfigResult& r, bool cuda) {
  w.begin_object();
  w.field("model", "rs" + std::to_string(r.spec.depth));
  w.field("depth", r.spec.depth);
  w.field("resolution", r.spec.resolution);
  w.field("mode", std::string("resnetrs"));
  w.field("precision", r.spec.precision);
  w.field("layout", std::string("nchw"));
  w.field("cuda_graph", cuda && r.spec.cuda_graph);
  w.field("weights", r.spec.weights.empty() ? "synthetic:seed=" + std::to_string(r.spec.seed) : r.spec.weights);
  w.field("batch_requested", r.batch_requested);
  w.field("batch", r.batch);
  w.field("status", std::string(r.ok ? "ok" : "error"));
  w.key("error");
  if (r.ok) w.null();
  else w.value(r.error);
  if (!r.ok) {
    w.end_object();
    return;
  }
  w.field("params_m", r.params_m);
  w.field("gflops_per_image", r.gflops);
  w.field("release_v100_train_step_s", r.v100_train_step_s);
  w.field("warmup_iterations", r.warmup_iterations);
  w.field("warmup_s", r.warmup_s);
  w.field("iterations", r.iterations);
  w.field("timed_s", r.timed_s);
  write_summary(w, "latency_ms", r.latency_ms);
  write_summary(w, "host_ms", r.host_ms);
  w.key("enqueue_ms");
  if (r.enqueue_ms && cuda) write_summary(w, *r.enqueue_ms);
  else w.null();
  w.field("images_per_s", r.images_per_s);
  w.field("build_s", r.build_s);
  w.field("load_s", r.load_s);
  w.field("tune_s", r.tune_s);
  w.key("memory");
  w.begin_object();
  w.field("method", std::string(cuda ? "cudaMemGetInfo" : "none"));
  w.field("peak_bytes", r.memory.peak);
  w.field("after_build_bytes", r.memory.after_build);
  w.field("after_runs_bytes", r.memory.after_runs);
  w.field("engine_bytes", r.memory.engine);
  w.end_object();
  w.field("outputs_finite", r.outputs_finite);
  w.field("samples_ms", r.samples_ms);
  w.end_object();
}

}  // namespace

std::string results_to_json(const RunRecord& rec) {
  JsonWriter w;
  w.begin_object();
  w.field("schema", std::string("resnetrs-bench-results"));
  w.field("schema_version", kSchemaVersion);
  w.key("producer");
  w.begin_object();
  w.field("name", std::string("resnetrs-bench"));
  w.field("version", rec.environment.library_version);
  w.end_object();
  w.field("created_utc", utc_now());
  std::string command;
  for (const std::string& a : rec.argv) command += (command.empty() ? "" : " ") + a;
  w.field("command", command);
  write_environment(w, rec.environment);
  w.key("protocol");
  w.begin_object();
  w.field("warmup_ms", rec.protocol.warmup_ms);
  w.field("min_iterations", rec.protocol.min_iterations);
  w.field("min_duration_s", rec.protocol.min_duration_s);
  w.field("clock", std::string(rec.cuda ? "cuda_event" : "steady_clock"));
  w.field("data_transfers", std::string("excluded"));
  w.field("synchronization", std::string("per_iteration"));
  w.field("percentiles", std::string("nearest_rank"));
  w.field("reduced_cpu_table", rec.reduced_cpu_table);
  w.end_object();
  w.key("results");
  w.begin_array();
  for (const ConfigResult& r : rec.results) write_result(w, r, rec.cuda);
  w.end_array();
  w.end_object();
  return w.str() + "\n";
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
