#include "io/weights_parser_path.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace resnetrs {

std::optional<std::string> find_weights_parser(std::string& looked_in) {
  if (const char* env = std::getenv("RESNETRS_WEIGHTS_PARSER"); env && *env) {
    looked_in = std::string("RESNETRS_WEIGHTS_PARSER='") + env + "'";
    if (::access(env, X_OK) == 0) return std::string(env);
    return std::nullopt;
  }
  std::vector<std::string> candidates;
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&find_weights_parser), &info) != 0 && info.dli_fname) {
    const std::string self = info.dli_fname;
    const size_t slash = self.rfind('/');
    const std::string dir = slash == std::string::npos ? std::string(".") : self.substr(0, slash);
    candidates.push_back(dir + "/" + kWeightsParserName);
    // An installed prefix that was moved: <prefix>/lib/libresnetrs.so -> <prefix>/libexec/resnetrs/.
    candidates.push_back(dir + "/../libexec/resnetrs/" + kWeightsParserName);
  }
#ifdef RESNETRS_PARSER_INSTALL_PATH
  candidates.push_back(RESNETRS_PARSER_INSTALL_PATH);
#endif
#ifdef RESNETRS_PARSER_BUILD_PATH
  candidates.push_back(RESNETRS_PARSER_BUILD_PATH);
#endif
  looked_in.clear();
  for (const std::string& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
    looked_in += (looked_in.empty() ? "" : ", ") + c;
  }
  return std::nullopt;
}

}  // namespace resnetrs
