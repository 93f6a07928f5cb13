// Small RAII and error helpers over the public C API: the bench uses nothing else of the library.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "resnetrs/resnetrs.h"

namespace bench {

// A failed C API call: its status and the library's message.
struct ApiError : std::runtime_error {
  ApiError(resnetrs_status_t s, const std::string& message) : std::runtime_error(message), status(s) {}
  resnetrs_status_t status;
};

inline void check_api(resnetrs_status_t status) {
  if (status != RESNETRS_STATUS_OK) throw ApiError(status, resnetrs_last_error());
}

struct EngineDeleter {
  void operator()(resnetrs_engine_t* e) const { resnetrs_engine_destroy(e); }
};
using Engine = std::unique_ptr<resnetrs_engine_t, EngineDeleter>;

inline resnetrs_engine_info_t engine_info(const resnetrs_engine_t* e) {
  resnetrs_engine_info_t info{};
  info.struct_size = sizeof(info);
  check_api(resnetrs_engine_get_info(e, &info));
  return info;
}

}  // namespace bench
