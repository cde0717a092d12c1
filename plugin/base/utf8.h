// UTF-8 well-formedness (RFC 3629): the one check shared by the JSON scanner
// (json/scanner.h, on the hot path) and the printable messages of errors
// (base/error.h).
#pragma once

#include <cstddef>

namespace nat::utf8 {

// Length (2 to 4) of the well-formed UTF-8 sequence whose lead byte (>= 0x80)
// is at p, or 0 when the bytes from p to end are not one: a stray
// continuation byte, an overlong form, a UTF-16 surrogate, a code point beyond
// U+10FFFF, or a sequence cut by end.
inline size_t sequence_length(const unsigned char *p, const unsigned char *end) {
  const unsigned char c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  if (c >= 0xC2 && c <= 0xDF) {
    if (avail < 2 || (p[1] & 0xC0) != 0x80) return 0;
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace nat::utf8
