#include "support/weights_restamp.h"

#include <hdf5.h>

#include <mutex>
#include <stdexcept>
#include <vector>

#include "io/hdf5_handle.h"
#include "io/weights.h"
#include "io/weights_checksum.h"
#include "io/weights_manifest.h"
#include "io/weights_schema.h"

namespace resnetrs::testing {

void restamp_checksum(const std::string& path) {
  const std::lock_guard<std::mutex> hdf5(hdf5_lock());
  // The root attributes as the reader sees them (the file's minor decides what the checksum covers).
  const WeightsManifest m = read_manifest(path);
  RawWeights w;
  w.config = config_for_depth(m.attrs.depth, m.attrs.num_classes);
  w.config.variant = m.variant;
  WeightsChecksum sum;
  if (m.attrs.format_minor >= kChecksumCoversAttributesMinor) sum.update(canonical_attributes(m.attrs, w.config));
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) throw std::runtime_error("restamp: cannot open " + path);
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
