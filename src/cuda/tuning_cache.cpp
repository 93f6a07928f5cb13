#include "cuda/tuning_cache.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/log.h"

namespace resnetrs::cuda {
namespace {

constexpr const char* kHeader = "# resnetrs tuning cache v1";

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

TuningCache::TuningCache(std::string path) : m_path(std::move(path)) {}

void TuningCache::read_into(std::map<std::string, std::string>& entries, bool report) const {
  std::ifstream in(m_path);
  if (!in) return;  // no file yet: an empty cache
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    ConvChoice parsed;
    if (tab == std::string::npos || tab == 0 || line.compare(0, 3, "v1|") != 0 ||
        !parse_conv_choice(line.substr(tab + 1), &parsed)) {
      if (report) warn("tuning cache " + m_path + ":" + std::to_string(line_no) + ": ignoring malformed line");
      continue;
    }
    entries[line.substr(0, tab)] = line.substr(tab + 1);
  }
}

void TuningCache::load() {
  m_entries.clear();
  if (!enabled()) return;
  read_into(m_entries, true);
}

bool TuningCache::lookup(const std::string& key, ConvChoice* out) const {
  const auto it = m_entries.find(key);
  return it != m_entries.end() && parse_conv_choice(it->second, out);
}

void TuningCache::put(const std::string& key, const ConvChoice& choice) {
  m_entries[key] = choice.to_string();
  m_new[key] = choice.to_string();
}

void TuningCache::save() {
  if (!enabled() || m_new.empty()) return;
  std::map<std::string, std::string> merged;
  read_into(merged, false);  // keep what other engines wrote meanwhile
  for (const auto& [k, v] : m_new) merged[k] = v;
  const std::string tmp = m_path + ".tmp." + std::to_string(static_cast<long>(getpid()));
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) {
      warn("tuning cache: cannot write " + tmp + "; the tuning results are not saved");
      return;
    }
    out << kHeader << "\n";
    for (const auto& [k, v] : merged) out << k << "\t" << v << "\n";
    out.flush();
    if (!out) {
      warn("tuning cache: writing " + tmp + " failed; the tuning results are not saved");
      std::remove(tmp.c_str());
      return;
    }
  }
  if (std::rename(tmp.c_str(), m_path.c_str()) != 0) {
    warn("tuning cache: cannot rename " + tmp + " to " + m_path + "; the tuning results are not saved");
    std::remove(tmp.c_str());
    return;
  }
  m_new.clear();
}

}  // namespace resnetrs::cuda
