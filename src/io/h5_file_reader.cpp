#include "io/h5_file_reader.h"

#include "common/error.h"
#include "io/weights_data_file.h"

namespace resnetrs {
namespace {

constexpr size_t kMaxStringBytes = 4096;  // longer attribute strings are damage, not metadata

std::string describe_type(hid_t t) {
  const H5T_class_t c = H5Tget_class(t);
  const size_t bits = H5Tget_size(t) * 8;
  switch (c) {
    case H5T_FLOAT:
      if (bits == 32) return H5Tget_order(t) == H5T_ORDER_BE ? "float32 big-endian" : "float32 of a non-IEEE layout";
      return "float" + std::to_string(bits);
    case H5T_INTEGER: return (H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_STRING: return "string";
    default: return "HDF5 type class " + std::to_string(int(c));
  }
}

std::string layout_name(H5D_layout_t l) {
  switch (l) {
    case H5D_COMPACT: return "compact";
    case H5D_CONTIGUOUS: return "contiguous";
    case H5D_CHUNKED: return "chunked";
    case H5D_VIRTUAL: return "virtual (data taken from other datasets or files)";
    default: return "unknown layout " + std::to_string(int(l));
  }
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

H5FileReader::H5FileReader(std::string path) : m_path(std::move(path)) {
  require_regular_file(m_path);
  if (H5Fis_hdf5(m_path.c_str()) <= 0) {
    fail("file", "not an HDF5 file (expected a resnetrs-weights v1 file, e.g. written by scripts/convert_ckpt)");
  }
  m_file = H5Id(H5Fopen(m_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!m_file.valid()) {
    // It has the HDF5 signature, so HDF5's refusal is about its content: most often a file cut
    // short (an interrupted copy or download), which HDF5 detects against the stored size.
    const std::string reason = H5ErrorScope::innermost_message();
    fail("file", "truncated or damaged: HDF5 cannot open it" + (reason.empty() ? std::string() : " (" + reason + ")"));
  }
}

void H5FileReader::fail(const std::string& where, const std::string& what) const {
  throw_error(Status::kWeightsInvalid, "weights file '" + m_path + "': " + where + ": " + what);
}

bool H5FileReader::has_attr(const char* name) const { return H5Aexists(m_file.get(), name) > 0; }

H5Id H5FileReader::open_attr(const char* name) const {
  const std::string where = std::string("attribute '") + name + "'";
  const htri_t exists = H5Aexists(m_file.get(), name);
  if (exists < 0) fail(where, "unreadable (damaged file)");
  if (exists == 0) fail(where, "missing");
  H5Id attr(H5Aopen(m_file.get(), name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) fail(where, "unreadable (damaged file)");
  return attr;
}

template <typename T>
std::vector<T> H5FileReader::read_numeric(const char* name, hid_t mem_type, bool want_integer, size_t count) const {
  const std::string where = std::string("attribute '") + name + "'";
  H5Id attr = open_attr(name);
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (want_integer && cls != H5T_INTEGER) fail(where, "expected an integer type, found " + describe_type(type.get()));
  if (!want_integer && cls != H5T_FLOAT) fail(where, "expected a floating-point type, found " + describe_type(type.get()));
  if (H5Tget_size(type.get()) > 8) fail(where, "expected at most 64-bit values, found " + describe_type(type.get()));
  H5Id space(H5Aget_space(attr.get()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n != static_cast<hssize_t>(count)) {
    fail(where, "expected " + std::to_string(count) + " value(s), found " + std::to_string(n));
  }
  std::vector<T> v(count);
  if (H5Aread(attr.get(), mem_type, v.data()) < 0) fail(where, "unreadable (out of range for its type, or damaged)");
  return v;
}

int H5FileReader::read_int(const char* name) const { return read_numeric<int>(name, H5T_NATIVE_INT, true, 1)[0]; }
std::vector<int> H5FileReader::read_ints(const char* name, size_t count) const {
  return read_numeric<int>(name, H5T_NATIVE_INT, true, count);
}
std::vector<float> H5FileReader::read_floats(const char* name, size_t count) const {
  return read_numeric<float>(name, H5T_NATIVE_FLOAT, false, count);
}
double H5FileReader::read_double(const char* name) const { return read_numeric<double>(name, H5T_NATIVE_DOUBLE, false, 1)[0]; }

std::optional<std::string> H5FileReader::read_string(const char* name, bool allow_variable) const {
  const std::string where = std::string("attribute '") + name + "'";
  H5Id attr = open_attr(name);
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) fail(where, "expected a string, found " + describe_type(type.get()));
  H5Id space(H5Aget_space(attr.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) fail(where, "expected a single string");
  if (H5Tis_variable_str(type.get()) != 0) {
    if (!allow_variable) fail(where, "expected a fixed-length string (format v1.1), found a variable-length one");
    return std::nullopt;
  }
  const size_t n = H5Tget_size(type.get());
  if (n == 0 || n > kMaxStringBytes) fail(where, "expected at most " + std::to_string(kMaxStringBytes) + " bytes, found " + std::to_string(n));
  std::vector<char> buf(n + 1, '\0');
  H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
  if (H5Tset_size(mem.get(), n + 1) < 0 || H5Tset_strpad(mem.get(), H5T_STR_NULLTERM) < 0 ||
      H5Tset_cset(mem.get(), H5Tget_cset(type.get())) < 0 || H5Aread(attr.get(), mem.get(), buf.data()) < 0) {
    fail(where, "unreadable (damaged file)");
  }
  return std::string(buf.data());
}

void H5FileReader::require_hard_links(const std::string& path, const std::string& if_missing) const {
  // Walk the path one component at a time: H5Lexists needs every parent to exist, and a soft or
  // external link anywhere on the way could lead outside the file.
  size_t pos = 1;
  while (true) {
    const size_t next = path.find('/', pos);
    const std::string prefix = path.substr(0, next);
    const htri_t exists = H5Lexists(m_file.get(), prefix.c_str(), H5P_DEFAULT);
    if (exists <= 0) fail("dataset '" + path + "'", exists < 0 ? "unreadable (damaged file)" : if_missing);
    H5L_info_t info{};
    if (H5Lget_info(m_file.get(), prefix.c_str(), &info, H5P_DEFAULT) < 0) {
      fail("link '" + prefix + "'", "unreadable (damaged file)");
    }
    if (info.type != H5L_TYPE_HARD) {
      fail("link '" + prefix + "'", std::string("expected a hard link, found ") +
                                        (info.type == H5L_TYPE_EXTERNAL ? "an external link (to another file)" :
                                         info.type == H5L_TYPE_SOFT ? "a soft link" : "a user-defined link") +
                                        ": links are never followed");
    }
    if (next == std::string::npos) return;
    pos = next + 1;
  }
}

StoredTensor H5FileReader::locate_float32_dataset(const std::string& path, const std::vector<int64_t>& shape) const {
  const std::string where = "dataset '" + path + "'";
  require_hard_links(path, "missing (expected shape " + shape_text(shape) + ")");
  H5O_info_t oinfo{};
#if H5_VERSION_GE(1, 12, 0)
  const herr_t orc = H5Oget_info_by_name3(m_file.get(), path.c_str(), &oinfo, H5O_INFO_BASIC, H5P_DEFAULT);
#else
  const herr_t orc = H5Oget_info_by_name2(m_file.get(), path.c_str(), &oinfo, H5O_INFO_BASIC, H5P_DEFAULT);
#endif
  if (orc < 0) fail(where, "unreadable (damaged file)");
  if (oinfo.type != H5O_TYPE_DATASET) fail(where, "exists but is not a dataset");
  H5Id ds(H5Dopen2(m_file.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) fail(where, "unreadable (damaged file)");

  H5Id type(H5Dget_type(ds.get()), H5Tclose);
  if (!type.valid()) fail(where, "unreadable type (damaged file)");
  if (H5Tget_class(type.get()) != H5T_FLOAT || H5Tget_size(type.get()) != 4) {
    fail(where, "expected dtype float32, found " + describe_type(type.get()));
  }
  if (H5Tequal(type.get(), H5T_IEEE_F32LE) <= 0) {
    fail(where, "expected dtype float32 (IEEE, little-endian), found " + describe_type(type.get()));
  }

  H5Id space(H5Dget_space(ds.get()), H5Sclose);
  if (!space.valid() || H5Sget_simple_extent_type(space.get()) != H5S_SIMPLE) fail(where, "expected a simple dataspace");
  const int ndims = H5Sget_simple_extent_ndims(space.get());
  if (ndims < 0 || ndims > H5S_MAX_RANK) fail(where, "unreadable dataspace (damaged file)");
  std::vector<hsize_t> dims(static_cast<size_t>(ndims));
  if (ndims > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) fail(where, "unreadable dataspace");
  const std::vector<int64_t> found(dims.begin(), dims.end());
  if (found != shape) fail(where, "expected shape " + shape_text(shape) + ", found " + shape_text(found));
  size_t count = 1;
  for (int64_t d : shape) count *= static_cast<size_t>(d);
  const size_t bytes = count * sizeof(float);

  // Storage: contiguous or compact, no filter, no external file; never anything outside the file.
  H5Id dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
  if (!dcpl.valid()) fail(where, "unreadable storage properties (damaged file)");
  const int external = H5Pget_external_count(dcpl.get());
  if (external != 0) {
    char name[256] = "";
    off_t offset = 0;
    hsize_t size = 0;
    if (external > 0) H5Pget_external(dcpl.get(), 0, sizeof name, name, &offset, &size);
    fail(where, "stored in an external file ('" + std::string(name) + "'): only data inside the weights file is read");
  }
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT) {
    fail(where, "expected contiguous (or compact) storage, found " + layout_name(layout));
  }
  const int nfilters = H5Pget_nfilters(dcpl.get());
  if (nfilters != 0) {
    char fname[64] = "";
    unsigned flags = 0, cfg = 0;
    size_t nelmts = 0;
    if (nfilters > 0) H5Pget_filter2(dcpl.get(), 0, &flags, &nelmts, nullptr, sizeof fname, fname, &cfg);
    fail(where, "expected no filters (uncompressed data), found " + (nfilters > 0 ? "'" + std::string(fname) + "'" : std::string("a filter pipeline")));
  }
  const hsize_t stored = H5Dget_storage_size(ds.get());
  if (stored != bytes) {
    fail(where, "expected " + std::to_string(bytes) + " bytes of stored data for shape " + shape_text(shape) + ", found " +
                    std::to_string(stored) + (stored == 0 ? " (no data was written)" : " (damaged file)"));
  }
  StoredTensor t;
  t.path = path;
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t offset = H5Dget_offset(ds.get());
    if (offset == HADDR_UNDEF) fail(where, "no data stored");
    t.offset = offset;
    t.bytes = bytes;
  } else {
    t.in_file = false;
    t.values.assign(count, 0.0f);
    if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.values.data()) < 0) {
      fail(where, "could not be read (damaged file)");
    }
  }
  return t;
}

std::vector<std::string> H5FileReader::all_datasets() const {
  std::vector<std::string> names;
  auto visit = [](hid_t, const char* name, const H5O_info_t* info, void* op) -> herr_t {
    if (info->type == H5O_TYPE_DATASET) static_cast<std::vector<std::string>*>(op)->push_back(std::string("/") + name);
    return 0;
  };
#if H5_VERSION_GE(1, 12, 0)
  H5Ovisit3(m_file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, visit, &names, H5O_INFO_BASIC);
#else
  H5Ovisit2(m_file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, visit, &names, H5O_INFO_BASIC);
#endif
  return names;
}

}  // namespace resnetrs
