// Helpers of the weights-file unit tests: one good RS-50 file written once per process, copies of
// it to alter with the HDF5 C API, and the check that a refusal has the status and message parts.
#pragma once

#include <catch2/catch.hpp>
#include <hdf5.h>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "io/weights_file.h"
#include "support/weights_restamp.h"

namespace resnetrs::weightstest {

namespace fs = std::filesystem;


// A folder of this process's files (each good.h5 copy is ~100 MB), removed at process exit.
inline fs::path temp_dir() {
  struct Dir {
    fs::path path = fs::temp_directory_path() / ("resnetrs_weights_io_" + std::to_string(::getpid()));
    Dir() { fs::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// The warnings issued while it lives (the previous sink is restored on every exit path).
struct CapturedWarnings {
  std::vector<std::string> list;
  WarningSink previous = set_warning_sink([this](const std::string& m) { list.push_back(m); });
  CapturedWarnings() = default;
  CapturedWarnings(const CapturedWarnings&) = delete;
  CapturedWarnings& operator=(const CapturedWarnings&) = delete;
  ~CapturedWarnings() { set_warning_sink(previous); }
};

// An environment variable set while it lives (unset on every exit path, a failed REQUIRE included).
struct ScopedEnv {
  const char* name;
  ScopedEnv(const char* n, const std::string& value) : name(n) { ::setenv(name, value.c_str(), 1); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() { ::unsetenv(name); }
};

// One good RS-50 file written once; every case works on its own copy.
inline const fs::path& good_file() {
  static const fs::path path = [] {
    const fs::path p = temp_dir() / "good.h5";
    save_weights(synthetic_weights(50, 7), p.string());
    return p;
  }();
  return path;
}

inline fs::path copy_of_good(const std::string& name) {
  const fs::path p = temp_dir() / name;
  fs::copy_file(good_file(), p, fs::copy_options::overwrite_existing);
  return p;
}

struct File {
  hid_t id;
  explicit File(const fs::path& p) : id(H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) { REQUIRE(id >= 0); }
  ~File() { H5Fclose(id); }
};

inline void set_int_attr(const fs::path& p, const char* name, std::vector<int> values) {
  File f(p);
  H5Adelete(f.id, name);
  hsize_t n = values.size();
  hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  hid_t a = H5Acreate2(f.id, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT, values.data());
  H5Aclose(a);
  H5Sclose(space);
}

// A fixed-length string, as the v1.1 writers store them.
inline void set_string_attr(const fs::path& p, const char* name, const std::string& value) {
  File f(p);
  H5Adelete(f.id, name);
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, value.size());
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(f.id, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, t, value.data());
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(t);
}

inline void replace_dataset(const fs::path& p, const std::string& path, hid_t file_type, std::vector<hsize_t> dims,
                     const std::vector<double>& values) {
  File f(p);
  H5Ldelete(f.id, path.c_str(), H5P_DEFAULT);
  hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  hid_t d = H5Dcreate2(f.id, path.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(d);
  H5Sclose(space);
}

// Overwrites one value of an existing float32 dataset and, unless told not to, stamps the checksum
// the data now has (so the case tests the value check, not the checksum).
inline void poke(const fs::path& p, const std::string& path, size_t index, float value, bool restamp = true) {
  {
    File f(p);
    hid_t d = H5Dopen2(f.id, path.c_str(), H5P_DEFAULT);
    REQUIRE(d >= 0);
    hid_t space = H5Dget_space(d);
    hsize_t n = H5Sget_simple_extent_npoints(space);
    std::vector<float> v(n);
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    v[index] = value;
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Sclose(space);
    H5Dclose(d);
  }
  if (restamp) resnetrs::testing::restamp_checksum(p.string());
}

// The refusal must be the same whether libhdf5 parses the file in a child process (the default)
// or in this one: same status, same message.
inline void expect_refusal(const fs::path& p, Status status, const std::vector<std::string>& fragments) {
  std::string in_process;
  try {
    load_weights(p.string(), MetadataParsing::kInProcess);
    FAIL("load_weights (parsing in this process) accepted " << p);
  } catch (const Error& e) {
    in_process = e.what();
  }
  try {
    load_weights(p.string());
    FAIL("load_weights accepted " << p);
  } catch (const Error& e) {
    INFO("message: " << e.what());
    CHECK(e.status() == status);
    CHECK(std::string(e.what()).find(p.string()) != std::string::npos);  // names the file
    for (const auto& frag : fragments) CHECK(std::string(e.what()).find(frag) != std::string::npos);
    CHECK(in_process == e.what());
  }
}

}  // namespace resnetrs::weightstest
