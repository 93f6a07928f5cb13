// Seeded mutations of a weights file, as a damaged download or bit rot makes them (issue 22):
// bytes overwritten, bits flipped, runs of bytes copied from elsewhere, the file cut short; most of
// them in the HDF5 metadata (the first 16 KiB and the gaps between the datasets' data), some in
// the data. A mutation is applied to a copy in place and undone afterwards (a short cut is written
// as a file of its own), so one copy of a 135 MB file serves hundreds of cases.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace resnetrs::apitest {

struct Mutation {
  std::string what;                            // for messages: "3 bytes at 1234", "cut to 5000 bytes", ...
  std::vector<std::pair<uint64_t, std::string>> writes;  // new bytes at offsets
  uint64_t truncate_to = UINT64_MAX;           // the new length, or UINT64_MAX
};

// Byte ranges of a file: where the HDF5 metadata is (everything that is not a dataset's data).
class MutationPlanner {
 public:
  // `data` lists the [offset, offset + bytes) ranges of the datasets' data.
  MutationPlanner(const std::string& original, std::vector<std::pair<uint64_t, uint64_t>> data) : m_file(original) {
    std::sort(data.begin(), data.end());
    uint64_t at = 0;
    for (const auto& [offset, bytes] : data) {
      if (offset > at) m_meta.emplace_back(at, offset - at);
      at = std::max(at, offset + bytes);
    }
    if (at < m_file.size()) m_meta.emplace_back(at, m_file.size() - at);
    for (const auto& r : m_meta) m_meta_bytes += r.second;
  }

  Mutation make(uint64_t seed) const {
    std::mt19937_64 rng(seed);
    const auto pick = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
    const uint64_t size = m_file.size();
    // Where: 60 % in the first 16 KiB, 25 % anywhere in the metadata, 15 % anywhere in the file.
    const auto position = [&]() -> uint64_t {
      const uint64_t r = pick(100);
      if (r < 60) return pick(std::min<uint64_t>(size, 16384));
      if (r < 85 && m_meta_bytes > 0) {
        uint64_t k = pick(m_meta_bytes);
        for (const auto& [offset, bytes] : m_meta) {
          if (k < bytes) return offset + k;
          k -= bytes;
        }
      }
      return pick(size);
    };
    Mutation m;
    const uint64_t kind = pick(100);
    if (kind < 35) {  // random bytes overwritten
      const uint64_t n = 1 + pick(8), at = std::min(position(), size - n);
      std::string bytes(n, '\0');
      for (char& c : bytes) c = char(pick(256));
      m.writes.emplace_back(at, bytes);
      m.what = std::to_string(n) + " random byte(s) at " + std::to_string(at);
    } else if (kind < 65) {  // bits flipped
      const uint64_t flips = 1 + pick(3);
      m.what = std::to_string(flips) + " bit(s) flipped at";
      for (uint64_t i = 0; i < flips; ++i) {
        const uint64_t at = position();
        m.writes.emplace_back(at, std::string(1, char(uint8_t(m_file[at]) ^ (1u << pick(8)))));
        m.what += " " + std::to_string(at);
      }
    } else if (kind < 85) {  // a run of bytes copied from elsewhere in the file
      const uint64_t n = 1 + pick(256), to = std::min(position(), size - n), from = std::min(position(), size - n);
      m.writes.emplace_back(to, m_file.substr(from, n));
      m.what = std::to_string(n) + " bytes copied from " + std::to_string(from) + " to " + std::to_string(to);
    } else {  // cut short: anywhere, or a few bytes off the end
      m.truncate_to = pick(2) ? position() : size - 1 - pick(4096);
      m.what = "cut to " + std::to_string(m.truncate_to) + " of " + std::to_string(size) + " bytes";
    }
    return m;
  }

  // The file `m` is tried on: `copy` (a copy of the original) with `m` applied in place, or, for a
  // cut to less than half the file, `short_file` written anew (cheaper than restoring the rest).
  // Empty when a file could not be written.
  std::string apply(const std::string& copy, const std::string& short_file, const Mutation& m) const {
    if (m.truncate_to != UINT64_MAX && m.truncate_to < m_file.size() / 2) {
      const int fd = ::open(short_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0) return "";
      const bool ok = ::close(fd) == 0 && edit(short_file, {{0, m_file.substr(0, m.truncate_to)}}, UINT64_MAX);
      return ok ? short_file : "";
    }
    return edit(copy, m.writes, m.truncate_to) ? copy : "";
  }

  // Restores `copy` to the original after `m`.
  bool undo(const std::string& copy, const Mutation& m) const {
    if (m.truncate_to != UINT64_MAX && m.truncate_to < m_file.size() / 2) return true;  // `copy` was not touched
    std::vector<std::pair<uint64_t, std::string>> back;
    for (const auto& [at, bytes] : m.writes) back.emplace_back(at, m_file.substr(at, bytes.size()));
    if (m.truncate_to != UINT64_MAX) back.emplace_back(m.truncate_to, m_file.substr(m.truncate_to));
    return edit(copy, back, UINT64_MAX);
  }

 private:
  static bool edit(const std::string& path, const std::vector<std::pair<uint64_t, std::string>>& writes, uint64_t truncate_to) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return false;
    bool ok = true;
    for (const auto& [at, bytes] : writes) {
      size_t done = 0;
      while (ok && done < bytes.size()) {
        const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, off_t(at + done));
        ok = n > 0;
        done += ok ? size_t(n) : 0;
      }
    }
    if (truncate_to != UINT64_MAX) ok = ok && ::ftruncate(fd, off_t(truncate_to)) == 0;
    return ::close(fd) == 0 && ok;
  }

  std::string m_file;
  std::vector<std::pair<uint64_t, uint64_t>> m_meta;
  uint64_t m_meta_bytes = 0;
};

}  // namespace resnetrs::apitest
