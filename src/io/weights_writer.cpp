// Writer of `resnetrs-weights` v1.2 files. Strings are fixed-length UTF-8 (the reader never reads
// variable-length ones), datasets float32 little-endian, contiguous and uncompressed, and the
// `checksum` covers the root attributes (canonical_attributes()) and the datasets' bytes in schema
// order. The file is written under a
// temporary name and renamed at the end, so no partial file is ever left behind.
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/hdf5_handle.h"
#include "io/weights_checksum.h"
#include "io/weights_file.h"
#include "io/weights_schema.h"

namespace resnetrs {
namespace {

void check(herr_t rc, const std::string& what) {
  if (rc < 0) throw_error(Status::kIoError, what);
}

void write_attr(hid_t loc, const char* name, hid_t file_type, hid_t mem_type, hsize_t count, const void* data) {
  H5Id space(count == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), H5Sclose);
  H5Id attr(H5Acreate2(loc, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) throw_error(Status::kIoError, std::string("cannot create attribute '") + name + "'");
  check(H5Awrite(attr.get(), mem_type, data), std::string("cannot write attribute '") + name + "'");
}

// Fixed-length, null-padded UTF-8 (h5py writes the same for a numpy bytes value); HDF5 has no
// zero-length string type, so "" is stored as one NUL byte.
void write_string_attr(hid_t loc, const char* name, const std::string& value) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  check(H5Tset_size(type.get(), padded.size()), std::string("cannot make the type of attribute '") + name + "'");
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  write_attr(loc, name, type.get(), type.get(), 0, padded.data());
}

}  // namespace

void save_weights(const RawWeights& weights, const std::string& path) {
  validate_weights(weights, "weights to write to '" + path + "'");
  const std::lock_guard<std::mutex> hdf5(hdf5_lock());
  H5ErrorScope errors;
  const std::string tmp = path + ".partial";
  try {
    H5Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) throw_error(Status::kIoError, "cannot create weights file '" + path + "' (is the directory writable?)");
    const hid_t root = file.get();
    const WeightsAttributes& a = weights.attrs;
    write_string_attr(root, "format", kWeightsFormatName);
    const int version = kWeightsFormatVersion, minor = kWeightsFormatMinor;
    write_attr(root, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &version);
    write_attr(root, "format_minor", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &minor);
    write_attr(root, "depth", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &weights.config.depth);
    write_attr(root, "blocks_per_stage", H5T_STD_I32LE, H5T_NATIVE_INT, 4, weights.config.blocks.data());
    write_attr(root, "num_classes", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &weights.config.num_classes);
    write_attr(root, "bn_epsilon", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &a.bn_epsilon);
    write_attr(root, "input_mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, a.input_mean.data());
    write_attr(root, "input_std", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, a.input_std.data());
    write_attr(root, "train_resolution", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &a.train_resolution);
    write_string_attr(root, "source", a.source);
    write_string_attr(root, "converter_version", a.converter_version);
    const ModelVariant& v = weights.config.variant;
    write_string_attr(root, "activation", activation_name(v.activation));
    write_string_attr(root, "stride2_padding", stride2_padding_name(v.stride2_padding));
    write_string_attr(root, "stage1_shortcut_pool", stage1_shortcut_pool_name(v.stage1_shortcut_pool));
    const std::vector<ConstTensorSlot> slots = weight_slots(weights, "weights to write to '" + path + "'");
    WeightsAttributes written = a;  // the values as written above
    written.format_version = version;
    written.format_minor = minor;
    WeightsChecksum checksum;
    checksum.update(canonical_attributes(written, weights.config));
    for (const ConstTensorSlot& s : slots) checksum.update(s.data->data(), s.data->size() * sizeof(float));
    write_string_attr(root, "checksum", checksum.text());

    H5Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    for (const ConstTensorSlot& s : slots) {
      std::vector<hsize_t> dims(s.shape.begin(), s.shape.end());
      H5Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
      H5Id ds(H5Dcreate2(root, s.path.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
      if (!ds.valid()) throw_error(Status::kIoError, "cannot create dataset '" + s.path + "' in '" + path + "'");
      check(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data->data()),
            "cannot write dataset '" + s.path + "' in '" + path + "'");
    }
    check(H5Fflush(root, H5F_SCOPE_GLOBAL), "cannot flush '" + tmp + "'");
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw_error(Status::kIoError, "cannot move '" + tmp + "' to '" + path + "'");
  }
}

}  // namespace resnetrs
