// The tuning cache: per-layer convolution choices saved to a text file so the next engine built
// for the same GPU, cuDNN, precision, layout, shapes, batch and workspace cap skips the timing.
//
// The file (common/choice_cache_file.h) holds "<key>\t<value>" lines; this backend owns the keys
//   v1|<gpu name, non [A-Za-z0-9._-] -> '_'>|sm<major><minor>|cudnn<runtime version>|<precision>|
//   <layout>|n<batch>|<cin>x<h>x<w>-><cout>|k<k>s<stride>p<pad>|<relu|linear>|cap<workspace cap bytes>
// with values "<fused|plain> <cuDNN algorithm name> <math type name> <measured ms>" (ConvChoice::to_string).
// Malformed lines are reported through warn() and ignored; the CPU engine's lines are kept.
#pragma once

#include <cstddef>
#include <string>

#include "common/choice_cache_file.h"

#include "cuda/conv_choice.h"
#include "cuda/cudnn_legacy_conv.h"
#include "cuda/device_info.h"

namespace resnetrs::cuda {

class TuningCache {
 public:
  explicit TuningCache(std::string path);  // empty path: a disabled cache (lookups miss, save no-op)

  bool enabled() const { return m_file.enabled(); }
  const std::string& path() const { return m_file.path(); }
  size_t size() const { return m_file.size(); }

  void load() { m_file.load(); }
  bool lookup(const std::string& key, ConvChoice* out) const;
  void put(const std::string& key, const ConvChoice& choice) { m_file.put(key, choice.to_string()); }
  void save() { m_file.save(); }

 private:
  ChoiceCacheFile m_file;
};

std::string tuning_key(const DeviceInfo& device, const char* precision, const char* layout, const ConvGeometry& g, bool relu,
                       size_t workspace_cap);

}  // namespace resnetrs::cuda
