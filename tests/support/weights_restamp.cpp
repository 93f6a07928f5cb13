#include "support/weights_restamp.h"

#include <hdf5.h>

#include <stdexcept>
#include <vector>

#include "io/weights.h"
#include "io/weights_checksum.h"
#include "io/weights_schema.h"

namespace resnetrs::testing {
namespace {

int read_int_attr(hid_t f, const char* name) {
  int v = 0;
  const hid_t a = H5Aopen(f, name, H5P_DEFAULT);
  if (a < 0 || H5Aread(a, H5T_NATIVE_INT, &v) < 0) throw std::runtime_error(std::string("restamp: cannot read ") + name);
  H5Aclose(a);
  return v;
}

}  // namespace

void restamp_checksum(const std::string& path) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) throw std::runtime_error("restamp: cannot open " + path);
  RawWeights w;
  w.config = config_for_depth(read_int_attr(f, "depth"), read_int_attr(f, "num_classes"));
  WeightsChecksum sum;
  for (const TensorSlot& s : weight_slots(w)) {
    std::vector<float> v(static_cast<size_t>(s.count()));
    const hid_t d = H5Dopen2(f, s.path.c_str(), H5P_DEFAULT);
    if (d < 0 || H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) {
      throw std::runtime_error("restamp: cannot read " + s.path);
    }
    H5Dclose(d);
    sum.update(v.data(), v.size() * sizeof(float));
  }
  const std::string text = sum.text();
  H5Adelete(f, "checksum");
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, text.size());
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(f, "checksum", t, space, H5P_DEFAULT, H5P_DEFAULT);
  const herr_t rc = H5Awrite(a, t, text.data());
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(t);
  H5Fclose(f);
  if (rc < 0) throw std::runtime_error("restamp: cannot write the checksum of " + path);
}

}  // namespace resnetrs::testing
