// One config, one batch, measured on the GPU (CUDA events) or the CPU (steady_clock). Each
// returns nullopt when the batch does not fit (OUT_OF_MEMORY) so the caller can halve it, and
// throws ApiError or std::runtime_error on any other failure.
#pragma once

#include <optional>

#include <vector>

#include "measurement.h"
#include "protocol.h"

namespace bench {

std::optional<ConfigResult> run_cuda_config(const RunSpec& spec, const Protocol& protocol);
std::optional<ConfigResult> run_cpu_config(const RunSpec& spec, const Protocol& protocol);

// Builds the engine options both runners use.
resnetrs_options_t engine_options(const RunSpec& spec);

// Creates the engine a spec asks for; returns nullptr when it does not fit (OUT_OF_MEMORY).
resnetrs_engine_t* create_engine_or_null(const RunSpec& spec, double* build_s);

// Fills the fields every runner sets the same way from the engine's info.
void fill_from_info(const resnetrs_engine_info_t& info, ConfigResult& r);

// Fills the timing fields from the protocol's runs (latency, iterations, warm-up, throughput),
// records whether the last run's logits are finite and marks the result ok. The runners add
// what only they measure (host and enqueue times on the GPU).
void fill_timing(const TimedRuns& runs, const std::vector<float>& last_logits, ConfigResult& r);

// Deterministic input pixels on the 0..255 scale.
void fill_pixels(float* pixels, size_t count);

}  // namespace bench
