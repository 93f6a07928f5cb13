// The tuning cache file both engines share (common/choice_cache_file.h): our lines read back,
// malformed ones warned about and ignored, the other backend's lines kept through a save, the
// save atomic (no temporary file left behind).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "common/choice_cache_file.h"
#include "common/log.h"
#include "weights_test_files.h"

using namespace resnetrs;
using namespace resnetrs::weightstest;

namespace {
std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("choice cache file: read, warn, keep the other backend's lines, save atomically", "[cache]") {
  const fs::path path = temp_dir() / "choices.cache";
  {
    std::ofstream out(path);
    out << "# resnetrs tuning cache v1\n"
        << "cpu1|machine|layer a\tonednn direct (brgconv:avx512_core)\n"
        << "cpu1|machine|layer b\t\n"                      // ours, refused by accept: warned
        << "v1|H100|n8|64x40x40->64\tfused ALGO_1 FMA 0.1\n"  // the CUDA engine's: kept
        << "garbage without a tab\n";                       // nobody's: warned
  }
  std::vector<std::string> warnings;
  WarningSink previous = set_warning_sink([&](const std::string& w) { warnings.push_back(w); });
  ChoiceCacheFile cache(path.string(), "cpu1|", [](const std::string& v) { return !v.empty(); });
  cache.load();
  set_warning_sink(previous);
  CHECK(cache.size() == 1);
  std::string value;
  REQUIRE(cache.lookup("cpu1|machine|layer a", &value));
  CHECK(value == "onednn direct (brgconv:avx512_core)");
  CHECK_FALSE(cache.lookup("cpu1|machine|layer b", &value));
  CHECK_FALSE(cache.lookup("v1|H100|n8|64x40x40->64", &value));  // not ours
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find(":3: ignoring malformed line") != std::string::npos);
  CHECK(warnings[1].find(":5: ignoring malformed line") != std::string::npos);

  cache.put("cpu1|machine|layer c", "gemm 1x1");
  cache.save();
  const std::string text = read_all(path);
  CHECK(text.rfind("# resnetrs tuning cache v1\n", 0) == 0);
  CHECK(text.find("cpu1|machine|layer a\tonednn direct (brgconv:avx512_core)\n") != std::string::npos);
  CHECK(text.find("cpu1|machine|layer c\tgemm 1x1\n") != std::string::npos);
  CHECK(text.find("v1|H100|n8|64x40x40->64\tfused ALGO_1 FMA 0.1\n") != std::string::npos);
  CHECK(text.find("garbage") == std::string::npos);
  for (const auto& entry : fs::directory_iterator(path.parent_path())) {
    CHECK(entry.path().filename().string().find("choices.cache.tmp") == std::string::npos);
  }
  ChoiceCacheFile again(path.string(), "cpu1|", [](const std::string& v) { return !v.empty(); });
  again.load();
  CHECK(again.size() == 2);

  ChoiceCacheFile disabled("", "cpu1|", [](const std::string&) { return true; });
  disabled.load();
  disabled.put("cpu1|x", "y");
  disabled.save();  // nothing to write to, nothing thrown
  CHECK_FALSE(disabled.enabled());
}
