// The lexical layer of the plugin's one JSON scanner: whitespace, the stops
// of a string scan, numbers, and matchers for the shapes JSON serializers
// usually write. json::Scanner (json/scanner.h) is built on it; so are the
// collection's fast paths (nat/usual_token_form.cpp), the minifier of copied
// logprobs (convert/) and the reader of Python's non-JSON NaN in the training
// stream (art/replies.cpp). UTF-8 well-formedness is base/utf8.h's.
//
// The matchers:
// Each function takes the position of what it should match and returns the
// position just past it, or nullptr when the bytes are not in the simple form
// it knows. nullptr is not an error verdict: the caller then hands the same
// bytes to Scanner, which accepts every valid JSON text and words the error
// for an invalid one. Whatever a matcher accepts, Scanner accepts too (the
// matchers recognise a subset of the grammar), so a caller that skips a value
// with them may treat it as validated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace nat::json::fast {

inline bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline const char *ws(const char *p, const char *end) {
  while (p < end && static_cast<unsigned char>(*p) <= ' ' && is_ws(*p)) ++p;
  return p;
}

// The literal `lit` (N - 1 bytes, a string literal) at p.
template <size_t N>
inline const char *literal(const char *p, const char *end, const char (&lit)[N]) {
  constexpr size_t n = N - 1;
  if (static_cast<size_t>(end - p) < n || std::memcmp(p, lit, n) != 0) return nullptr;
  return p + n;
}

// Whitespace after a separator: usually one space or none, so those are
// checked before the general loop.
inline const char *ws_after_separator(const char *p, const char *end) {
  if (p < end && *p == ' ') ++p;
  if (p < end && static_cast<unsigned char>(*p) <= ' ') p = ws(p, end);
  return p;
}

// `c`, after optional whitespace, then optional whitespace.
inline const char *punct(const char *p, const char *end, char c) {
  if (p >= end || *p != c) {
    p = ws(p, end);
    if (p >= end || *p != c) return nullptr;
  }
  return ws_after_separator(p + 1, end);
}

// An object key written without escapes and with the colon right after it:
// `lit` is the quoted key and the colon, e.g. "\"token\":". Whitespace
// between key and colon is legal JSON, just not the usual form.
template <size_t N>
inline const char *key(const char *p, const char *end, const char (&lit)[N]) {
  p = literal(p, end, lit);
  return p ? ws_after_separator(p, end) : nullptr;
}

// The first byte at or after p that a string scan must look at: '"', '\\',
// a control character or a non-ASCII byte; `end` when there is none.
inline const unsigned char *string_stop(const unsigned char *p, const unsigned char *end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  // Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too.
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                               _mm_cmplt_epi8(v, space));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (p < end && !(*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x80)) ++p;
  return p;
}

// Past the closing quote of the string whose opening quote is at p, stepping
// over escapes; nullptr when it is not terminated. Validates nothing else
// (the Scanner does): for text already validated, or not JSON at all.
inline const char *string_end(const char *p, const char *end) {
  auto u = reinterpret_cast<const unsigned char *>(p + 1);
  const auto uend = reinterpret_cast<const unsigned char *>(end);
  for (;;) {
    u = string_stop(u, uend);
    if (u >= uend) return nullptr;
    if (*u == '"') return reinterpret_cast<const char *>(u + 1);
    if (*u != '\\') {
      ++u;  // a control or non-ASCII byte
    } else if (uend - u < 2) {
      return nullptr;
    } else {
      u += 2;  // an escape
    }
  }
}

// A string of printable ASCII without escapes; p is at the opening quote.
inline const char *plain_string(const char *p, const char *end) {
  if (p >= end || *p != '"') return nullptr;
  auto u = reinterpret_cast<const unsigned char *>(p + 1);
  u = string_stop(u, reinterpret_cast<const unsigned char *>(end));
  if (u >= reinterpret_cast<const unsigned char *>(end) || *u != '"') return nullptr;
  return reinterpret_cast<const char *>(u + 1);
}

inline const char *digits(const char *p, const char *end) {
#if defined(__SSE2__)
  // Number texts run long (a float's shortest repr has up to 17 digits).
  const __m128i zero = _mm_set1_epi8('0');
  const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i nine = _mm_set1_epi8(static_cast<char>(0x89));  // 9 + bias
  while (end - p >= 16) {
    __m128i d =
        _mm_xor_si128(_mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)), zero), bias);
    // d - '0' > 9 as unsigned bytes, compared signed after the bias.
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpgt_epi8(d, nine)));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (p < end && static_cast<unsigned char>(*p - '0') < 10) ++p;
  return p;
}

// A short run of digits (list elements such as byte values).
inline const char *short_digits(const char *p, const char *end) {
  while (p < end && static_cast<unsigned char>(*p - '0') < 10) ++p;
  return p;
}

// A JSON number (the whole RFC 8259 grammar).
inline const char *number(const char *p, const char *end) {
  if (p < end && *p == '-') ++p;
  if (p >= end || static_cast<unsigned char>(*p - '0') >= 10) return nullptr;
  p = *p == '0' ? p + 1 : digits(p, end);
  if (p < end && *p == '.') {
    ++p;
    if (p >= end || static_cast<unsigned char>(*p - '0') >= 10) return nullptr;
    p = digits(p, end);
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p >= end || static_cast<unsigned char>(*p - '0') >= 10) return nullptr;
    p = digits(p, end);
  }
  return p;
}

#if defined(__SSE2__)
// Masks of the digits, commas, spaces and zeros among the 16 bytes at p.
struct ListMasks {
  uint32_t digit, comma, space, zero;
};
inline ListMasks list_masks16(const char *p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  const __m128i d =
      _mm_xor_si128(_mm_sub_epi8(v, _mm_set1_epi8('0')), _mm_set1_epi8(static_cast<char>(0x80)));
  auto bits = [](__m128i m) { return static_cast<uint32_t>(_mm_movemask_epi8(m)); };
  return {~bits(_mm_cmpgt_epi8(d, _mm_set1_epi8(static_cast<char>(0x89)))) & 0xFFFFu,
          bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(','))), bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(' '))),
          bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('0')))};
}

// The elements and closing bracket of a short integer list, "1, 22, 3]", in
// the 64 bytes at p (which must be readable), judged with bit masks of digits,
// commas and spaces: each comma follows a digit and precedes a digit or one
// space, each space follows a comma and precedes a digit, no number has a
// leading zero. nullptr for anything else (longer lists included).
inline const char *short_int_list_tail(const char *p) {
  uint64_t digit = 0, comma = 0, space = 0, zero = 0;
  uint64_t other = 0;
  // Token byte lists are short: look at 32 bytes first, all 64 only if needed.
  for (int i = 0; i < 4 && other == 0; i += 2) {
    ListMasks lo = list_masks16(p + 16 * i), hi = list_masks16(p + 16 * i + 16);
    const int shift = 16 * i;
    digit |= static_cast<uint64_t>(lo.digit | hi.digit << 16) << shift;
    comma |= static_cast<uint64_t>(lo.comma | hi.comma << 16) << shift;
    space |= static_cast<uint64_t>(lo.space | hi.space << 16) << shift;
    zero |= static_cast<uint64_t>(lo.zero | hi.zero << 16) << shift;
    other = ~(digit | comma | space) & (shift == 0 ? 0xFFFFFFFFu : ~uint64_t{0});
  }
  if (other == 0) return nullptr;
  int stop = __builtin_ctzll(other);
  if (stop == 0 || p[stop] != ']') return nullptr;
  uint64_t in = (uint64_t{1} << stop) - 1;
  digit &= in;
  comma &= in;
  space &= in;
  zero &= in;
  uint64_t last = uint64_t{1} << (stop - 1);
  if (!(digit & 1) || !(digit & last)) return nullptr;
  if (comma & ~(digit << 1)) return nullptr;
  if (comma & ~((digit | space) >> 1)) return nullptr;
  if (space & ~(comma << 1)) return nullptr;
  if (space & ~(digit >> 1)) return nullptr;
  uint64_t number_start = digit & ~(digit << 1);
  if (zero & number_start & (digit >> 1)) return nullptr;
  return p + stop + 1;
}
#endif

// An array of non-negative integers without fraction or exponent: "[1, 22, 3]".
inline const char *plain_int_array(const char *p, const char *end) {
  if (p >= end || *p != '[') return nullptr;
  p = ws_after_separator(p + 1, end);
  if (p < end && *p == ']') return p + 1;
#if defined(__SSE2__)
  if (end - p >= 64) {
    if (const char *past = short_int_list_tail(p)) return past;
  }
#endif
  for (;;) {
    if (p >= end || static_cast<unsigned char>(*p - '0') >= 10) return nullptr;
    p = *p == '0' ? p + 1 : short_digits(p, end);
    if (p < end && *p == ',') {
      p = ws_after_separator(p + 1, end);
      continue;
    }
    if (p < end && *p == ']') return p + 1;
    p = ws(p, end);
    if (p >= end) return nullptr;
    if (*p == ']') return p + 1;
    if (*p != ',') return nullptr;
    p = ws_after_separator(p + 1, end);
  }
}

}  // namespace nat::json::fast
