#include "json/scanner.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace nat::json {

namespace {

// Bytes that end the fast path of a string scan: the quote, the backslash,
// control characters and every non-ASCII byte (which needs UTF-8 checks).
struct StringStopTable {
  bool stop[256];
  constexpr StringStopTable() : stop() {
    for (int c = 0; c < 256; ++c) stop[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  }
};
constexpr StringStopTable kStringStop;

inline bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of a valid UTF-8 sequence at p (first byte >= 0x80), or 0.
size_t utf8_sequence(const unsigned char *p, const unsigned char *end) {
  unsigned char c = p[0];
  size_t avail = static_cast<size_t>(end - p);
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

void append_utf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string describe_byte(unsigned char c) {
  static const char *hex = "0123456789abcdef";
  if (c >= 0x20 && c < 0x7f) return std::string("character '") + static_cast<char>(c) + "'";
  return std::string("byte 0x") + hex[c >> 4] + hex[c & 0xF];
}

uint32_t read_hex4(const char *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 4) | static_cast<uint32_t>(hex_value(p[i]));
  return v;
}

}  // namespace

const char *kind_name(Kind kind) {
  switch (kind) {
    case Kind::Object: return "object";
    case Kind::Array: return "array";
    case Kind::String: return "string";
    case Kind::Number: return "number";
    case Kind::True:
    case Kind::False: return "boolean";
    case Kind::Null: return "null";
  }
  return "value";
}

SyntaxError::SyntaxError(const std::string &what, size_t offset) : std::runtime_error(what), offset_(offset) {}

Scanner::Scanner(std::string_view text, int max_depth)
    : begin_(text.data()),
      p_(text.data()),
      end_(text.data() + text.size()),
      max_depth_(max_depth > kMaxTrackedDepth - 1 ? kMaxTrackedDepth - 1 : max_depth) {}

void Scanner::fail(const std::string &what) const { fail_at(what, p_); }

void Scanner::fail_at(const std::string &what, const char *where) const {
  size_t off = static_cast<size_t>(where - begin_);
  throw SyntaxError("invalid JSON at byte " + std::to_string(off) + ": " + what, off);
}

void Scanner::skip_ws() {
  while (p_ < end_ && is_ws(*p_)) ++p_;
}

Kind Scanner::peek() {
  skip_ws();
  if (p_ >= end_) fail("unexpected end of input, expected a value");
  switch (*p_) {
    case '{': return Kind::Object;
    case '[': return Kind::Array;
    case '"': return Kind::String;
    case 't': return Kind::True;
    case 'f': return Kind::False;
    case 'n': return Kind::Null;
    default:
      if (*p_ == '-' || is_digit(*p_)) return Kind::Number;
      fail("unexpected " + describe_byte(static_cast<unsigned char>(*p_)) + ", expected a value");
  }
}

void Scanner::enter() {
  if (depth_ >= max_depth_) fail("nesting deeper than " + std::to_string(max_depth_) + " levels");
  ++depth_;
  first_bits_[depth_ / 64] |= (uint64_t{1} << (depth_ % 64));
}

void Scanner::begin_object() {
  skip_ws();
  if (p_ >= end_ || *p_ != '{') fail("expected an object");
  ++p_;
  enter();
}

bool Scanner::next_key(std::string_view &raw_key) {
  skip_ws();
  if (p_ >= end_) fail("unexpected end of input inside an object");
  uint64_t bit = uint64_t{1} << (depth_ % 64);
  bool first = (first_bits_[depth_ / 64] & bit) != 0;
  if (*p_ == '}') {
    ++p_;
    leave();
    return false;
  }
  if (!first) {
    if (*p_ != ',') fail("expected ',' or '}' in an object");
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == '}') fail("trailing comma in an object");
  }
  first_bits_[depth_ / 64] &= ~bit;
  if (p_ >= end_ || *p_ != '"') fail("expected a string key in an object");
  raw_key = string_raw();
  skip_ws();
  if (p_ >= end_ || *p_ != ':') fail("expected ':' after an object key");
  ++p_;
  return true;
}

void Scanner::begin_array() {
  skip_ws();
  if (p_ >= end_ || *p_ != '[') fail("expected an array");
  ++p_;
  enter();
}

bool Scanner::next_element() {
  skip_ws();
  if (p_ >= end_) fail("unexpected end of input inside an array");
  uint64_t bit = uint64_t{1} << (depth_ % 64);
  bool first = (first_bits_[depth_ / 64] & bit) != 0;
  if (*p_ == ']') {
    ++p_;
    leave();
    return false;
  }
  if (!first) {
    if (*p_ != ',') fail("expected ',' or ']' in an array");
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == ']') fail("trailing comma in an array");
  }
  first_bits_[depth_ / 64] &= ~bit;
  return true;
}

void Scanner::scan_string_body(bool *had_escapes) {
  // p_ is just after the opening quote.
  bool escapes = false;
  const auto *u = reinterpret_cast<const unsigned char *>(p_);
  const auto *uend = reinterpret_cast<const unsigned char *>(end_);
  for (;;) {
    while (u < uend && !kStringStop.stop[*u]) ++u;
    if (u >= uend) {
      p_ = reinterpret_cast<const char *>(u);
      fail("unterminated string");
    }
    unsigned char c = *u;
    if (c == '"') break;
    if (c == '\\') {
      escapes = true;
      if (u + 1 >= uend) {
        p_ = reinterpret_cast<const char *>(u);
        fail("unterminated string");
      }
      unsigned char e = u[1];
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        u += 2;
        continue;
      }
      if (e != 'u') fail_at("invalid escape '\\" + std::string(1, static_cast<char>(e)) + "' in a string",
                            reinterpret_cast<const char *>(u));
      const char *h = reinterpret_cast<const char *>(u + 2);
      if (uend - (u + 2) < 4 || hex_value(h[0]) < 0 || hex_value(h[1]) < 0 || hex_value(h[2]) < 0 ||
          hex_value(h[3]) < 0)
        fail_at("invalid \\u escape in a string", reinterpret_cast<const char *>(u));
      uint32_t cp = read_hex4(h);
      u += 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        const char *l = reinterpret_cast<const char *>(u);
        if (uend - u < 6 || l[0] != '\\' || l[1] != 'u' || hex_value(l[2]) < 0 || hex_value(l[3]) < 0 ||
            hex_value(l[4]) < 0 || hex_value(l[5]) < 0)
          fail_at("unpaired UTF-16 surrogate escape in a string", reinterpret_cast<const char *>(u - 6));
        uint32_t lo = read_hex4(l + 2);
        if (lo < 0xDC00 || lo > 0xDFFF)
          fail_at("unpaired UTF-16 surrogate escape in a string", reinterpret_cast<const char *>(u - 6));
        u += 6;
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail_at("unpaired UTF-16 surrogate escape in a string", reinterpret_cast<const char *>(u - 6));
      }
      continue;
    }
    if (c < 0x20) fail_at("unescaped control character in a string", reinterpret_cast<const char *>(u));
    size_t n = utf8_sequence(u, uend);
    if (n == 0) fail_at("invalid UTF-8 in a string", reinterpret_cast<const char *>(u));
    u += n;
  }
  p_ = reinterpret_cast<const char *>(u) + 1;  // past the closing quote
  if (had_escapes) *had_escapes = escapes;
}

std::string_view Scanner::string_raw(bool *had_escapes) {
  skip_ws();
  if (p_ >= end_ || *p_ != '"') fail("expected a string");
  const char *start = ++p_;
  scan_string_body(had_escapes);
  return std::string_view(start, static_cast<size_t>(p_ - 1 - start));
}

std::string Scanner::string_value() { return decode(string_raw()); }

std::string Scanner::decode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        uint32_t cp = read_hex4(raw.data() + i + 1);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo = read_hex4(raw.data() + i + 3);
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e); break;
    }
  }
  return out;
}

std::string_view Scanner::number_raw() {
  skip_ws();
  const char *start = p_;
  if (p_ < end_ && *p_ == '-') ++p_;
  if (p_ >= end_ || !is_digit(*p_)) fail("invalid number");
  if (*p_ == '0') {
    ++p_;
  } else {
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ >= end_ || !is_digit(*p_)) fail("invalid number: digits expected after '.'");
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ >= end_ || !is_digit(*p_)) fail("invalid number: digits expected in the exponent");
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  return std::string_view(start, static_cast<size_t>(p_ - start));
}

void Scanner::expect_literal(const char *word, size_t len) {
  if (static_cast<size_t>(end_ - p_) < len || std::memcmp(p_, word, len) != 0)
    fail(std::string("invalid literal, expected '") + word + "'");
  p_ += len;
}

bool Scanner::boolean() {
  Kind k = peek();
  if (k == Kind::True) {
    expect_literal("true", 4);
    return true;
  }
  if (k == Kind::False) {
    expect_literal("false", 5);
    return false;
  }
  fail("expected a boolean");
}

void Scanner::null() {
  if (peek() != Kind::Null) fail("expected null");
  expect_literal("null", 4);
}

std::string_view Scanner::skip_value() {
  Kind k = peek();
  const char *start = p_;
  switch (k) {
    case Kind::String: string_raw(); break;
    case Kind::Number: number_raw(); break;
    case Kind::True: expect_literal("true", 4); break;
    case Kind::False: expect_literal("false", 5); break;
    case Kind::Null: expect_literal("null", 4); break;
    case Kind::Object:
    case Kind::Array: {
      // Iterative skip with the same validation as the structured calls.
      int base = depth_;
      if (k == Kind::Object) begin_object(); else begin_array();
      // Container kinds per depth above base: tracked through a small bit set.
      uint64_t is_object_bits[kMaxTrackedDepth / 64] = {};
      auto set_kind = [&](bool obj) {
        uint64_t b = uint64_t{1} << (depth_ % 64);
        if (obj) is_object_bits[depth_ / 64] |= b; else is_object_bits[depth_ / 64] &= ~b;
      };
      set_kind(k == Kind::Object);
      while (depth_ > base) {
        bool in_object = (is_object_bits[depth_ / 64] >> (depth_ % 64)) & 1;
        bool more;
        if (in_object) {
          std::string_view key;
          more = next_key(key);
        } else {
          more = next_element();
        }
        if (!more) continue;
        Kind v = peek();
        if (v == Kind::Object) {
          begin_object();
          set_kind(true);
        } else if (v == Kind::Array) {
          begin_array();
          set_kind(false);
        } else if (v == Kind::String) {
          string_raw();
        } else if (v == Kind::Number) {
          number_raw();
        } else if (v == Kind::True) {
          expect_literal("true", 4);
        } else if (v == Kind::False) {
          expect_literal("false", 5);
        } else {
          expect_literal("null", 4);
        }
      }
      break;
    }
  }
  return std::string_view(start, static_cast<size_t>(p_ - start));
}

void Scanner::expect_end() {
  skip_ws();
  if (p_ != end_) fail("unexpected data after the JSON value");
}

double parse_double(std::string_view s) {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    // from_chars leaves v unchanged on overflow; classify by the text.
    bool neg = !s.empty() && s[0] == '-';
    // An exponent that underflows gives 0; one that overflows gives infinity.
    size_t e = s.find_first_of("eE");
    bool big = e == std::string_view::npos || s[e + 1] != '-';
    if (big) return neg ? -HUGE_VAL : HUGE_VAL;
    return neg ? -0.0 : 0.0;
  }
  return v;
}

void append_quoted(std::string &out, std::string_view s) {
  static const char *hex = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace nat::json
