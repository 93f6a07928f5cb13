// Test helper: after a test has altered a weights file's datasets or root attributes in place, stamp the checksum
// the data now has, so the case exercises the check it targets (NaN, range, ...) and not the
// checksum. Reads the datasets with plain H5Dread: only for files the tests wrote themselves.
#pragma once

#include <string>

namespace resnetrs::testing {

void restamp_checksum(const std::string& path);

}  // namespace resnetrs::testing
