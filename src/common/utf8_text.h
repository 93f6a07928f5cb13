// Text that quotes bytes from outside the library (a weights file's strings and names, libhdf5's
// messages about it, paths) as valid UTF-8: every message the library hands out (the C API's last
// error, warnings, Python exceptions, Triton errors) must be decodable as UTF-8, whatever the file
// held (issue 22: a damaged file's bytes once made the Python binding raise a conversion error).
// Self-contained (no other project file) so that the Triton backend can compile it in too.
#pragma once

#include <string>

namespace resnetrs {

// `s` with every byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF) written as the four characters "\xNN" (NN:
// uppercase hex). Valid UTF-8 comes back unchanged, so applying it twice changes nothing more.
std::string valid_utf8(const std::string& s);

// For quoting a string read from a file inside a message: valid_utf8(), and also the control
// characters (U+0000..U+001F, U+007F) and the backslash escaped as "\xNN", so a quoted value
// never breaks a message's line or makes an escape ambiguous.
std::string quoted_file_text(const std::string& s);

// Whether `s` is well-formed UTF-8 (as valid_utf8 defines it); `bad_offset` gets the offset of the
// first byte that is not, when it is not.
bool is_valid_utf8(const std::string& s, size_t* bad_offset = nullptr);

}  // namespace resnetrs
