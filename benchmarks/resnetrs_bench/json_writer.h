// A minimal streaming JSON writer (objects, arrays, strings, numbers, booleans, null) with
// indentation. Non-finite numbers are written as null, since JSON has no NaN.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bench {

class JsonWriter {
 public:
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(const std::string& k);  // inside an object, before its value

  void value(const std::string& s);
  void value(const char* s) { value(std::string(s)); }
  void value(double d);
  void value(int64_t i);
  void value(int i) { value(int64_t(i)); }
  void value(bool b);
  void null();

  template <typename T>
  void field(const std::string& k, const T& v) {
    key(k);
    value(v);
  }
  template <typename T>
  void field(const std::string& k, const std::optional<T>& v) {
    key(k);
    if (v) value(*v);
    else null();
  }
  void field(const std::string& k, const std::vector<double>& v);

  const std::string& str() const { return m_out; }

 private:
  void before_value();
  void newline();
  std::string m_out;
  std::vector<bool> m_first;  // per open container: no element written yet
  bool m_after_key = false;
};

std::string json_escape(const std::string& s);

}  // namespace bench
