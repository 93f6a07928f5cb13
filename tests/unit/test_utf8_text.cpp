// valid_utf8 / quoted_file_text (common/utf8_text.h): every message that quotes bytes from a file
// is valid UTF-8, other bytes written as \xNN, and valid text passes unchanged.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/utf8_text.h"

using namespace resnetrs;

TEST_CASE("valid_utf8 keeps valid UTF-8 and escapes every other byte", "[utf8]") {
  // ASCII, 2-, 3- and 4-byte sequences (é, €, U+1D11E) pass unchanged.
  const std::vector<std::string> valid = {"", "weights file 'a.h5'", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e"};
  for (const std::string& s : valid) {
    CHECK(is_valid_utf8(s));
    CHECK(valid_utf8(s) == s);
  }
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"a\xff" "b", "a\\xFFb"},                   // never a UTF-8 byte
      {"\xc0\xaf", "\\xC0\\xAF"},                 // overlong '/'
      {"\xe0\x80\xaf", "\\xE0\\x80\\xAF"},         // overlong 3-byte form
      {"\xed\xa0\x80", "\\xED\\xA0\\x80"},         // a surrogate (U+D800)
      {"\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80"}, // above U+10FFFF
      {"x\xe2\x82", "x\\xE2\\x82"},               // cut short at the end
      {"\x80" "abc", "\\x80abc"},                 // a lone continuation byte
      {"\xc3\xa9\xc3", "\xc3\xa9\\xC3"},          // valid, then a cut sequence
  };
  for (const Case& c : cases) {
    INFO("input of " << c.in.size() << " bytes");
    size_t bad = 99;
    CHECK_FALSE(is_valid_utf8(c.in, &bad));
    CHECK(bad < c.in.size());
    CHECK(valid_utf8(c.in) == c.out);
    CHECK(is_valid_utf8(valid_utf8(c.in)));
    CHECK(valid_utf8(valid_utf8(c.in)) == valid_utf8(c.in));  // applying it twice changes nothing more
  }
}

TEST_CASE("quoted_file_text also escapes control characters and the backslash", "[utf8]") {
  CHECK(quoted_file_text("relu") == "relu");
  CHECK(quoted_file_text("a\nb\tc\x7f") == "a\\x0Ab\\x09c\\x7F");
  CHECK(quoted_file_text("back\\slash") == "back\\x5Cslash");
  CHECK(quoted_file_text("caf\xc3\xa9\xff") == "caf\xc3\xa9\\xFF");
  CHECK(is_valid_utf8(quoted_file_text(std::string("\0\xff\xfe", 3))));
}
