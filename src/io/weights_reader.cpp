// Reader of `resnetrs-weights` v1 files: validates every attribute and dataset and names the
// file, the path, what was expected and what was found in each refusal.
#include <cmath>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "io/hdf5_handle.h"
#include "io/weights_file.h"
#include "io/weights_schema.h"

namespace resnetrs {
namespace {

class Reader {
 public:
  explicit Reader(std::string path) : m_path(std::move(path)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw_error(Status::kWeightsInvalid, "weights file '" + m_path + "': " + where + ": " + what);
  }

  void open() {
    {
      std::ifstream probe(m_path, std::ios::binary);
      if (!probe) throw_error(Status::kIoError, "cannot open weights file '" + m_path + "': no such file or not readable");
    }
    if (H5Fis_hdf5(m_path.c_str()) <= 0) {
      fail("file", "not an HDF5 file (expected a resnetrs-weights v1 file, e.g. written by scripts/convert_ckpt)");
    }
    m_file = H5Id(H5Fopen(m_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!m_file.valid()) throw_error(Status::kIoError, "weights file '" + m_path + "': HDF5 could not open it");
  }

  H5Id open_attr(const char* name) const {
    if (H5Aexists(m_file.get(), name) <= 0) fail(std::string("attribute '") + name + "'", "missing");
    return H5Id(H5Aopen(m_file.get(), name, H5P_DEFAULT), H5Aclose);
  }

  std::string read_string_attr(const char* name) const {
    H5Id attr = open_attr(name);
    H5Id type(H5Aget_type(attr.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) fail(std::string("attribute '") + name + "'", "expected a string, found another type");
    H5Id space(H5Aget_space(attr.get()), H5Sclose);
    if (H5Sget_simple_extent_npoints(space.get()) != 1) fail(std::string("attribute '") + name + "'", "expected a scalar string");
    if (H5Tis_variable_str(type.get()) > 0) {
      H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(mem.get(), H5T_VARIABLE);
      H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
      char* value = nullptr;
      if (H5Aread(attr.get(), mem.get(), &value) < 0) fail(std::string("attribute '") + name + "'", "unreadable");
      std::string s = value ? value : "";
      H5free_memory(value);
      return s;
    }
    const size_t n = H5Tget_size(type.get());
    std::vector<char> buf(n + 1, '\0');
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), n + 1);
    if (H5Aread(attr.get(), mem.get(), buf.data()) < 0) fail(std::string("attribute '") + name + "'", "unreadable");
    return std::string(buf.data());
  }

  template <typename T>
  std::vector<T> read_numeric_attr(const char* name, hid_t mem_type, H5T_class_t want_class, size_t want_count) const {
    H5Id attr = open_attr(name);
    H5Id type(H5Aget_type(attr.get()), H5Tclose);
    const std::string where = std::string("attribute '") + name + "'";
    if (H5Tget_class(type.get()) != want_class) {
      fail(where, want_class == H5T_INTEGER ? "expected an integer type" : "expected a floating-point type");
    }
    H5Id space(H5Aget_space(attr.get()), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n != static_cast<hssize_t>(want_count)) {
      fail(where, "expected " + std::to_string(want_count) + " value(s), found " + std::to_string(n));
    }
    std::vector<T> v(want_count);
    if (H5Aread(attr.get(), mem_type, v.data()) < 0) fail(where, "unreadable");
    return v;
  }

  int read_int(const char* name) const { return read_numeric_attr<int>(name, H5T_NATIVE_INT, H5T_INTEGER, 1)[0]; }

  bool has_attr(const char* name) const { return H5Aexists(m_file.get(), name) > 0; }

  // A string attribute that must be one of `allowed`; returns its index there.
  size_t read_choice(const char* name, const std::vector<std::string>& allowed) const {
    const std::string value = read_string_attr(name);
    for (size_t i = 0; i < allowed.size(); ++i) {
      if (value == allowed[i]) return i;
    }
    std::string list;
    for (size_t i = 0; i < allowed.size(); ++i) list += std::string(i ? ", '" : "'") + allowed[i] + "'";
    fail(std::string("attribute '") + name + "'", "expected one of " + list + ", found '" + value + "'");
  }

  bool link_exists(const std::string& path) const {
    // H5Lexists needs every intermediate group to exist, so walk the path one component at a time.
    size_t pos = 1;
    while (true) {
      const size_t next = path.find('/', pos);
      const std::string prefix = path.substr(0, next);
      if (H5Lexists(m_file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
      if (next == std::string::npos) return true;
      pos = next + 1;
    }
  }

  void read_dataset(const TensorSlot& slot) const {
    const std::string where = "dataset '" + slot.path + "'";
    if (!link_exists(slot.path)) fail(where, "missing (expected shape " + shape_to_string(slot.shape) + ")");
    H5Id ds(H5Dopen2(m_file.get(), slot.path.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) fail(where, "exists but is not a dataset");
    H5Id type(H5Dget_type(ds.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_FLOAT || H5Tget_size(type.get()) != 4) {
      fail(where, "expected dtype float32, found " + describe_type(type.get()));
    }
    H5Id space(H5Dget_space(ds.get()), H5Sclose);
    const int ndims = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(ndims > 0 ? ndims : 0);
    if (ndims > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    std::vector<int64_t> found(dims.begin(), dims.end());
    if (found != slot.shape) {
      fail(where, "expected shape " + shape_to_string(slot.shape) + ", found " + shape_to_string(found));
    }
    slot.data->assign(static_cast<size_t>(slot.count()), 0.0f);
    if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, slot.data->data()) < 0) {
      fail(where, "could not be read (corrupt file or unsupported filter)");
    }
  }

  static std::string describe_type(hid_t t) {
    const H5T_class_t c = H5Tget_class(t);
    const size_t bits = H5Tget_size(t) * 8;
    switch (c) {
      case H5T_FLOAT: return "float" + std::to_string(bits);
      case H5T_INTEGER: return (H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
      case H5T_STRING: return "string";
      default: return "HDF5 type class " + std::to_string(int(c));
    }
  }

  std::vector<std::string> all_datasets() const {
    std::vector<std::string> names;
    auto visit = [](hid_t, const char* name, const H5O_info_t* info, void* op) -> herr_t {
      if (info->type == H5O_TYPE_DATASET) static_cast<std::vector<std::string>*>(op)->push_back(std::string("/") + name);
      return 0;
    };
#if H5_VERSION_GE(1, 12, 0)
    H5Ovisit3(m_file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, visit, &names, H5O_INFO_BASIC);
#else
    H5Ovisit(m_file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, visit, &names);
#endif
    return names;
  }

  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
  H5Id m_file;
};

// The network variant (format minor 1, docs/weights-format.md): required from minor 1 on; a
// minor-0 file is the TF1 release's network (relu, symmetric, no stage-1 pool).
void read_variant(const Reader& r, int minor, ModelVariant& v) {
  v = ModelVariant{};
  if (minor < 1) return;
  v.activation = r.read_choice("activation", {"relu", "swish"}) == 0 ? Activation::kRelu : Activation::kSwish;
  v.stride2_padding = r.read_choice("stride2_padding", {"symmetric", "same"}) == 0 ? Stride2Padding::kSymmetric : Stride2Padding::kSame;
  v.stage1_shortcut_pool = r.read_choice("stage1_shortcut_pool", {"none", "avg2x2_stride1_same"}) == 1;
}

}  // namespace

RawWeights load_weights(const std::string& path) {
  H5QuietErrors quiet;
  Reader r(path);
  r.open();

  const std::string format = r.read_string_attr("format");
  if (format != kWeightsFormatName) {
    r.fail("attribute 'format'", std::string("expected '") + kWeightsFormatName + "', found '" + format + "'");
  }
  const int version = r.read_int("format_version");
  if (version != kWeightsFormatVersion) {
    r.fail("attribute 'format_version'", "expected " + std::to_string(kWeightsFormatVersion) + ", found " + std::to_string(version));
  }

  RawWeights w;
  WeightsAttributes& a = w.attrs;
  a.format_version = version;
  a.depth = r.read_int("depth");
  bool known_depth = false;
  for (int d : supported_depths()) known_depth |= (d == a.depth);
  if (!known_depth) {
    r.fail("attribute 'depth'", "expected one of 50, 101, 152, 200, 270, 350, 420, found " + std::to_string(a.depth));
  }
  a.num_classes = r.read_int("num_classes");
  if (a.num_classes <= 0) r.fail("attribute 'num_classes'", "expected a positive count, found " + std::to_string(a.num_classes));
  w.config = config_for_depth(a.depth, a.num_classes);

  const auto bps = r.read_numeric_attr<int>("blocks_per_stage", H5T_NATIVE_INT, H5T_INTEGER, 4);
  for (int i = 0; i < 4; ++i) {
    if (bps[i] != w.config.blocks[i]) {
      auto fmt = [](const int* v) {
        return "[" + std::to_string(v[0]) + "," + std::to_string(v[1]) + "," + std::to_string(v[2]) + "," + std::to_string(v[3]) + "]";
      };
      r.fail("attribute 'blocks_per_stage'", "expected " + fmt(w.config.blocks.data()) + " for depth " + std::to_string(a.depth) +
                                                  ", found " + fmt(bps.data()));
    }
  }
  a.bn_epsilon = r.read_numeric_attr<double>("bn_epsilon", H5T_NATIVE_DOUBLE, H5T_FLOAT, 1)[0];
  if (!(a.bn_epsilon > 0.0) || !std::isfinite(a.bn_epsilon)) {
    r.fail("attribute 'bn_epsilon'", "expected a positive finite value, found " + std::to_string(a.bn_epsilon));
  }
  const auto mean = r.read_numeric_attr<float>("input_mean", H5T_NATIVE_FLOAT, H5T_FLOAT, 3);
  const auto stdv = r.read_numeric_attr<float>("input_std", H5T_NATIVE_FLOAT, H5T_FLOAT, 3);
  for (int i = 0; i < 3; ++i) {
    if (!std::isfinite(mean[i])) r.fail("attribute 'input_mean'", "expected finite values, found a NaN or infinity");
    if (!(stdv[i] > 0.0f) || !std::isfinite(stdv[i])) r.fail("attribute 'input_std'", "expected positive finite values, found " + std::to_string(stdv[i]));
    a.input_mean[i] = mean[i];
    a.input_std[i] = stdv[i];
  }
  a.train_resolution = r.read_int("train_resolution");
  a.source = r.read_string_attr("source");
  a.converter_version = r.read_string_attr("converter_version");
  a.format_minor = r.has_attr("format_minor") ? r.read_int("format_minor") : 0;
  if (a.format_minor < 0) r.fail("attribute 'format_minor'", "expected 0 or more, found " + std::to_string(a.format_minor));
  read_variant(r, a.format_minor, w.config.variant);

  std::vector<TensorSlot> slots = weight_slots(w);
  std::set<std::string> expected;
  for (const TensorSlot& s : slots) {
    r.read_dataset(s);
    expected.insert(s.path);
  }
  validate_weights(w, "weights file '" + path + "'");
  for (const std::string& name : r.all_datasets()) {
    if (!expected.count(name)) warn("weights file '" + path + "': unexpected dataset '" + name + "' ignored");
  }
  return w;
}

void validate_weights(const RawWeights& weights, const std::string& origin) {
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
      if (s.role == TensorRole::kBnVariance && v < 0.0f) {
        throw_error(Status::kWeightsInvalid, where + ": expected moving_variance >= 0, found " + std::to_string(v) +
                                                 " at index " + std::to_string(i));
      }
    }
  }
}

}  // namespace resnetrs
