// Minimal warning sink: warnings (e.g. an unexpected dataset in a weights file) go to stderr by
// default; tests install their own sink to turn warnings into checked values.
#pragma once

#include <functional>
#include <string>

namespace resnetrs {

using WarningSink = std::function<void(const std::string&)>;

// Installs a sink and returns the previous one. An empty sink restores the stderr default.
WarningSink set_warning_sink(WarningSink sink);
// The message reaches the sink as valid UTF-8 (common/utf8_text.h: other bytes escaped).
void warn(const std::string& message);

}  // namespace resnetrs
