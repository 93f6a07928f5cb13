// Writes the seed corpus of fuzz_weights_loader into OUTDIR: small weights files (a few KB) that
// start like real ones (the root attributes of format v1.2, v1.1 or v1.0 as the writers store them, and
// the first tensors of the schema with their data), variants with each storage feature the
// loader must refuse, and mutations (truncations, bit flips). A complete file is ~100 MB, too big
// to fuzz; these reach every HDF5 structure the loader touches. With MANIFEST_OUTDIR, also the
// seeds of fuzz_weights_manifest: manifests (io/weights_manifest.h) as the parse returns them.
//   make_fuzz_seeds OUTDIR [MANIFEST_OUTDIR]
#include <hdf5.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "io/weights_checksum.h"
#include "io/weights_file.h"
#include "io/weights_manifest.h"
#include "io/weights_schema.h"
#include "model/config.h"
#include "support/manifest_layout.h"

using namespace resnetrs;
namespace fs = std::filesystem;

namespace {

void die(const std::string& what) {
  std::fprintf(stderr, "make_fuzz_seeds: %s\n", what.c_str());
  std::exit(1);
}

void attr(hid_t loc, const char* name, hid_t file_type, hid_t mem_type, hsize_t count, const void* data) {
  const hid_t space = count == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr);
  const hid_t a = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, mem_type, data) < 0) die(std::string("cannot write attribute ") + name);
  H5Aclose(a);
  H5Sclose(space);
}

void string_attr(hid_t loc, const char* name, const std::string& value, bool variable) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_cset(t, H5T_CSET_UTF8);
  if (variable) {
    H5Tset_size(t, H5T_VARIABLE);
    const char* p = value.c_str();
    attr(loc, name, t, t, 0, &p);
  } else {
    H5Tset_size(t, value.size());
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    attr(loc, name, t, t, 0, value.data());
  }
  H5Tclose(t);
}

// The root attributes as save_weights (v1.2), the v1.1 writers or the v1.0 converter wrote them.
void root_attributes(hid_t f, const RawWeights& w, const std::string& checksum, int minor) {
  const bool v10 = minor == 0;
  string_attr(f, "format", kWeightsFormatName, v10);
  const int version = 1;
  attr(f, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &version);
  if (!v10) attr(f, "format_minor", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &minor);
  attr(f, "depth", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &w.config.depth);
  attr(f, "blocks_per_stage", H5T_STD_I32LE, H5T_NATIVE_INT, 4, w.config.blocks.data());
  attr(f, "num_classes", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &w.config.num_classes);
  attr(f, "bn_epsilon", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &w.attrs.bn_epsilon);
  attr(f, "input_mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, w.attrs.input_mean.data());
  attr(f, "input_std", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, w.attrs.input_std.data());
  attr(f, "train_resolution", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &w.attrs.train_resolution);
  string_attr(f, "source", w.attrs.source, v10);
  string_attr(f, "converter_version", w.attrs.converter_version, v10);
  if (!v10) string_attr(f, "checksum", checksum, false);
  if (!v10) {  // the network variant (v1.1 and later)
    const ModelVariant& v = w.config.variant;
    string_attr(f, "activation", activation_name(v.activation), false);
    string_attr(f, "stride2_padding", stride2_padding_name(v.stride2_padding), false);
    string_attr(f, "stage1_shortcut_pool", stage1_shortcut_pool_name(v.stage1_shortcut_pool), false);
  }
}

enum class Storage { kContiguous, kCompact, kChunkedFilter, kExternal, kVirtual, kSoftLink, kExternalLink };

// Attributes plus the first `tensors` datasets of the schema; the first one stored as `storage`.
void write_seed(const fs::path& path, size_t tensors, Storage storage, int minor = kWeightsFormatMinor) {
  RawWeights w = synthetic_weights(50, 1, 10);
  const std::vector<TensorSlot> slots = weight_slots(w);
  WeightsChecksum sum;  // as a complete file would have it (v1.2: the attributes too)
  w.attrs.format_minor = minor;
  if (minor >= kChecksumCoversAttributesMinor) sum.update(canonical_attributes(w.attrs, w.config));
  for (const TensorSlot& s : slots) sum.update(s.data->data(), s.data->size() * sizeof(float));
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) die("cannot create " + path.string());
  root_attributes(f, w, sum.text(), minor);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  for (size_t i = 0; i < tensors && i < slots.size(); ++i) {
    const TensorSlot& s = slots[i];
    std::vector<hsize_t> dims(s.shape.begin(), s.shape.end());
    const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const Storage how = i == 0 ? storage : Storage::kContiguous;
    bool write = true;
    std::string name = s.path;
    if (how == Storage::kCompact) H5Pset_layout(dcpl, H5D_COMPACT);
    if (how == Storage::kChunkedFilter) {
      const hsize_t chunk[4] = {8, 3, 3, 3};
      H5Pset_chunk(dcpl, int(dims.size()), chunk);
      H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_DSCALE, 3);
    }
    if (how == Storage::kExternal) {
      H5Pset_external(dcpl, "weights.bin", 0, s.count() * sizeof(float));
      write = false;
    }
    if (how == Storage::kVirtual) {
      const hid_t src = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
      H5Pset_virtual(dcpl, space, "source.h5", "/data", src);
      H5Sclose(src);
      write = false;
    }
    if (how == Storage::kSoftLink || how == Storage::kExternalLink) name = "/data" + std::to_string(i);
    const hid_t d = H5Dcreate2(f, name.c_str(), H5T_IEEE_F32LE, space, lcpl, dcpl, H5P_DEFAULT);
    if (d < 0) die("cannot create " + name);
    if (write && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data->data()) < 0) die("cannot write " + name);
    H5Dclose(d);
    if (how == Storage::kSoftLink) H5Lcreate_soft(name.c_str(), f, s.path.c_str(), lcpl, H5P_DEFAULT);
    if (how == Storage::kExternalLink) H5Lcreate_external("other.h5", "/data", f, s.path.c_str(), lcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
  }
  H5Pclose(lcpl);
  if (H5Fclose(f) < 0) die("cannot close " + path.string());
}

std::vector<char> bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const std::vector<char>& b, size_t n) {
  std::ofstream(p, std::ios::binary).write(b.data(), std::streamsize(n));
}

// The manifest of an RS-`depth` file: every tensor contiguous at consecutive offsets, except the
// first `compact` ones, which carry their values.
void write_manifest_seed(const fs::path& p, int depth, size_t compact, const char* variant) {
  RawWeights w = synthetic_weights(depth, 1, 10);
  WeightsManifest m = testing::laid_out_manifest(w, 4096, [&](size_t i, const TensorSlot&) { return i < compact; });
  m.attrs.checksum = "crc32:0123abcd";
  if (std::string(variant) == "garden") {
    m.variant.activation = Activation::kSwish;
    m.variant.stride2_padding = Stride2Padding::kSame;
    m.variant.stage1_shortcut_pool = true;
  }
  m.other_datasets = {"/extra/notes"};
  const std::string bytes = encode_manifest(m);
  write_bytes(p, std::vector<char>(bytes.begin(), bytes.end()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) die("usage: make_fuzz_seeds OUTDIR [MANIFEST_OUTDIR]");
  if (argc == 3) {
    const fs::path mdir = argv[2];
    fs::create_directories(mdir);
    write_manifest_seed(mdir / "rs50_contiguous.bin", 50, 0, "release");
    write_manifest_seed(mdir / "rs50_compact_stem.bin", 50, 4, "garden");
  }
  const fs::path out = argv[1];
  fs::create_directories(out);
  write_seed(out / "attrs_v12.h5", 0, Storage::kContiguous);
  write_seed(out / "stem1_v12.h5", 5, Storage::kContiguous);
  write_seed(out / "attrs_v11.h5", 0, Storage::kContiguous, 1);
  write_seed(out / "stem1_v11.h5", 5, Storage::kContiguous, 1);
  write_seed(out / "stem1_v10.h5", 5, Storage::kContiguous, 0);
  write_seed(out / "stem1_compact.h5", 5, Storage::kCompact);
  write_seed(out / "stem1_chunked_scaleoffset.h5", 5, Storage::kChunkedFilter);
  write_seed(out / "stem1_external_file.h5", 5, Storage::kExternal);
  write_seed(out / "stem1_virtual.h5", 5, Storage::kVirtual);
  write_seed(out / "stem1_soft_link.h5", 5, Storage::kSoftLink);
  write_seed(out / "stem1_external_link.h5", 5, Storage::kExternalLink);
  // Mutations of a v1.2, a v1.1 and a v1.0 seed: cut short, and bits flipped.
  std::mt19937_64 rng(9);
  for (const char* base : {"stem1_v12", "stem1_v11", "stem1_v10"}) {
    const std::vector<char> b = bytes_of(out / (std::string(base) + ".h5"));
    for (size_t keep : {b.size() - 1, b.size() * 9 / 10, b.size() / 2, b.size() / 4}) {
      write_bytes(out / (std::string(base) + "_cut" + std::to_string(keep) + ".h5"), b, keep);
    }
    for (int i = 0; i < 4; ++i) {
      std::vector<char> m = b;
      for (int k = 0; k < 3; ++k) {
        const size_t at = size_t(rng() % m.size());
        m[at] = char(m[at] ^ (1 << (rng() % 8)));
      }
      write_bytes(out / (std::string(base) + "_flip" + std::to_string(i) + ".h5"), m, m.size());
    }
  }
  size_t n = 0, total = 0;
  for (const auto& e : fs::directory_iterator(out)) n += 1, total += fs::file_size(e.path());
  std::printf("make_fuzz_seeds: %zu seeds, %zu bytes in %s\n", n, total, out.c_str());
  return 0;
}
