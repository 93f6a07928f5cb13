// resnetrs._core.weights_info(): what a weights file says about itself, through the C API
// (resnetrs_weights_read_info: libhdf5 parses the file in the library's helper process, never in
// this one), for callers that need it before building an engine (`resnetrs classify`).
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bindings.h"

namespace resnetrs_py {
namespace {

// Python's view of resnetrs_weights_info_t.
struct WeightsInfo {
  int format_version = 0, format_minor = 0, depth = 0, num_classes = 0, train_resolution = 0;
  std::vector<int> blocks_per_stage;
  double bn_epsilon = 0;
  std::vector<float> input_mean, input_std;
  std::string activation, stride2_padding, stage1_shortcut_pool, source, converter_version, checksum;
};

WeightsInfo read_info(const std::filesystem::path& path) {
  const std::string p = path.string();
  resnetrs_weights_info_t c{};
  c.struct_size = sizeof(c);
  resnetrs_status_t status = RESNETRS_STATUS_OK;
  std::string message;
  WeightsInfo i;
  {
    nb::gil_scoped_release no_gil;  // starts the helper process and waits for it
    status = resnetrs_weights_read_info(p.c_str(), &c);
    if (status != RESNETRS_STATUS_OK) {
      message = resnetrs_last_error();
    } else {  // the borrowed strings, copied before any other call on this thread
      i.source = c.source;
      i.converter_version = c.converter_version;
      i.checksum = c.checksum;
    }
  }
  if (status != RESNETRS_STATUS_OK) raise_status(status, message);
  i.format_version = c.format_version;
  i.format_minor = c.format_minor;
  i.depth = c.depth;
  i.num_classes = c.num_classes;
  i.train_resolution = c.train_resolution;
  i.blocks_per_stage.assign(c.blocks_per_stage, c.blocks_per_stage + 4);
  i.bn_epsilon = c.bn_epsilon;
  i.input_mean.assign(c.input_mean, c.input_mean + 3);
  i.input_std.assign(c.input_std, c.input_std + 3);
  i.activation = c.activation;
  i.stride2_padding = c.stride2_padding;
  i.stage1_shortcut_pool = c.stage1_shortcut_pool;
  return i;
}

}  // namespace

void bind_weights(nb::module_& m) {
  nb::class_<WeightsInfo>(m, "WeightsInfo", "What a weights file says about itself (weights_info()).")
      .def_ro("format_version", &WeightsInfo::format_version, "1")
      .def_ro("format_minor", &WeightsInfo::format_minor, "0 (v1.0), 1 (v1.1), 2 (v1.2: the checksum covers the root attributes)")
      .def_ro("depth", &WeightsInfo::depth, "50 ... 420")
      .def_ro("blocks_per_stage", &WeightsInfo::blocks_per_stage, "e.g. [3, 4, 6, 3]")
      .def_ro("num_classes", &WeightsInfo::num_classes, "logits per image")
      .def_ro("train_resolution", &WeightsInfo::train_resolution, "the resolution it was trained at, 0 if unknown")
      .def_ro("bn_epsilon", &WeightsInfo::bn_epsilon)
      .def_ro("input_mean", &WeightsInfo::input_mean, "RGB mean, 0..255 scale")
      .def_ro("input_std", &WeightsInfo::input_std, "RGB std, 0..255 scale")
      .def_ro("activation", &WeightsInfo::activation, "'relu' or 'swish'")
      .def_ro("stride2_padding", &WeightsInfo::stride2_padding, "'symmetric' or 'same'")
      .def_ro("stage1_shortcut_pool", &WeightsInfo::stage1_shortcut_pool, "'none' or 'avg2x2_stride1_same'")
      .def_ro("source", &WeightsInfo::source)
      .def_ro("converter_version", &WeightsInfo::converter_version)
      .def_ro("checksum", &WeightsInfo::checksum, "'crc32:...', '' in a v1.0 file")
      .def("__repr__", [](const WeightsInfo& i) {
        return "WeightsInfo(depth=" + std::to_string(i.depth) + ", num_classes=" + std::to_string(i.num_classes) +
               ", train_resolution=" + std::to_string(i.train_resolution) + ", format=1." + std::to_string(i.format_minor) +
               ", activation='" + i.activation + "')";
      });
  m.def("weights_info", &read_info, nb::arg("path"),
        "What the weights file at `path` says about itself (depth, classes, train_resolution, ...), read by the\n"
        "library without building an engine (resnetrs_weights_read_info: the structure is parsed in the library's\n"
        "helper process, the values are not read; the checksum is verified when an Engine loads the file).\n"
        "Raises IoError or WeightsInvalidError like Engine.");
}

}  // namespace resnetrs_py
