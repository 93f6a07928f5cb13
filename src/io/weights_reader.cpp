// Reader of `resnetrs-weights` v1 files (minor 0, 1 and 2): checks every attribute and dataset and
// names the file, the path, what was expected and what was found in each refusal. Two sides:
// libhdf5 parses the structure (which datasets, where their bytes are) in the helper program
// resnetrs-parse-weights (common/isolated_call.h), touching only what src/io/h5_file_reader.cpp allows; this process then
// reads the values itself with bounds-checked reads (io/weights_data_file.h), verifies the
// checksum and validates the values.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/isolated_call.h"
#include "common/log.h"
#include "common/utf8_text.h"
#include "io/h5_file_reader.h"
#include "io/weights_checksum.h"
#include "io/weights_data_file.h"
#include "io/weights_file.h"
#include "io/weights_manifest.h"
#include "io/weights_parser_path.h"
#include "io/weights_limits.h"
#include "io/weights_schema.h"

namespace resnetrs {
namespace {

std::string fmt_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// RESNETRS_WEIGHTS_PARSE_TIMEOUT_S, else 60 s: a structure parse takes milliseconds; the bound is
// for a libhdf5 loop on a hostile file, generous for slow file systems and valgrind.
double parse_timeout_s() {
  const char* env = std::getenv("RESNETRS_WEIGHTS_PARSE_TIMEOUT_S");
  if (env && *env) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end && *end == '\0' && v > 0 && v <= 86400) return v;
    warn(std::string("RESNETRS_WEIGHTS_PARSE_TIMEOUT_S='") + env + "' is not a number of seconds in (0, 86400]: using 60");
  }
  return 60.0;
}

std::string fmt_blocks(const int* v) {
  return "[" + std::to_string(v[0]) + "," + std::to_string(v[1]) + "," + std::to_string(v[2]) + "," + std::to_string(v[3]) + "]";
}

// A v1.1 string attribute that must be one of `allowed`; returns its index there.
size_t read_choice(const H5FileReader& r, const char* name, const std::vector<std::string>& allowed) {
  const std::string value = *r.read_string(name, false);
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (value == allowed[i]) return i;
  }
  std::string list;
  for (size_t i = 0; i < allowed.size(); ++i) list += std::string(i ? ", '" : "'") + allowed[i] + "'";
  r.fail(std::string("attribute '") + name + "'", "expected one of " + list + ", found '" + quoted_file_text(value) + "'");
}

// The network variant (format minor 1, docs/weights-format.md): required from minor 1 on; a
// minor-0 file is the TF1 release's network (relu, symmetric, no stage-1 pool).
void read_variant(const H5FileReader& r, int minor, ModelVariant& v) {
  v = ModelVariant{};
  if (minor < 1) return;
  v.activation = read_choice(r, "activation", {"relu", "swish"}) == 0 ? Activation::kRelu : Activation::kSwish;
  v.stride2_padding = read_choice(r, "stride2_padding", {"symmetric", "same"}) == 0 ? Stride2Padding::kSymmetric : Stride2Padding::kSame;
  v.stage1_shortcut_pool = read_choice(r, "stage1_shortcut_pool", {"none", "avg2x2_stride1_same"}) == 1;
}

// Root attributes into `w` (config included); the datasets are read afterwards.
void read_attributes(const H5FileReader& r, RawWeights& w) {
  WeightsAttributes& a = w.attrs;
  // The version comes first, as integers: it decides how strings are read.
  a.format_version = r.read_int("format_version");
  if (a.format_version != kWeightsFormatVersion) {
    r.fail("attribute 'format_version'", "expected " + std::to_string(kWeightsFormatVersion) + ", found " + std::to_string(a.format_version));
  }
  a.format_minor = r.has_attr("format_minor") ? r.read_int("format_minor") : 0;
  if (a.format_minor < 0) r.fail("attribute 'format_minor'", "expected 0 or more, found " + std::to_string(a.format_minor));
  // v1.0 files hold variable-length strings, which are recognised but not read (h5_file_reader.h).
  const bool legacy = a.format_minor == 0;
  const auto format = r.read_string("format", legacy);
  if (format && *format != kWeightsFormatName) {
    r.fail("attribute 'format'", std::string("expected '") + kWeightsFormatName + "', found '" + quoted_file_text(*format) + "'");
  }

  a.depth = r.read_int("depth");
  bool known_depth = false;
  for (int d : supported_depths()) known_depth |= (d == a.depth);
  if (!known_depth) r.fail("attribute 'depth'", "expected one of 50, 101, 152, 200, 270, 350, 420, found " + std::to_string(a.depth));
  a.num_classes = r.read_int("num_classes");
  if (a.num_classes <= 0 || a.num_classes > limits::kMaxNumClasses) {
    r.fail("attribute 'num_classes'", "expected 1.." + std::to_string(limits::kMaxNumClasses) + ", found " + std::to_string(a.num_classes));
  }
  w.config = config_for_depth(a.depth, a.num_classes);
  const std::vector<int> bps = r.read_ints("blocks_per_stage", 4);
  for (int i = 0; i < 4; ++i) {
    if (bps[i] != w.config.blocks[i]) {
      r.fail("attribute 'blocks_per_stage'", "expected " + fmt_blocks(w.config.blocks.data()) + " for depth " + std::to_string(a.depth) +
                                                 ", found " + fmt_blocks(bps.data()));
    }
  }
  a.bn_epsilon = r.read_double("bn_epsilon");
  const std::vector<float> mean = r.read_floats("input_mean", 3);
  const std::vector<float> stdv = r.read_floats("input_std", 3);
  for (int i = 0; i < 3; ++i) {
    a.input_mean[i] = mean[i];
    a.input_std[i] = stdv[i];
  }
  a.train_resolution = r.read_int("train_resolution");
  const std::string unknown = "unknown (a format v1.0 variable-length string, not read)";
  a.source = r.read_string("source", legacy).value_or(unknown);
  a.converter_version = r.read_string("converter_version", legacy).value_or(unknown);
  if (!legacy) {
    a.checksum = *r.read_string("checksum", false);
    if (!WeightsChecksum::well_formed(a.checksum)) {
      r.fail("attribute 'checksum'", std::string("expected '") + WeightsChecksum::kPrefix + "' and 8 lowercase hex digits, found '" +
                                         quoted_file_text(a.checksum) + "'");
    }
  } else if (r.has_attr("checksum")) {
    // v1.0 writers never wrote one: a file that has it lost (or had damaged) its format_minor,
    // and read as v1.0 it would lose its checksum and its network variant.
    r.fail("attribute 'format_minor'", "missing (a v1.0 file), but the file has a 'checksum', which v1.0 files never have: "
                                       "'format_minor' was removed or damaged");
  }
  read_variant(r, a.format_minor, w.config.variant);
}

WeightsManifest read_manifest_isolated(const std::string& path) {
  std::string looked_in;
  const std::optional<std::string> parser = find_weights_parser(looked_in);
  const std::string file = "weights file '" + path + "': ";
  const std::string nothing = "; nothing was loaded (HDF5 parses a weights file in a separate process: docs/weights-format.md)";
  if (parser) {
    IsolationLimits limits;
    limits.timeout_s = parse_timeout_s();
    const IsolatedOutcome o = run_isolated(*parser, {path}, limits);
    const std::string hostile = "damaged or hostile file: libhdf5 ";
    switch (o.kind) {
      case IsolatedOutcome::Kind::kResult:
        try {
          return decode_manifest(o.payload);
        } catch (const Error& e) {
          throw_error(Status::kWeightsInvalid, file + "damaged or hostile file: the parse of its structure returned a " + e.what() + nothing);
        }
      case IsolatedOutcome::Kind::kError: throw_error(o.status, o.message);
      case IsolatedOutcome::Kind::kCrashed:
        throw_error(Status::kWeightsInvalid, file + hostile + "crashed (" + signal_description(o.signal) + ") while parsing its structure" + nothing);
      case IsolatedOutcome::Kind::kTimedOut:
        throw_error(Status::kWeightsInvalid, file + hostile + "did not finish parsing its structure within " + fmt_value(limits.timeout_s) +
                                                 " s (RESNETRS_WEIGHTS_PARSE_TIMEOUT_S)" + nothing);
      case IsolatedOutcome::Kind::kOutOfMemory:
        throw_error(Status::kWeightsInvalid, file + "damaged or hostile file: parsing its structure needed more than " +
                                                 std::to_string(kIsolatedMemoryCap >> 20) + " MiB" + nothing);
      case IsolatedOutcome::Kind::kNoResult:
        throw_error(Status::kWeightsInvalid, file + hostile + "parse ended without a result (" + o.message + ")" + nothing);
      case IsolatedOutcome::Kind::kNotIsolated:
        // Found but not startable (not executable for us, replaced while a build writes it, no
        // processes left): a broken installation, refused rather than parsed where it could crash.
        throw_error(Status::kIoError, file + "cannot start the helper that parses weights files (" + o.message + ")" + nothing);
    }
  }
  warn(file + std::string(kWeightsParserName) + " not found (looked in: " + looked_in +
       "): parsing it in this process, which a hostile file could crash (docs/weights-format.md)");
  const std::lock_guard<std::mutex> hdf5(hdf5_lock());
  return read_manifest(path);
}

// The tensors' values from where the manifest says they are, checked against the schema.
void read_tensors(const WeightsDataFile& file, WeightsManifest& m, RawWeights& w, WeightsChecksum& checksum) {
  std::vector<TensorSlot> slots = weight_slots(w);
  if (m.tensors.size() != slots.size()) {
    throw_error(Status::kWeightsInvalid, "weights file '" + file.path() + "': the parse of its structure located " +
                                             std::to_string(m.tensors.size()) + " datasets, the schema has " + std::to_string(slots.size()));
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    TensorSlot& s = slots[i];
    StoredTensor& t = m.tensors[i];
    const std::string where = "dataset '" + s.path + "'";
    const uint64_t bytes = uint64_t(s.count()) * sizeof(float);
    if (t.path != s.path || (t.in_file ? t.bytes : t.values.size() * sizeof(float)) != bytes) {
      throw_error(Status::kWeightsInvalid, "weights file '" + file.path() + "': " + where + ": the parse of its structure gave '" + t.path +
                                               "' of another size");
    }
    if (t.in_file) {
      s.data->assign(size_t(s.count()), 0.0f);
      file.read(where, t.offset, bytes, s.data->data());
    } else {
      *s.data = std::move(t.values);
    }
    checksum.update(s.data->data(), bytes);
  }
}

}  // namespace

WeightsManifest read_manifest(const std::string& path) {
  H5ErrorScope errors;  // outlives the reader: closing its identifiers may push errors too
  const H5FileReader r(path);
  RawWeights w;
  read_attributes(r, w);
  WeightsManifest m;
  m.attrs = w.attrs;
  m.variant = w.config.variant;
  std::set<std::string> expected;
  for (const TensorSlot& s : weight_slots(w)) {
    m.tensors.push_back(r.locate_float32_dataset(s.path, s.shape));
    expected.insert(s.path);
  }
  for (const std::string& name : r.all_datasets()) {
    if (!expected.count(name)) m.other_datasets.push_back(name);
  }
  return m;
}

namespace {

WeightsManifest parse_structure(const std::string& path, MetadataParsing parsing) {
  if (parsing == MetadataParsing::kIsolated) return read_manifest_isolated(path);
  const std::lock_guard<std::mutex> hdf5(hdf5_lock());
  return read_manifest(path);
}

// The manifest's attributes, checked, and the network they describe.
WeightsInfo checked_info(const WeightsManifest& m, const std::string& origin) {
  WeightsInfo info;
  info.attrs = m.attrs;
  if (m.attrs.num_classes <= 0 || m.attrs.num_classes > limits::kMaxNumClasses) {  // checked there too; this sizes our buffers
    throw_error(Status::kWeightsInvalid, origin + ": attribute 'num_classes': out of range");
  }
  try {
    info.config = config_for_depth(m.attrs.depth, m.attrs.num_classes);
  } catch (const Error& e) {
    throw_error(Status::kWeightsInvalid, origin + ": " + e.what());
  }
  info.config.variant = m.variant;
  validate_attributes(info.attrs, origin);  // before any value is read: cheap, and names the attribute
  return info;
}

}  // namespace

WeightsInfo read_weights_info(const std::string& path, MetadataParsing parsing) {
  const WeightsDataFile file(path);  // as load_weights: a missing file or a directory is IO_ERROR here
  return checked_info(parse_structure(path, parsing), "weights file '" + path + "'");
}

RawWeights load_weights(const std::string& path, MetadataParsing parsing) {
  const WeightsDataFile file(path);  // opened first: a missing file or a directory is IO_ERROR here
  WeightsManifest m = parse_structure(path, parsing);
  const std::string origin = "weights file '" + path + "'";

  RawWeights w;
  WeightsInfo info = checked_info(m, origin);
  w.attrs = info.attrs;
  w.config = info.config;
  const int minor = w.attrs.format_minor;
  const bool covers_attributes = minor >= kChecksumCoversAttributesMinor;
  WeightsChecksum checksum;
  if (covers_attributes) checksum.update(canonical_attributes(w.attrs, w.config));
  read_tensors(file, m, w, checksum);
  if (minor >= 1 && checksum.text() != w.attrs.checksum) {
    throw_error(Status::kWeightsInvalid, origin + ": attribute 'checksum': the " +
                                             (covers_attributes ? "root attributes' and the datasets' " : "datasets' ") + "bytes give " +
                                             checksum.text() + ", the file says " + w.attrs.checksum +
                                             ": the file is damaged (a partial copy or flipped bits); convert it again");
  }
  validate_weights(w, origin);
  for (const std::string& name : m.other_datasets) warn(origin + ": unexpected dataset '" + quoted_file_text(name) + "' ignored");
  if (minor == 0) {
    warn(origin + ": format v1.0 (no checksum): damage to its data and to its root attributes (" + kChecksummedAttributes +
         ") cannot be detected; convert it again with scripts/convert_ckpt to get v1.2");
  } else if (!covers_attributes) {
    warn(origin + ": format v1." + std::to_string(minor) + ": its checksum covers the datasets only: damage to the root attributes (" +
         kChecksummedAttributes + ") cannot be detected; convert it again with scripts/convert_ckpt to get v1.2");
  }
  return w;
}

void validate_attributes(const WeightsAttributes& a, const std::string& origin) {
  auto fail_attr = [&](const char* name, const std::string& what) {
    throw_error(Status::kWeightsInvalid, origin + ": attribute '" + name + "': " + what);
  };
  if (!(a.bn_epsilon >= limits::kMinBnEpsilon && a.bn_epsilon <= limits::kMaxBnEpsilon)) {
    fail_attr("bn_epsilon", "expected " + fmt_value(limits::kMinBnEpsilon) + " .. " + fmt_value(limits::kMaxBnEpsilon) + ", found " + fmt_value(a.bn_epsilon));
  }
  for (int i = 0; i < 3; ++i) {
    if (!(std::fabs(a.input_mean[i]) <= limits::kMaxAbsInputMean)) {
      fail_attr("input_mean", "expected finite values within +-" + fmt_value(limits::kMaxAbsInputMean) + ", found " + fmt_value(a.input_mean[i]));
    }
    if (!(a.input_std[i] >= limits::kMinInputStd && a.input_std[i] <= limits::kMaxInputStd)) {
      fail_attr("input_std", "expected " + fmt_value(limits::kMinInputStd) + " .. " + fmt_value(limits::kMaxInputStd) + ", found " + fmt_value(a.input_std[i]));
    }
  }
  if (a.train_resolution < 0 || a.train_resolution > limits::kMaxTrainResolution) {
    fail_attr("train_resolution", "expected 0 (unknown) .. " + std::to_string(limits::kMaxTrainResolution) + ", found " + std::to_string(a.train_resolution));
  }
}

void validate_weights(const RawWeights& weights, const std::string& origin) {
  validate_attributes(weights.attrs, origin);
  for (const ConstTensorSlot& s : weight_slots(weights, origin)) {
    const std::string where = origin + ": dataset '" + s.path + "'";
    if (int64_t(s.data->size()) != s.count()) {
      throw_error(Status::kWeightsInvalid, where + ": expected " + std::to_string(s.count()) + " values (shape " +
                                               shape_to_string(s.shape) + "), found " + std::to_string(s.data->size()));
    }
    for (size_t i = 0; i < s.data->size(); ++i) {
      const float v = (*s.data)[i];
      if (!std::isfinite(v)) {
        throw_error(Status::kWeightsInvalid, where + ": expected finite values, found " + std::string(std::isnan(v) ? "NaN" : "infinity") +
                                                 " at flat index " + std::to_string(i));
      }
      if (std::fabs(v) > limits::kMaxAbsValue) {
        throw_error(Status::kWeightsInvalid, where + ": expected values within +-" + fmt_value(limits::kMaxAbsValue) + ", found " +
                                                 fmt_value(v) + " at flat index " + std::to_string(i));
      }
      if (s.role == TensorRole::kBnVariance && v < 0.0f) {
        throw_error(Status::kWeightsInvalid, where + ": expected moving_variance >= 0, found " + std::to_string(v) +
                                                 " at index " + std::to_string(i));
      }
    }
  }
}

}  // namespace resnetrs
