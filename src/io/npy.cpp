#include "io/npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "io/weights_schema.h"

namespace resnetrs {
namespace {

std::string dict_value(const std::string& header, const std::string& key) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return {};
  size_t p = header.find(':', k);
  if (p == std::string::npos) return {};
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) return {};
  if (header[p] == '(') return header.substr(p, header.find(')', p) - p + 1);
  if (header[p] == '\'') return header.substr(p + 1, header.find('\'', p + 1) - p - 1);
  const size_t e = header.find_first_of(",}", p);
  return header.substr(p, e - p);
}

}  // namespace

NpyArray load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw_error(Status::kIoError, "cannot open '" + path + "': no such file or not readable");
  char magic[8];
  if (!f.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw_error(Status::kInvalidArgument, "'" + path + "' is not a .npy file (bad magic)");
  }
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  if (!f.read(&header[0], header_len)) throw_error(Status::kInvalidArgument, "'" + path + "': truncated .npy header");
  const std::string descr = dict_value(header, "descr");
  if (descr != "<f4") {
    throw_error(Status::kInvalidArgument, "'" + path + "': expected dtype float32 ('<f4'), found '" + descr + "'");
  }
  if (dict_value(header, "fortran_order").find("False") == std::string::npos) {
    throw_error(Status::kInvalidArgument, "'" + path + "': expected a C-order array, found Fortran order");
  }
  NpyArray a;
  const std::string shape = dict_value(header, "shape");
  int64_t count = 1;
  for (size_t p = 1; p < shape.size();) {
    const size_t e = shape.find_first_of(",)", p);
    const std::string tok = shape.substr(p, e - p);
    if (tok.find_first_not_of(' ') != std::string::npos) {
      a.shape.push_back(std::stoll(tok));
      count *= a.shape.back();
    }
    p = e + 1;
  }
  a.data.resize(static_cast<size_t>(count));
  if (!f.read(reinterpret_cast<char*>(a.data.data()), std::streamsize(count * sizeof(float)))) {
    throw_error(Status::kInvalidArgument, "'" + path + "': truncated data (expected " + std::to_string(count) +
                                              " float32 values for shape " + shape_to_string(a.shape) + ")");
  }
  return a;
}

void save_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  std::string dims;
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += (i ? ", " : "") + std::to_string(shape[i]);
    count *= shape[i];
  }
  if (shape.size() == 1) dims += ",";  // Python's one-element tuple
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  const std::string tmp = path + ".partial";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw_error(Status::kIoError, "cannot write '" + path + "' (is the directory writable?)");
    const uint16_t len = static_cast<uint16_t>(header.size());
    f.write("\x93NUMPY\x01\x00", 8);
    const char lb[2] = {char(len & 0xff), char(len >> 8)};
    f.write(lb, 2);
    f.write(header.data(), std::streamsize(header.size()));
    f.write(reinterpret_cast<const char*>(data), std::streamsize(count * sizeof(float)));
    if (!f) {
      std::remove(tmp.c_str());
      throw_error(Status::kIoError, "failed writing '" + path + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw_error(Status::kIoError, "cannot move '" + tmp + "' to '" + path + "'");
  }
}

}  // namespace resnetrs
