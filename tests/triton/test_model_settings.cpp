// The Triton backend's config.pbtxt parser (serving/triton/src/model_settings.cpp) on the JSON
// Triton hands a backend: what it accepts, and every refusal with the field it names. The
// server-level tests (tests/python/test_triton_backend.py) check a few of these through a real
// server; here each rule has its own case.
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "model_settings.h"
#include "triton_errors.h"

using nlohmann::json;
using resnetrs_triton::BackendError;
using resnetrs_triton::parse_model_settings;

namespace {

json base_config() {
  return json::parse(R"({
    "name": "m", "backend": "resnetrs", "max_batch_size": 8,
    "input": [ { "name": "pixels", "data_type": "TYPE_FP32", "format": "FORMAT_NCHW", "dims": [3, 64, 48],
                 "optional": false } ],
    "output": [ { "name": "logits", "data_type": "TYPE_FP32", "dims": [1000], "label_filename": "" } ],
    "parameters": { "weights": { "string_value": "w.h5" } }
  })");
}

void param(json& c, const std::string& k, const std::string& v) { c["parameters"][k] = {{"string_value", v}}; }

// The message of the refusal (the test fails when the config is accepted).
std::string refusal(const json& c) {
  try {
    parse_model_settings(c.dump(), "/repo/m/1");
  } catch (const BackendError& e) {
    return e.message();
  }
  FAIL("accepted: " << c.dump());
  return "";
}

json image_input() { return json::parse(R"({ "name": "image", "data_type": "TYPE_STRING", "dims": [1], "optional": true })"); }

}  // namespace

TEST_CASE("triton config: a plain pixels model", "[triton]") {
  json c = base_config();
  auto s = parse_model_settings(c.dump(), "/repo/m/1");
  CHECK(s.model_name == "m");
  CHECK(s.weights_path == "/repo/m/1/w.h5");
  CHECK(s.max_batch_size == 8);
  CHECK(s.engine_max_batch == 8);
  CHECK(s.height == 64);
  CHECK(s.width == 48);
  CHECK_FALSE(s.nhwc);
  CHECK(s.pixels_input);
  CHECK_FALSE(s.image_input);
  CHECK(s.num_classes == 1000);
  CHECK(s.precision == RESNETRS_PRECISION_FP32);
  CHECK(s.pixels_per_image() == 3 * 64 * 48);
  CHECK(s.cuda_graph_batch_sizes.empty());
  CHECK(s.cpu_threads == 0);  // the cores the server process may run on
  CHECK(s.cpu_winograd == RESNETRS_CPU_WINOGRAD_AUTO);

  SECTION("parameters") {
    param(c, "weights", "/abs/w.h5");
    param(c, "max_batch", "16");
    param(c, "precision", "tf32");
    param(c, "tuning_cache", "tune.cache");
    param(c, "cuda_graph_batch_sizes", " 1, 8 ,16");
    param(c, "cpu_threads", " 4 ");
    param(c, "cpu_winograd", "off");
    s = parse_model_settings(c.dump(), "/repo/m/1");
    CHECK(s.cpu_threads == 4);
    CHECK(s.cpu_winograd == RESNETRS_CPU_WINOGRAD_OFF);
    CHECK(s.weights_path == "/abs/w.h5");
    CHECK(s.engine_max_batch == 16);
    CHECK(s.precision == RESNETRS_PRECISION_TF32);
    CHECK(s.tuning_cache_path == "/repo/m/1/tune.cache");
    CHECK(s.cuda_graph_batch_sizes == std::vector<int32_t>{1, 8, 16});
  }
  SECTION("NHWC, dims written as strings by older servers") {
    c["input"][0]["format"] = "FORMAT_NHWC";
    c["input"][0]["dims"] = json::array({"40", "40", "3"});
    param(c, "resolution", "40");
    s = parse_model_settings(c.dump(), "/repo/m/1");
    CHECK(s.nhwc);
    CHECK(s.height == 40);
    CHECK(s.width == 40);
  }
}

TEST_CASE("triton config: pixels and images", "[triton]") {
  json c = base_config();
  c["input"][0]["dims"] = {3, 64, 64};
  c["input"][0]["optional"] = true;
  c["input"].push_back(image_input());
  param(c, "image_preprocess", "timm");
  param(c, "image_crop_pct", "0.95");
  param(c, "image_max_pixels", "1000000");
#if RESNETRS_TRITON_HAS_IMAGES
  const auto s = parse_model_settings(c.dump(), "/repo/m/1");
  CHECK(s.pixels_input);
  CHECK(s.image_input);
  CHECK(s.image_timm);
  CHECK(s.image_crop_pct == Approx(0.95f));
  CHECK(s.image_max_pixels == 1000000);

  json only = base_config();
  only["input"] = json::array({image_input()});
  param(only, "resolution", "96");
  const auto t = parse_model_settings(only.dump(), "/repo/m/1");
  CHECK_FALSE(t.pixels_input);
  CHECK(t.image_input);
  CHECK(t.height == 96);
  CHECK(t.width == 96);
  only["parameters"].erase("resolution");
  CHECK_THAT(refusal(only), Catch::Contains("parameter 'resolution' is required"));
#else
  CHECK_THAT(refusal(c), Catch::Contains("lacks (C API < 2)"));
#endif
}

TEST_CASE("triton config: every refusal names what is wrong", "[triton]") {
  struct Case {
    const char* what;
    void (*change)(json&);
    const char* message;
  };
  const Case cases[] = {
      {"no batching", [](json& c) { c["max_batch_size"] = 0; }, "max_batch_size must be in 1..65536"},
      {"unknown parameter", [](json& c) { param(c, "weigths", "x"); }, "unknown parameter 'weigths'"},
      {"parameter without string_value", [](json& c) { c["parameters"]["precision"] = {{"int_value", 1}}; },
       "parameter 'precision' must have a string_value"},
      {"empty weights", [](json& c) { param(c, "weights", ""); }, "parameter 'weights' is empty"},
      {"bad precision", [](json& c) { param(c, "precision", "fp8"); }, "must be fp32, tf32, fp16 or bf16, got 'fp8'"},
      {"max_batch below max_batch_size", [](json& c) { param(c, "max_batch", "4"); }, "smaller than max_batch_size"},
      {"max_batch not a number", [](json& c) { param(c, "max_batch", "4x"); }, "'max_batch' must be an integer"},
      {"no inputs", [](json& c) { c["input"] = json::array(); }, "must declare input 'pixels'"},
      {"unknown input", [](json& c) { c["input"][0]["name"] = "INPUT__0"; }, "unknown input 'INPUT__0'"},
      {"pixels not fp32", [](json& c) { c["input"][0]["data_type"] = "TYPE_FP16"; }, "must be TYPE_FP32, config says 'TYPE_FP16'"},
      {"pixels 2-d", [](json& c) { c["input"][0]["dims"] = {3, 64}; }, "dims must be [3, H, W]"},
      {"NHWC dims in NCHW", [](json& c) { c["input"][0]["dims"] = {64, 64, 3}; }, "dims must be [3, H, W], config says [64, 64, 3]"},
      {"NCHW dims in NHWC",
       [](json& c) {
         c["input"][0]["format"] = "FORMAT_NHWC";
       },
       "dims must be [H, W, 3] (FORMAT_NHWC)"},
      {"unknown format", [](json& c) { c["input"][0]["format"] = "FORMAT_CHW"; }, "format must be FORMAT_NCHW or FORMAT_NHWC"},
      {"too small", [](json& c) { c["input"][0]["dims"] = {3, 31, 64}; }, "height and width must be in 32..4096"},
      {"reshape", [](json& c) { c["input"][0]["reshape"] = {{"shape", {1}}}; }, "reshape is not supported"},
      {"dims not integers", [](json& c) { c["input"][0]["dims"] = {3, 64.5, 64}; }, "dims must be an integer"},
      {"resolution disagrees", [](json& c) { param(c, "resolution", "64"); }, "disagrees with the input 'pixels' dims"},
      {"two inputs, not optional", [](json& c) { c["input"].push_back(image_input()); }, "must both be `optional: true`"},
      {"image wrong type",
       [](json& c) {
         c["input"][0] = image_input();
         c["input"][0]["data_type"] = "TYPE_UINT8";
       },
       "input 'image' must be TYPE_STRING"},
      {"image wrong dims",
       [](json& c) {
         c["input"][0] = image_input();
         c["input"][0]["dims"] = {2};
       },
       "input 'image' dims must be [1]"},
      {"no outputs", [](json& c) { c["output"] = json::array(); }, "exactly one output, named 'logits'"},
      {"output misnamed", [](json& c) { c["output"][0]["name"] = "probs"; }, "config output is named 'probs'"},
      {"output 2-d", [](json& c) { c["output"][0]["dims"] = {10, 100}; }, "output 'logits' dims must be [num_classes]"},
      {"output fp16", [](json& c) { c["output"][0]["data_type"] = "TYPE_FP16"; }, "output 'logits' must be TYPE_FP32"},
      {"graph size 0", [](json& c) { param(c, "cuda_graph_batch_sizes", "0,8"); }, "'cuda_graph_batch_sizes' must be an integer in 1..8"},
      {"graph size above max_batch", [](json& c) { param(c, "cuda_graph_batch_sizes", "1,9"); }, "in 1..8, got '9'"},
      {"graph sizes empty item", [](json& c) { param(c, "cuda_graph_batch_sizes", "1,,8"); }, "got ''"},
      {"bad preprocess", [](json& c) { param(c, "image_preprocess", "keras"); }, "must be release or timm, got 'keras'"},
      {"crop_pct without timm", [](json& c) { param(c, "image_crop_pct", "0.9"); }, "applies to image_preprocess timm only"},
      {"crop_pct out of range",
       [](json& c) {
         param(c, "image_preprocess", "timm");
         param(c, "image_crop_pct", "1.5");
       },
       "'image_crop_pct' must be a number in (0, 1]"},
      {"max_pixels zero", [](json& c) { param(c, "image_max_pixels", "0"); }, "'image_max_pixels' must be a positive integer"},
      {"cpu_threads negative", [](json& c) { param(c, "cpu_threads", "-1"); },
       "parameter 'cpu_threads' must be an integer in 0..1024, got '-1'"},
      {"cpu_threads too many", [](json& c) { param(c, "cpu_threads", "1025"); }, "'cpu_threads' must be an integer in 0..1024"},
      {"cpu_threads not a number", [](json& c) { param(c, "cpu_threads", "all"); }, "in 0..1024, got 'all'"},
      {"cpu_threads empty", [](json& c) { param(c, "cpu_threads", "  "); }, "in 0..1024, got ''"},
      {"cpu_threads fraction", [](json& c) { param(c, "cpu_threads", "2.5"); }, "in 0..1024, got '2.5'"},
      {"cpu_winograd unknown", [](json& c) { param(c, "cpu_winograd", "on"); },
       "parameter 'cpu_winograd' must be auto, off or fast, got 'on'"},
  };
  for (const Case& k : cases) {
    DYNAMIC_SECTION(k.what) {
      json c = base_config();
      k.change(c);
      CHECK_THAT(refusal(c), Catch::Contains(k.message));
    }
  }
}

TEST_CASE("triton config: cpu_threads and cpu_winograd, every value", "[triton]") {
  const std::pair<const char*, int32_t> threads[] = {{"0", 0}, {"1", 1}, {"3", 3}, {"1024", 1024}};
  for (const auto& [text, want] : threads) {
    json c = base_config();
    param(c, "cpu_threads", text);
    CHECK(parse_model_settings(c.dump(), "/repo/m/1").cpu_threads == want);
  }
  const std::pair<const char*, int32_t> modes[] = {
      {"auto", RESNETRS_CPU_WINOGRAD_AUTO}, {"off", RESNETRS_CPU_WINOGRAD_OFF}, {"fast", RESNETRS_CPU_WINOGRAD_FAST}};
  for (const auto& [text, want] : modes) {
    json c = base_config();
    param(c, "cpu_winograd", text);
    CHECK(parse_model_settings(c.dump(), "/repo/m/1").cpu_winograd == want);
  }
}

TEST_CASE("triton config: JSON the server could never send is an internal error", "[triton]") {
  try {
    parse_model_settings("{not json", "/repo/m/1");
    FAIL("accepted");
  } catch (const BackendError& e) {
    CHECK(e.code() == TRITONSERVER_ERROR_INTERNAL);
    CHECK_THAT(e.message(), Catch::Contains("not JSON"));
  }
}
