// A file of algorithm choices that engines save so the next engine built for the same layers skips
// the timing (the CUDA engine's tuning cache, the CPU engine's). One file may hold both backends'
// entries: each owns the lines whose key starts with its prefix and keeps the others' untouched.
//
// Format (UTF-8 text, one entry per line, '#' lines are comments):
//   # resnetrs tuning cache v1
//   <key>\t<value>
// A line of ours that the owner's `accept` refuses, or a line no backend owns, is reported through
// warn() and ignored. save() re-reads the file, merges (our new entries win), writes a temporary
// file beside it and renames it over the original, so a crash never leaves a half-written cache;
// a failed save is a warning, never an error.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>

namespace resnetrs {

class ChoiceCacheFile {
 public:
  using Accept = std::function<bool(const std::string& value)>;
  // Key prefixes of every backend that writes such files ("v1|": CUDA, "cpu1|": CPU).
  static bool known_prefix(const std::string& key);

  // path empty: a disabled cache (lookups miss, save does nothing).
  ChoiceCacheFile(std::string path, std::string prefix, Accept accept);

  bool enabled() const { return !m_path.empty(); }
  const std::string& path() const { return m_path; }
  size_t size() const { return m_entries.size(); }  // our entries

  void load();
  bool lookup(const std::string& key, std::string* value) const;
  void put(const std::string& key, const std::string& value);
  void save();

 private:
  // ours: our valid entries; others: other backends' lines, kept verbatim.
  void read(std::map<std::string, std::string>& ours, std::map<std::string, std::string>& others, bool report) const;

  std::string m_path, m_prefix;
  Accept m_accept;
  std::map<std::string, std::string> m_entries;  // key -> value
  std::map<std::string, std::string> m_new;      // entries added by this engine
};

}  // namespace resnetrs
