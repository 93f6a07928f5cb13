#include "io/h5_file_reader.h"

#include "common/error.h"
#include "common/utf8_text.h"
#include "io/weights_data_file.h"

namespace resnetrs {
namespace {

constexpr size_t kMaxStringBytes = 4096;  // longer attribute strings are damage, not metadata

// The datatypes the format allows, exactly (docs/weights-format.md, "Datatypes"). A damaged type
// message that libhdf5 still accepts (a float with another exponent position or bias, a
// big-endian or shortened integer) would make it convert the stored bytes into other values.
enum class Expected { kInt32, kFloat32, kFloat64 };

const char* expected_name(Expected e) {
  switch (e) {
    case Expected::kInt32: return "int32 (two's complement, little-endian)";
    case Expected::kFloat32: return "float32 (IEEE binary32, little-endian)";
    case Expected::kFloat64: return "float64 (IEEE binary64, little-endian)";
  }
  return "";
}

// Everything about a type that decides its values, for a message.
std::string describe_type(hid_t t) {
  const H5T_class_t c = H5Tget_class(t);
  const size_t size = H5Tget_size(t);
  const std::string order = H5Tget_order(t) == H5T_ORDER_BE ? "big-endian" : H5Tget_order(t) == H5T_ORDER_LE ? "little-endian" : "of another byte order";
  const std::string bytes = std::to_string(size) + " byte" + (size == 1 ? "" : "s");
  switch (c) {
    case H5T_FLOAT: {
      size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
      H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize);
      const H5T_norm_t norm = H5Tget_norm(t);
      return "a float of " + bytes + ", " + order + ", " + std::to_string(H5Tget_precision(t)) + " bits at offset " +
             std::to_string(H5Tget_offset(t)) + ", sign at bit " + std::to_string(spos) + ", exponent of " + std::to_string(esize) +
             " bits at bit " + std::to_string(epos) + " with bias " + std::to_string(H5Tget_ebias(t)) + ", mantissa of " +
             std::to_string(msize) + " bits at bit " + std::to_string(mpos) +
             (norm == H5T_NORM_IMPLIED ? ", implied leading bit" : norm == H5T_NORM_MSBSET ? ", explicit leading bit" : ", unnormalized");
    }
    case H5T_INTEGER:
      return std::string("an ") + (H5Tget_sign(t) == H5T_SGN_2 ? "signed" : "unsigned") + " integer of " + bytes + ", " + order + ", " +
             std::to_string(H5Tget_precision(t)) + " bits at offset " + std::to_string(H5Tget_offset(t));
    case H5T_STRING: return "a string";
    default: return "a type of HDF5 class " + std::to_string(int(c)) + " (" + bytes + ")";
  }
}

// True when `t` is exactly the expected type, every field that decides a value included.
bool is_exactly(hid_t t, Expected e) {
  const bool is_int = e == Expected::kInt32;
  const size_t size = e == Expected::kFloat64 ? 8 : 4;
  if (H5Tget_class(t) != (is_int ? H5T_INTEGER : H5T_FLOAT) || H5Tget_size(t) != size || H5Tget_order(t) != H5T_ORDER_LE ||
      H5Tget_precision(t) != size * 8 || H5Tget_offset(t) != 0) {
    return false;
  }
  if (is_int) return H5Tget_sign(t) == H5T_SGN_2 && H5Tequal(t, H5T_STD_I32LE) > 0;
  size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
  if (H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
  const bool single = e == Expected::kFloat32;
  const size_t want_esize = single ? 8 : 11, want_msize = single ? 23 : 52, want_bias = single ? 127 : 1023;
  return spos == size * 8 - 1 && epos == want_msize && esize == want_esize && mpos == 0 && msize == want_msize &&
         H5Tget_ebias(t) == want_bias && H5Tget_norm(t) == H5T_NORM_IMPLIED && H5Tget_inpad(t) == H5T_PAD_ZERO &&
         H5Tequal(t, single ? H5T_IEEE_F32LE : H5T_IEEE_F64LE) > 0;
}

// "float64", "int32", "string", ... (for a type of the wrong class or size).
std::string short_type_name(hid_t t) {
  const size_t bits = H5Tget_size(t) * 8;
  switch (H5Tget_class(t)) {
    case H5T_FLOAT: return "float" + std::to_string(bits);
    case H5T_INTEGER: return (H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_STRING: return "string";
    default: return "HDF5 type class " + std::to_string(int(H5Tget_class(t)));
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
    fail("file", "truncated or damaged: HDF5 cannot open it" + (reason.empty() ? std::string() : " (" + quoted_file_text(reason) + ")"));
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
std::vector<T> H5FileReader::read_numeric(const char* name, hid_t mem_type, int expected, size_t count) const {
  const std::string where = std::string("attribute '") + name + "'";
  const Expected e = Expected(expected);
  H5Id attr = open_attr(name);
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  if (!type.valid()) fail(where, "unreadable type (damaged file)");
  // Checked before any value is read: libhdf5 converts whatever the type message says.
  if (!is_exactly(type.get(), e)) fail(where, std::string("expected ") + expected_name(e) + ", found " + describe_type(type.get()));
  H5Id space(H5Aget_space(attr.get()), H5Sclose);
  if (!space.valid()) fail(where, "unreadable dataspace (damaged file)");
  const H5S_class_t sclass = H5Sget_simple_extent_type(space.get());
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (!(sclass == H5S_SCALAR || (sclass == H5S_SIMPLE && rank == 1))) fail(where, "expected a scalar or a list of values");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n != static_cast<hssize_t>(count)) {
    fail(where, "expected " + std::to_string(count) + " value(s), found " + std::to_string(n));
  }
  std::vector<T> v(count);
  if (H5Aread(attr.get(), mem_type, v.data()) < 0) fail(where, "unreadable (out of range for its type, or damaged)");
  return v;
}

int H5FileReader::read_int(const char* name) const {
  return read_numeric<int>(name, H5T_NATIVE_INT, int(Expected::kInt32), 1)[0];
}
std::vector<int> H5FileReader::read_ints(const char* name, size_t count) const {
  return read_numeric<int>(name, H5T_NATIVE_INT, int(Expected::kInt32), count);
}
std::vector<float> H5FileReader::read_floats(const char* name, size_t count) const {
  return read_numeric<float>(name, H5T_NATIVE_FLOAT, int(Expected::kFloat32), count);
}
double H5FileReader::read_double(const char* name) const {
  return read_numeric<double>(name, H5T_NATIVE_DOUBLE, int(Expected::kFloat64), 1)[0];
}

std::optional<std::string> H5FileReader::read_string(const char* name, bool allow_variable) const {
  const std::string where = std::string("attribute '") + name + "'";
  H5Id attr = open_attr(name);
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  if (!type.valid()) fail(where, "unreadable type (damaged file)");
  if (H5Tget_class(type.get()) != H5T_STRING) fail(where, "expected a string, found " + describe_type(type.get()));
  H5Id space(H5Aget_space(attr.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) fail(where, "expected a single string");
  if (H5Tis_variable_str(type.get()) != 0) {
    if (!allow_variable) fail(where, "expected a fixed-length string (format v1.1), found a variable-length one");
    return std::nullopt;
  }
  const size_t n = H5Tget_size(type.get());
  if (n == 0 || n > kMaxStringBytes) fail(where, "expected at most " + std::to_string(kMaxStringBytes) + " bytes, found " + std::to_string(n));
  const H5T_cset_t cset = H5Tget_cset(type.get());
  const H5T_str_t pad = H5Tget_strpad(type.get());
  if ((cset != H5T_CSET_UTF8 && cset != H5T_CSET_ASCII) || (pad != H5T_STR_NULLPAD && pad != H5T_STR_NULLTERM)) {
    fail(where, "expected a fixed-length UTF-8 (or ASCII) string, null-padded or null-terminated, found character set " +
                    std::to_string(int(cset)) + " with padding " + std::to_string(int(pad)));
  }
  std::vector<char> buf(n + 1, '\0');
  H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
  if (H5Tset_size(mem.get(), n + 1) < 0 || H5Tset_strpad(mem.get(), H5T_STR_NULLTERM) < 0 ||
      H5Tset_cset(mem.get(), cset) < 0 || H5Aread(attr.get(), mem.get(), buf.data()) < 0) {
    fail(where, "unreadable (damaged file)");
  }
  const std::string value(buf.data());
  size_t bad = 0;
  if (!is_valid_utf8(value, &bad)) {
    fail(where, "expected UTF-8 text, found the byte " + quoted_file_text(value.substr(bad, 1)) + " at offset " + std::to_string(bad) +
                    " of '" + quoted_file_text(value) + "'");
  }
  return value;
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
    fail(where, "expected dtype float32, found " + short_type_name(type.get()));
  }
  if (!is_exactly(type.get(), Expected::kFloat32)) {
    fail(where, "expected dtype float32 (IEEE, little-endian), found " +
                    (H5Tget_order(type.get()) == H5T_ORDER_BE ? std::string("float32 big-endian") : describe_type(type.get())));
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
    fail(where, "stored in an external file ('" + quoted_file_text(name) + "'): only data inside the weights file is read");
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
    fail(where, "expected no filters (uncompressed data), found " + (nfilters > 0 ? "'" + quoted_file_text(fname) + "'" : std::string("a filter pipeline")));
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
