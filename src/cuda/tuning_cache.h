// The tuning cache: per-layer convolution choices saved to a text file so the next engine built
// for the same GPU, cuDNN, precision, layout, shapes, batch and workspace cap skips the timing.
//
// File format (UTF-8 text, one entry per line, '#' lines are comments):
//   # resnetrs tuning cache v1
//   <key>\t<value>
// key   = v1|<gpu name, non [A-Za-z0-9._-] -> '_'>|sm<major><minor>|cudnn<runtime version>|<precision>|
//         <layout>|n<batch>|<cin>x<h>x<w>-><cout>|k<k>s<stride>p<pad>|<relu|linear>|cap<workspace cap bytes>
// value = <fused|plain> <cuDNN algorithm name> <math type name> <measured ms>   (ConvChoice::to_string)
// Unknown or malformed lines are reported through warn() and ignored. Saving re-reads the file,
// merges (our entries win), writes a temporary file beside it and renames it over the original,
// so a crash never leaves a half-written cache. A failed save is a warning, never an error.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "cuda/conv_choice.h"
#include "cuda/cudnn_legacy_conv.h"
#include "cuda/device_info.h"

namespace resnetrs::cuda {

class TuningCache {
 public:
  explicit TuningCache(std::string path);  // empty path: a disabled cache (lookups miss, save no-op)

  bool enabled() const { return !m_path.empty(); }
  const std::string& path() const { return m_path; }
  size_t size() const { return m_entries.size(); }

  void load();
  bool lookup(const std::string& key, ConvChoice* out) const;
  void put(const std::string& key, const ConvChoice& choice);
  void save();

 private:
  void read_into(std::map<std::string, std::string>& entries, bool report) const;

  std::string m_path;
  std::map<std::string, std::string> m_entries;  // key -> value text
  std::map<std::string, std::string> m_new;      // entries added by this engine
};

std::string tuning_key(const DeviceInfo& device, const char* precision, const char* layout, const ConvGeometry& g, bool relu,
                       size_t workspace_cap);

}  // namespace resnetrs::cuda
