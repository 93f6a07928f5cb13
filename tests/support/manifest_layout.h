// A manifest (io/weights_manifest.h) laid out from weights as the parse helper would report a file
// of them: every tensor contiguous, one after another from `first_offset`, except those `compact`
// picks (by index in the schema), which carry their values. Attributes and variant from `w`.
// Used by the manifest unit tests and the fuzz seeds.
#pragma once

#include <cstdint>
#include <functional>

#include "io/weights_manifest.h"
#include "io/weights_schema.h"

namespace resnetrs::testing {

inline WeightsManifest laid_out_manifest(RawWeights& w, uint64_t first_offset,
                                         const std::function<bool(size_t index, const TensorSlot& slot)>& compact) {
  WeightsManifest m;
  m.attrs = w.attrs;
  m.variant = w.config.variant;
  uint64_t offset = first_offset;
  for (const TensorSlot& s : weight_slots(w)) {
    StoredTensor t;
    t.path = s.path;
    if (compact(m.tensors.size(), s)) {
      t.in_file = false;
      t.values = *s.data;
    } else {
      t.offset = offset;
      t.bytes = uint64_t(s.count()) * sizeof(float);
      offset += t.bytes;
    }
    m.tensors.push_back(std::move(t));
  }
  return m;
}

}  // namespace resnetrs::testing
