#include "common/log.h"

#include <cstdio>
#include <mutex>

namespace resnetrs {
namespace {
std::mutex g_mutex;
WarningSink g_sink;
}  // namespace

WarningSink set_warning_sink(WarningSink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  WarningSink old = std::move(g_sink);
  g_sink = std::move(sink);
  return old;
}

void warn(const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_sink) {
    g_sink(message);
  } else {
    std::fprintf(stderr, "resnetrs: warning: %s\n", message.c_str());
  }
}

}  // namespace resnetrs
