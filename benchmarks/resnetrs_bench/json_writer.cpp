#include "json_writer.h"

#include <cmath>
#include <cstdio>

namespace bench {

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out;
}

void JsonWriter::newline() {
  m_out += '\n';
  m_out.append(m_first.size() * 2, ' ');
}

void JsonWriter::before_value() {
  if (m_after_key) {
    m_after_key = false;
    return;
  }
  if (!m_first.empty()) {
    if (!m_first.back()) m_out += ',';
    m_first.back() = false;
    newline();
  }
}

void JsonWriter::key(const std::string& k) {
  before_value();
  m_out += '"' + json_escape(k) + "\": ";
  m_after_key = true;
}

void JsonWriter::begin_object() {
  before_value();
  m_out += '{';
  m_first.push_back(true);
}

void JsonWriter::end_object() {
  const bool empty = m_first.back();
  m_first.pop_back();
  if (!empty) newline();
  m_out += '}';
}

void JsonWriter::begin_array() {
  before_value();
  m_out += '[';
  m_first.push_back(true);
}

void JsonWriter::end_array() {
  const bool empty = m_first.back();
  m_first.pop_back();
  if (!empty) newline();
  m_out += ']';
}

void JsonWriter::value(const std::string& s) {
  before_value();
  m_out += '"' + json_escape(s) + '"';
}

void JsonWriter::value(double d) {
  before_value();
  if (!std::isfinite(d)) {
    m_out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", d);
  std::string s = buf;
  // Keep it a JSON number that reads back as a float: "12" -> "12.0".
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  m_out += s;
}

void JsonWriter::value(int64_t i) {
  before_value();
  m_out += std::to_string(i);
}

void JsonWriter::value(bool b) {
  before_value();
  m_out += b ? "true" : "false";
}

void JsonWriter::null() {
  before_value();
  m_out += "null";
}

void JsonWriter::field(const std::string& k, const std::vector<double>& v) {
  key(k);
  // One line: per-iteration samples would otherwise take thousands of lines.
  before_value();
  m_out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", v[i]);
    m_out += (i ? ", " : "") + std::string(buf);
  }
  m_out += ']';
}

}  // namespace bench
