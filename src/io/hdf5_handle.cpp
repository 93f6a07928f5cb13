#include "io/hdf5_handle.h"

namespace resnetrs {

std::mutex& hdf5_lock() {
  static std::mutex m;
  return m;
}

std::string H5ErrorScope::innermost_message() {
  std::string message;
  // H5E_WALK_UPWARD starts at the innermost record (where the error was detected).
  auto take_first = [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
    if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_first, &message);
  return message;
}

}  // namespace resnetrs
