#include "cuda/tuning_cache.h"

#include <cctype>
#include <sstream>

namespace resnetrs::cuda {
namespace {

std::string sanitize(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  }
  return out;
}

}  // namespace

std::string tuning_key(const DeviceInfo& d, const char* precision, const char* layout, const ConvGeometry& g, bool relu,
                       size_t workspace_cap) {
  std::ostringstream k;
  k << "v1|" << sanitize(d.name) << "|sm" << d.cc_major << d.cc_minor << "|cudnn" << d.cudnn_version << "|" << precision
    << "|" << layout << "|n" << g.n << "|" << g.cin << "x" << g.h << "x" << g.w << "->" << g.cout << "|k" << g.kernel << "s"
    << g.stride << "p" << g.pad << "|" << (relu ? "relu" : "linear") << "|cap" << workspace_cap;
  return k.str();
}

TuningCache::TuningCache(std::string path)
    : m_file(std::move(path), "v1|", [](const std::string& value) {
        ConvChoice parsed;
        return parse_conv_choice(value, &parsed);
      }) {}

bool TuningCache::lookup(const std::string& key, ConvChoice* out) const {
  std::string value;
  return m_file.lookup(key, &value) && parse_conv_choice(value, out);
}

}  // namespace resnetrs::cuda
