#include "io/weights_manifest.h"

#include "common/byte_codec.h"

namespace resnetrs {
namespace {

constexpr uint32_t kMagic = 0x524d4631;    // "RMF1": a manifest of this layout
constexpr size_t kMaxText = 1 << 16;        // an attribute string or a dataset path
constexpr uint64_t kMaxCount = 1 << 22;     // tensors, datasets, values of one compact dataset

void put_floats(ByteWriter& w, const float* v, size_t n) { w.append(v, n * sizeof(float)); }

// A count of items that each take at least `min_bytes` of what is left (so a malformed count never
// sizes a container beyond the input).
uint64_t get_count(ByteReader& r, const char* what, size_t min_bytes) {
  const uint64_t n = r.get<uint64_t>(what);
  if (n > kMaxCount || n * min_bytes > r.left()) throw_error(Status::kInternal, std::string("malformed result: ") + what + " is too large");
  return n;
}

}  // namespace

std::string encode_manifest(const WeightsManifest& m) {
  ByteWriter w;
  w.put<uint32_t>(kMagic);
  const WeightsAttributes& a = m.attrs;
  w.put<int32_t>(a.format_version);
  w.put<int32_t>(a.format_minor);
  w.put_string(a.checksum);
  w.put<int32_t>(a.depth);
  w.put<int32_t>(a.num_classes);
  w.put<double>(a.bn_epsilon);
  put_floats(w, a.input_mean.data(), 3);
  put_floats(w, a.input_std.data(), 3);
  w.put<int32_t>(a.train_resolution);
  w.put_string(a.source);
  w.put_string(a.converter_version);
  w.put<uint8_t>(uint8_t(m.variant.activation));
  w.put<uint8_t>(uint8_t(m.variant.stride2_padding));
  w.put<uint8_t>(m.variant.stage1_shortcut_pool ? 1 : 0);
  w.put<uint64_t>(m.tensors.size());
  for (const StoredTensor& t : m.tensors) {
    w.put_string(t.path);
    w.put<uint8_t>(t.in_file ? 1 : 0);
    if (t.in_file) {
      w.put<uint64_t>(t.offset);
      w.put<uint64_t>(t.bytes);
    } else {
      w.put<uint64_t>(t.values.size());
      put_floats(w, t.values.data(), t.values.size());
    }
  }
  w.put<uint64_t>(m.other_datasets.size());
  for (const std::string& s : m.other_datasets) w.put_string(s);
  return w.take();
}

WeightsManifest decode_manifest(const std::string& bytes) {
  ByteReader r(bytes);
  if (r.get<uint32_t>("magic") != kMagic) throw_error(Status::kInternal, "malformed result: not a weights manifest");
  WeightsManifest m;
  WeightsAttributes& a = m.attrs;
  a.format_version = r.get<int32_t>("format_version");
  a.format_minor = r.get<int32_t>("format_minor");
  a.checksum = r.get_string("checksum", kMaxText);
  a.depth = r.get<int32_t>("depth");
  a.num_classes = r.get<int32_t>("num_classes");
  a.bn_epsilon = r.get<double>("bn_epsilon");
  r.copy_out(a.input_mean.data(), 3 * sizeof(float), "input_mean");
  r.copy_out(a.input_std.data(), 3 * sizeof(float), "input_std");
  a.train_resolution = r.get<int32_t>("train_resolution");
  a.source = r.get_string("source", kMaxText);
  a.converter_version = r.get_string("converter_version", kMaxText);
  const uint8_t activation = r.get<uint8_t>("activation");
  const uint8_t padding = r.get<uint8_t>("stride2_padding");
  const uint8_t pool = r.get<uint8_t>("stage1_shortcut_pool");
  if (activation > uint8_t(Activation::kSwish) || padding > uint8_t(Stride2Padding::kSame) || pool > 1) {
    throw_error(Status::kInternal, "malformed result: unknown network variant");
  }
  m.variant.activation = Activation(activation);
  m.variant.stride2_padding = Stride2Padding(padding);
  m.variant.stage1_shortcut_pool = pool == 1;
  m.tensors.resize(get_count(r, "tensor count", 17));
  for (StoredTensor& t : m.tensors) {
    t.path = r.get_string("dataset path", kMaxText);
    const uint8_t kind = r.get<uint8_t>("storage kind");
    if (kind > 1) throw_error(Status::kInternal, "malformed result: unknown storage kind");
    t.in_file = kind == 1;
    if (t.in_file) {
      t.offset = r.get<uint64_t>("offset");
      t.bytes = r.get<uint64_t>("byte count");
    } else {
      const uint64_t n = get_count(r, "value count", sizeof(float));
      t.values.resize(n);
      r.copy_out(t.values.data(), n * sizeof(float), "values");
    }
  }
  m.other_datasets.resize(get_count(r, "dataset count", 8));
  for (std::string& s : m.other_datasets) s = r.get_string("dataset path", kMaxText);
  if (r.left() != 0) throw_error(Status::kInternal, "malformed result: trailing bytes");
  return m;
}

}  // namespace resnetrs
