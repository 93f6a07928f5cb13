// Where the helper program that parses weights files (resnetrs-parse-weights,
// src/io/parse_weights_main.cpp) is: found once per load, in this order:
//  1. $RESNETRS_WEIGHTS_PARSER, when set (it must then exist);
//  2. beside the binary that holds this code (libresnetrs.so: the build folder, the Python
//     package's folder, Triton's backends/resnetrs/), then in ../libexec/resnetrs/ from there;
//  3. the installed libexec/resnetrs/ folder, then the build folder this library was built in.
#pragma once

#include <optional>
#include <string>

namespace resnetrs {

constexpr const char* kWeightsParserName = "resnetrs-parse-weights";

// The helper's path, or nullopt with `looked_in` saying where it was looked for.
std::optional<std::string> find_weights_parser(std::string& looked_in);

}  // namespace resnetrs
