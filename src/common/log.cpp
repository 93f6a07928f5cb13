#include "common/log.h"

#include "common/utf8_text.h"

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

void warn(const std::string& text) {
  const std::string message = valid_utf8(text);  // warnings quote paths and file content
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_sink) {
    g_sink(message);
  } else {
    std::fprintf(stderr, "resnetrs: warning: %s\n", message.c_str());
  }
}

}  // namespace resnetrs
