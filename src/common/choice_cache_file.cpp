#include "common/choice_cache_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/log.h"

namespace resnetrs {
namespace {
constexpr const char* kHeader = "# resnetrs tuning cache v1";
const char* const kPrefixes[] = {"v1|", "cpu1|"};
}  // namespace

bool ChoiceCacheFile::known_prefix(const std::string& key) {
  for (const char* p : kPrefixes) {
    if (key.rfind(p, 0) == 0) return true;
  }
  return false;
}

ChoiceCacheFile::ChoiceCacheFile(std::string path, std::string prefix, Accept accept)
    : m_path(std::move(path)), m_prefix(std::move(prefix)), m_accept(std::move(accept)) {}

void ChoiceCacheFile::read(std::map<std::string, std::string>& ours, std::map<std::string, std::string>& others,
                           bool report) const {
  std::ifstream in(m_path);
  if (!in) return;  // no file yet: an empty cache
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    const std::string key = tab == std::string::npos ? std::string() : line.substr(0, tab);
    const std::string value = tab == std::string::npos ? std::string() : line.substr(tab + 1);
    if (!key.empty() && key.rfind(m_prefix, 0) == 0 && m_accept(value)) {
      ours[key] = value;
    } else if (!key.empty() && key.rfind(m_prefix, 0) != 0 && known_prefix(key)) {
      others[key] = value;  // another backend's entry
    } else if (report) {
      warn("tuning cache " + m_path + ":" + std::to_string(line_no) + ": ignoring malformed line");
    }
  }
}

void ChoiceCacheFile::load() {
  m_entries.clear();
  if (!enabled()) return;
  std::map<std::string, std::string> others;
  read(m_entries, others, true);
}

bool ChoiceCacheFile::lookup(const std::string& key, std::string* value) const {
  const auto it = m_entries.find(key);
  if (it == m_entries.end()) return false;
  *value = it->second;
  return true;
}

void ChoiceCacheFile::put(const std::string& key, const std::string& value) {
  m_entries[key] = value;
  m_new[key] = value;
}

void ChoiceCacheFile::save() {
  if (!enabled() || m_new.empty()) return;
  std::map<std::string, std::string> merged, others;
  read(merged, others, false);  // keep what other engines wrote meanwhile
  for (const auto& [k, v] : m_new) merged[k] = v;
  for (const auto& [k, v] : others) merged[k] = v;
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

}  // namespace resnetrs
