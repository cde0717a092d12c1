#include "json/scanner.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace nat::json {

namespace {

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

}  // namespace

const char *kind_name(Kind kind) {
  switch (kind) {
    case Kind::Object:
      return "object";
    case Kind::Array:
      return "array";
    case Kind::String:
      return "string";
    case Kind::Number:
      return "number";
    case Kind::True:
    case Kind::False:
      return "boolean";
    case Kind::Null:
      return "null";
  }
  return "value";
}

SyntaxError::SyntaxError(const std::string &what, size_t offset)
    : std::runtime_error(what), offset_(offset) {}

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
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        uint32_t cp = detail::read_hex4(raw.data() + i + 1);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo = detail::read_hex4(raw.data() + i + 3);
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default:
        out.push_back(e);
        break;
    }
  }
  return out;
}

void Scanner::fail_number() {
  const char *p = p_;
  if (p < end_ && *p == '-') ++p;
  if (p >= end_ || !detail::is_digit(*p)) {
    p_ = p;
    fail("invalid number");
  }
  p = *p == '0' ? p + 1 : fast::digits(p, end_);
  if (p < end_ && *p == '.') {
    ++p;
    if (p >= end_ || !detail::is_digit(*p)) {
      p_ = p;
      fail("invalid number: digits expected after '.'");
    }
    p = fast::digits(p, end_);
  }
  // What fast::number refused is the exponent.
  if (p < end_ && (*p == 'e' || *p == 'E')) ++p;
  if (p < end_ && (*p == '+' || *p == '-')) ++p;
  p_ = p;
  fail("invalid number: digits expected in the exponent");
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
    case Kind::String:
      string_raw();
      break;
    case Kind::Number:
      number_raw();
      break;
    case Kind::True:
      expect_literal("true", 4);
      break;
    case Kind::False:
      expect_literal("false", 5);
      break;
    case Kind::Null:
      expect_literal("null", 4);
      break;
    case Kind::Object:
    case Kind::Array: {
      // Iterative skip with the same validation as the structured calls.
      int base = depth_;
      if (k == Kind::Object)
        begin_object();
      else
        begin_array();
      // Container kinds per depth above base: tracked through a small bit set.
      uint64_t is_object_bits[kMaxTrackedDepth / 64] = {};
      auto set_kind = [&](bool obj) {
        uint64_t b = uint64_t{1} << (depth_ % 64);
        if (obj)
          is_object_bits[depth_ / 64] |= b;
        else
          is_object_bits[depth_ / 64] &= ~b;
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

}  // namespace nat::json
