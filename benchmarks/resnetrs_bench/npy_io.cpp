#include "npy_io.h"

#include <cstdio>
#include <cstring>
#include <fstream>

namespace bench {
namespace {

// The value of `key` in the header's Python dict literal, as text ('<f4', False, (2, 3, 4)).
std::string header_value(const std::string& header, const std::string& key) {
  size_t p = header.find("'" + key + "'");
  if (p == std::string::npos) return {};
  p = header.find(':', p);
  if (p == std::string::npos) return {};
  p = header.find_first_not_of(' ', p + 1);
  if (p == std::string::npos) return {};
  if (header[p] == '\'') return header.substr(p + 1, header.find('\'', p + 1) - p - 1);
  if (header[p] == '(') return header.substr(p, header.find(')', p) - p + 1);
  return header.substr(p, header.find_first_of(",}", p) - p);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw NpyError("IO_ERROR", "cannot open '" + path + "': no such file or not readable");
  unsigned char magic[8];
  if (!f.read(reinterpret_cast<char*>(magic), 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw NpyError("INVALID_ARGUMENT", "'" + path + "' is not a .npy file (bad magic)");
  }
  uint32_t header_len = 0;
  if (magic[6] == 1) {
    unsigned char b[2] = {0, 0};
    f.read(reinterpret_cast<char*>(b), 2);
    header_len = uint32_t(b[0]) | (uint32_t(b[1]) << 8);
  } else {
    unsigned char b[4] = {0, 0, 0, 0};
    f.read(reinterpret_cast<char*>(b), 4);
    header_len = uint32_t(b[0]) | (uint32_t(b[1]) << 8) | (uint32_t(b[2]) << 16) | (uint32_t(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  if (!f.read(&header[0], std::streamsize(header_len))) throw NpyError("INVALID_ARGUMENT", "'" + path + "': truncated .npy header");
  const std::string descr = header_value(header, "descr");
  if (descr != "<f4") {
    throw NpyError("INVALID_ARGUMENT", "'" + path + "': expected dtype float32 ('<f4'), found '" + descr + "'");
  }
  if (header_value(header, "fortran_order") != "False") {
    throw NpyError("INVALID_ARGUMENT", "'" + path + "': expected a C-order array, found Fortran order");
  }
  NpyArray a;
  const std::string shape = header_value(header, "shape");
  size_t count = 1;
  for (size_t p = 1; p < shape.size();) {
    const size_t e = shape.find_first_of(",)", p);
    const std::string tok = shape.substr(p, e - p);
    if (tok.find_first_not_of(' ') != std::string::npos) {
      a.shape.push_back(std::stoll(tok));
      count *= size_t(a.shape.back());
    }
    p = e + 1;
  }
  a.data.resize(count);
  if (!f.read(reinterpret_cast<char*>(a.data.data()), std::streamsize(count * sizeof(float)))) {
    throw NpyError("INVALID_ARGUMENT", "'" + path + "': truncated data (expected " + std::to_string(count) +
                                           " float32 values for shape " + shape_text(a.shape) + ")");
  }
  return a;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  std::string dims;
  size_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += (i ? ", " : "") + std::to_string(shape[i]);
    count *= size_t(shape[i]);
  }
  if (shape.size() == 1) dims += ",";  // a one-element Python tuple
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64 bytes.
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  const std::string tmp = path + ".partial";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw NpyError("IO_ERROR", "cannot write '" + path + "' (is the directory writable?)");
    const char preamble[10] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0, char(header.size() & 0xff), char(header.size() >> 8)};
    f.write(preamble, 10);
    f.write(header.data(), std::streamsize(header.size()));
    f.write(reinterpret_cast<const char*>(data), std::streamsize(count * sizeof(float)));
    if (!f) {
      std::remove(tmp.c_str());
      throw NpyError("IO_ERROR", "failed writing '" + path + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw NpyError("IO_ERROR", "cannot move '" + tmp + "' to '" + path + "'");
  }
}

}  // namespace bench
