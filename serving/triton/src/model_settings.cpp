#include "model_settings.h"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>
#include <resnetrs/resnetrs.h>

#include "triton_errors.h"

namespace resnetrs_triton {
namespace {

using nlohmann::json;

// Triton writes int64 protobuf fields (dims) as JSON numbers; older servers wrote them as strings.
int64_t as_int64(const json& v, const std::string& what) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0) return x;
  }
  invalid(what + " must be an integer, got " + v.dump());
}

int32_t parse_int_param(const std::string& name, const std::string& text, int32_t lo, int32_t hi) {
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || x < lo || x > hi) {
    invalid("parameter '" + name + "' must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
            ", got '" + text + "'");
  }
  return static_cast<int32_t>(x);
}

std::vector<int64_t> dims_of(const json& tensor, const std::string& what) {
  std::vector<int64_t> dims;
  if (!tensor.contains("dims") || !tensor["dims"].is_array()) invalid(what + " has no dims");
  for (const json& d : tensor["dims"]) dims.push_back(as_int64(d, what + " dims"));
  if (tensor.contains("reshape")) invalid(what + ": reshape is not supported");
  return dims;
}

std::string dims_string(const std::vector<int64_t>& dims) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < dims.size(); ++i) s << (i ? ", " : "") << dims[i];
  s << ']';
  return s.str();
}

// The one output, 'logits' TYPE_FP32.
const json& logits_output(const json& config) {
  if (!config.contains("output") || !config["output"].is_array() || config["output"].size() != 1) {
    invalid(std::string("config must declare exactly one output, named '") + kLogitsOutput + "'");
  }
  const json& t = config["output"][0];
  const std::string got = t.value("name", "");
  if (got != kLogitsOutput) invalid("config output is named '" + got + "'; this backend serves '" + kLogitsOutput + "'");
  const std::string type = t.value("data_type", "");
  if (type != "TYPE_FP32") invalid("output 'logits' must be TYPE_FP32, config says '" + type + "'");
  return t;
}

void require_type(const json& t, const std::string& name, const char* type) {
  const std::string got = t.value("data_type", "");
  if (got != type) invalid("input '" + name + "' must be " + type + ", config says '" + got + "'");
}

std::string resolve(const std::string& path, const std::string& dir) {
  if (path.empty() || path[0] == '/') return path;
  return dir + "/" + path;
}

}  // namespace

ModelSettings parse_model_settings(const std::string& config_json, const std::string& version_dir) {
  json config;
  try {
    config = json::parse(config_json);
  } catch (const json::exception& e) {
    fail(TRITONSERVER_ERROR_INTERNAL, std::string("the server's model configuration is not JSON: ") + e.what());
  }
  ModelSettings s;
  s.model_name = config.value("name", "");

  // Batching: the first dimension of every tensor is the batch (max_batch_size > 0).
  s.max_batch_size = static_cast<int32_t>(as_int64(config.value("max_batch_size", json(0)), "max_batch_size"));
  if (s.max_batch_size < 1 || s.max_batch_size > 65536) {
    invalid("max_batch_size must be in 1..65536 (the batch dimension is implicit), config says " +
            std::to_string(s.max_batch_size));
  }

  // Parameters: { "weights": { "string_value": "model.h5" }, ... }
  std::string weights = "model.h5", precision = "fp32", resolution, max_batch, graphs;
  std::string image_preprocess = "release", crop_pct, max_pixels, cpu_threads, cpu_winograd = "auto";
  if (config.contains("parameters") && config["parameters"].is_object()) {
    for (const auto& [key, value] : config["parameters"].items()) {
      if (!value.is_object() || !value.contains("string_value") || !value["string_value"].is_string()) {
        invalid("parameter '" + key + "' must have a string_value");
      }
      const std::string v = value["string_value"].get<std::string>();
      if (key == "weights") weights = v;
      else if (key == "precision") precision = v;
      else if (key == "resolution") resolution = v;
      else if (key == "max_batch") max_batch = v;
      else if (key == "tuning_cache") s.tuning_cache_path = v;
      else if (key == "cuda_graph_batch_sizes") graphs = v;
      else if (key == "image_preprocess") image_preprocess = v;
      else if (key == "image_crop_pct") crop_pct = v;
      else if (key == "image_max_pixels") max_pixels = v;
      else if (key == "cpu_threads") cpu_threads = v;
      else if (key == "cpu_winograd") cpu_winograd = v;
      else {
        invalid("unknown parameter '" + key +
                "' (known: weights, precision, resolution, max_batch, tuning_cache, cuda_graph_batch_sizes, "
                "image_preprocess, image_crop_pct, image_max_pixels, cpu_threads, cpu_winograd)");
      }
    }
  }
  if (weights.empty()) invalid("parameter 'weights' is empty");
  s.weights_path = resolve(weights, version_dir);
  if (!s.tuning_cache_path.empty()) s.tuning_cache_path = resolve(s.tuning_cache_path, version_dir);

  if (precision == "fp32") s.precision = RESNETRS_PRECISION_FP32;
  else if (precision == "tf32") s.precision = RESNETRS_PRECISION_TF32;
  else if (precision == "fp16") s.precision = RESNETRS_PRECISION_FP16;
  else if (precision == "bf16") s.precision = RESNETRS_PRECISION_BF16;
  else invalid("parameter 'precision' must be fp32, tf32, fp16 or bf16, got '" + precision + "'");

  s.engine_max_batch = max_batch.empty() ? s.max_batch_size : parse_int_param("max_batch", max_batch, 1, 65536);
  if (s.engine_max_batch < s.max_batch_size) {
    invalid("parameter 'max_batch' (" + max_batch + ") is smaller than max_batch_size (" +
            std::to_string(s.max_batch_size) + "): Triton may send batches the engine cannot run");
  }

  // Inputs: pixels [3, H, W] (FORMAT_NCHW or FORMAT_NONE) or [H, W, 3] (FORMAT_NHWC); image [1].
  if (!config.contains("input") || !config["input"].is_array() || config["input"].empty()) {
    invalid("config must declare input 'pixels' (TYPE_FP32) and/or 'image' (TYPE_STRING)");
  }
  int optional_inputs = 0;
  for (const json& in : config["input"]) {
    const std::string name = in.value("name", "");
    if (in.value("optional", false)) ++optional_inputs;
    if (name == kPixelsInput) {
      require_type(in, name, "TYPE_FP32");
      const std::string format = in.value("format", "FORMAT_NONE");
      if (format != "FORMAT_NONE" && format != "FORMAT_NCHW" && format != "FORMAT_NHWC") {
        invalid("input 'pixels' format must be FORMAT_NCHW or FORMAT_NHWC, config says '" + format + "'");
      }
      s.nhwc = format == "FORMAT_NHWC";
      const std::vector<int64_t> d = dims_of(in, "input 'pixels'");
      const bool shape_ok = d.size() == 3 && (s.nhwc ? d[2] == 3 : d[0] == 3);
      if (!shape_ok) {
        invalid(std::string("input 'pixels' dims must be ") + (s.nhwc ? "[H, W, 3] (FORMAT_NHWC)" : "[3, H, W]") +
                ", config says " + dims_string(d));
      }
      const int64_t h = s.nhwc ? d[0] : d[1], w = s.nhwc ? d[1] : d[2];
      if (h < 32 || h > 4096 || w < 32 || w > 4096) {
        invalid("input 'pixels' height and width must be in 32..4096, config says " + dims_string(d));
      }
      s.height = static_cast<int32_t>(h);
      s.width = static_cast<int32_t>(w);
      s.pixels_input = true;
    } else if (name == kImageInput) {
      require_type(in, name, "TYPE_STRING");
      const std::vector<int64_t> d = dims_of(in, "input 'image'");
      if (d != std::vector<int64_t>{1}) invalid("input 'image' dims must be [1] (one encoded file per image), config says " + dims_string(d));
      s.image_input = true;
    } else {
      invalid("unknown input '" + name + "' (this backend serves 'pixels' and 'image')");
    }
  }
  if (s.pixels_input && s.image_input && optional_inputs != 2) {
    invalid("inputs 'pixels' and 'image' must both be `optional: true` (a request sends one of them)");
  }
  if (s.image_input && !RESNETRS_TRITON_HAS_IMAGES) {
    invalid("input 'image' needs libresnetrs' image decoding, which this build of the backend lacks (C API < 2)");
  }
  if (!resolution.empty()) {
    const int32_t r = parse_int_param("resolution", resolution, 32, 4096);
    if (s.pixels_input && (r != s.height || r != s.width)) {
      invalid("parameter 'resolution' (" + resolution + ") disagrees with the input 'pixels' dims");
    }
    s.height = s.width = r;
  } else if (!s.pixels_input) {
    invalid("parameter 'resolution' is required when there is no input 'pixels' (the images' size S x S)");
  }
  if (s.image_input && s.height != s.width) {
    invalid("images are preprocessed to S x S: input 'pixels' must be square when input 'image' is declared");
  }
  if (image_preprocess == "timm") s.image_timm = true;
  else if (image_preprocess != "release") invalid("parameter 'image_preprocess' must be release or timm, got '" + image_preprocess + "'");
  if (!crop_pct.empty()) {
    char* end = nullptr;
    const float c = std::strtof(crop_pct.c_str(), &end);
    if (end != crop_pct.c_str() + crop_pct.size() || !(c > 0.0f && c <= 1.0f)) {
      invalid("parameter 'image_crop_pct' must be a number in (0, 1], got '" + crop_pct + "'");
    }
    if (!s.image_timm) invalid("parameter 'image_crop_pct' applies to image_preprocess timm only");
    s.image_crop_pct = c;
  }
  if (!max_pixels.empty()) {
    char* end = nullptr;
    errno = 0;
    const long long m = std::strtoll(max_pixels.c_str(), &end, 10);
    if (end != max_pixels.c_str() + max_pixels.size() || errno != 0 || m < 1) {
      invalid("parameter 'image_max_pixels' must be a positive integer, got '" + max_pixels + "'");
    }
    s.image_max_pixels = m;
  }

  // KIND_CPU: checked for every model, so a typo fails at load even where no CPU instance runs.
  if (!cpu_threads.empty()) {
    const size_t a = cpu_threads.find_first_not_of(' '), b = cpu_threads.find_last_not_of(' ');
    const std::string t = a == std::string::npos ? "" : cpu_threads.substr(a, b - a + 1);
    s.cpu_threads = parse_int_param("cpu_threads", t, 0, 1024);
  }
  if (cpu_winograd == "auto") s.cpu_winograd = RESNETRS_CPU_WINOGRAD_AUTO;
  else if (cpu_winograd == "off") s.cpu_winograd = RESNETRS_CPU_WINOGRAD_OFF;
  else if (cpu_winograd == "fast") s.cpu_winograd = RESNETRS_CPU_WINOGRAD_FAST;
  else invalid("parameter 'cpu_winograd' must be auto, off or fast, got '" + cpu_winograd + "'");

  const json& out = logits_output(config);
  const std::vector<int64_t> od = dims_of(out, "output 'logits'");
  if (od.size() != 1 || od[0] < 1 || od[0] > std::numeric_limits<int32_t>::max()) {
    invalid("output 'logits' dims must be [num_classes], config says " + dims_string(od));
  }
  s.num_classes = static_cast<int32_t>(od[0]);

  // CUDA graph sizes: "1,8,32". Checked here so a typo fails at load even where they are unused.
  std::stringstream list(graphs);
  for (std::string item; std::getline(list, item, ',');) {
    const size_t a = item.find_first_not_of(' '), b = item.find_last_not_of(' ');
    const std::string t = a == std::string::npos ? "" : item.substr(a, b - a + 1);
    s.cuda_graph_batch_sizes.push_back(parse_int_param("cuda_graph_batch_sizes", t, 1, s.engine_max_batch));
  }
  return s;
}

}  // namespace resnetrs_triton
