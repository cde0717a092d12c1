// A validating pull scanner over JSON text held in memory.
//
// The collection path never builds a document object of the whole input: it
// walks the bytes once with this scanner and copies spans of the input
// straight to the output. The scanner validates as it goes (RFC 8259 grammar,
// UTF-8, escapes, nesting depth), so a span it returns is known to be valid
// JSON and can be passed through unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "json/fast_scan.h"

namespace nat::json {

enum class Kind { Object, Array, String, Number, True, False, Null };

const char *kind_name(Kind kind);

// Malformed JSON. `offset` is the byte offset in the input.
class SyntaxError : public std::runtime_error {
 public:
  SyntaxError(const std::string &what, size_t offset);
  size_t offset() const { return offset_; }

 private:
  size_t offset_;
};

class Scanner {
 public:
  static constexpr int kDefaultMaxDepth = 128;

  explicit Scanner(std::string_view text, int max_depth = kDefaultMaxDepth);

  // Kind of the next value; skips whitespace. Throws at end of input or on a
  // byte that cannot start a value.
  Kind peek();

  // Objects: begin_object() consumes '{'. next_key() returns false when it
  // consumed the closing '}', otherwise it stores the key (decoded, valid
  // until the next call) and consumes the ':'.
  void begin_object();
  bool next_key(std::string_view &raw_key);

  // Arrays: begin_array() consumes '['. next_element() returns false when it
  // consumed the closing ']'; otherwise a value follows.
  void begin_array();
  bool next_element();

  // A string value: the raw content between the quotes (escapes validated,
  // not decoded). `had_escapes` tells whether decoding would change it.
  std::string_view string_raw(bool *had_escapes = nullptr);
  // A string value, decoded.
  std::string string_value();
  // A number value: its raw text, grammar-checked.
  std::string_view number_raw();
  // true/false/null.
  bool boolean();
  void null();

  // Consumes an array of plain non-negative integers ("[1, 22, 3]") and
  // returns true; returns false, consuming nothing, for any other array.
  bool skip_plain_int_array();

  // Skips the next value, validating it; returns its exact text.
  std::string_view skip_value();

  // Requires that only whitespace remains.
  void expect_end();

  // Moves past a value at the current position that the caller matched with
  // json::fast (whose matchers accept a subset of what the scanner accepts),
  // nesting at most `levels` deep. Returns false, moving nothing, when that
  // nesting would exceed the depth limit: then the caller scans the value
  // with the scanner, which reports the limit.
  bool skip_matched(const char *past, int levels) {
    if (depth_ + levels > max_depth_) return false;
    p_ = past;
    return true;
  }
  // The current position after whitespace.
  const char *value_start() {
    skip_ws();
    return p_;
  }
  const char *end() const { return end_; }

  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  const char *position() const { return p_; }
  std::string_view text() const { return std::string_view(begin_, static_cast<size_t>(end_ - begin_)); }

  [[noreturn]] void fail(const std::string &what) const;
  [[noreturn]] void fail_at(const std::string &what, const char *where) const;

  // Decodes the raw content of a string (as returned by string_raw).
  static std::string decode(std::string_view raw);
  // Whether a key from next_key() equals a name (keys come decoded).
  static bool key_equals(std::string_view key, std::string_view name) { return key == name; }

 private:
  void skip_ws();
  void enter();
  void leave() { --depth_; }
  void scan_string_body(bool *had_escapes);
  void expect_literal(const char *word, size_t len);
  // Says which part of the number at the current position is missing.
  [[noreturn]] void fail_number();

  std::string key_buf_;  // the decoded key, when it had escapes
  const char *begin_;
  const char *p_;
  const char *end_;
  int depth_ = 0;
  int max_depth_;
  // Per container level: whether the next element/key is the first one.
  // Stored as a bit stack to keep the scanner allocation-free.
  static constexpr int kMaxTrackedDepth = 1024;
  uint64_t first_bits_[kMaxTrackedDepth / 64] = {};
};

// Parses a JSON number text as a double (the text was validated already).
double parse_double(std::string_view number_text);

namespace detail {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline std::string describe_byte(unsigned char c) {
  static const char *hex = "0123456789abcdef";
  if (c >= 0x20 && c < 0x7f) return std::string("character '") + static_cast<char>(c) + "'";
  return std::string("byte 0x") + hex[c >> 4] + hex[c & 0xF];
}

inline uint32_t read_hex4(const char *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 4) | static_cast<uint32_t>(hex_value(p[i]));
  return v;
}

}  // namespace detail

inline void Scanner::skip_ws() { p_ = fast::ws(p_, end_); }

inline Kind Scanner::peek() {
  skip_ws();
  if (p_ >= end_) fail("unexpected end of input, expected a value");
  switch (*p_) {
    case '{':
      return Kind::Object;
    case '[':
      return Kind::Array;
    case '"':
      return Kind::String;
    case 't':
      return Kind::True;
    case 'f':
      return Kind::False;
    case 'n':
      return Kind::Null;
    default:
      if (*p_ == '-' || detail::is_digit(*p_)) return Kind::Number;
      fail("unexpected " + detail::describe_byte(static_cast<unsigned char>(*p_)) + ", expected a value");
  }
}

inline void Scanner::enter() {
  if (depth_ >= max_depth_) fail("nesting deeper than " + std::to_string(max_depth_) + " levels");
  ++depth_;
  first_bits_[depth_ / 64] |= (uint64_t{1} << (depth_ % 64));
}

inline void Scanner::begin_object() {
  skip_ws();
  if (p_ >= end_ || *p_ != '{') fail("expected an object");
  ++p_;
  enter();
}

inline bool Scanner::next_key(std::string_view &raw_key) {
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
  bool escaped = false;
  raw_key = string_raw(&escaped);
  if (escaped) {
    key_buf_ = decode(raw_key);
    raw_key = key_buf_;
  }
  skip_ws();
  if (p_ >= end_ || *p_ != ':') fail("expected ':' after an object key");
  ++p_;
  return true;
}

inline void Scanner::begin_array() {
  skip_ws();
  if (p_ >= end_ || *p_ != '[') fail("expected an array");
  ++p_;
  enter();
}

inline bool Scanner::next_element() {
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

inline void Scanner::scan_string_body(bool *had_escapes) {
  // p_ is just after the opening quote.
  bool escapes = false;
  const auto *u = reinterpret_cast<const unsigned char *>(p_);
  const auto *uend = reinterpret_cast<const unsigned char *>(end_);
  for (;;) {
    u = fast::string_stop(u, uend);
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
      if (e != 'u')
        fail_at("invalid escape '\\" + std::string(1, static_cast<char>(e)) + "' in a string",
                reinterpret_cast<const char *>(u));
      const char *h = reinterpret_cast<const char *>(u + 2);
      if (uend - (u + 2) < 4 || detail::hex_value(h[0]) < 0 || detail::hex_value(h[1]) < 0 ||
          detail::hex_value(h[2]) < 0 || detail::hex_value(h[3]) < 0)
        fail_at("invalid \\u escape in a string", reinterpret_cast<const char *>(u));
      uint32_t cp = detail::read_hex4(h);
      u += 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        const char *l = reinterpret_cast<const char *>(u);
        if (uend - u < 6 || l[0] != '\\' || l[1] != 'u' || detail::hex_value(l[2]) < 0 ||
            detail::hex_value(l[3]) < 0 || detail::hex_value(l[4]) < 0 || detail::hex_value(l[5]) < 0)
          fail_at("unpaired UTF-16 surrogate escape in a string", reinterpret_cast<const char *>(u - 6));
        uint32_t lo = detail::read_hex4(l + 2);
        if (lo < 0xDC00 || lo > 0xDFFF)
          fail_at("unpaired UTF-16 surrogate escape in a string", reinterpret_cast<const char *>(u - 6));
        u += 6;
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail_at("unpaired UTF-16 surrogate escape in a string", reinterpret_cast<const char *>(u - 6));
      }
      continue;
    }
    if (c < 0x20) fail_at("unescaped control character in a string", reinterpret_cast<const char *>(u));
    size_t n = utf8::sequence_length(u, uend);
    if (n == 0) fail_at("invalid UTF-8 in a string", reinterpret_cast<const char *>(u));
    u += n;
  }
  p_ = reinterpret_cast<const char *>(u) + 1;  // past the closing quote
  if (had_escapes) *had_escapes = escapes;
}

inline std::string_view Scanner::string_raw(bool *had_escapes) {
  skip_ws();
  if (p_ >= end_ || *p_ != '"') fail("expected a string");
  const char *start = ++p_;
  scan_string_body(had_escapes);
  return std::string_view(start, static_cast<size_t>(p_ - 1 - start));
}

inline std::string_view Scanner::number_raw() {
  skip_ws();
  const char *start = p_;
  const char *past = fast::number(start, end_);
  if (past == nullptr) fail_number();
  p_ = past;
  return std::string_view(start, static_cast<size_t>(past - start));
}

inline bool Scanner::skip_plain_int_array() {
  if (depth_ >= max_depth_) return false;  // begin_array() reports the limit
  skip_ws();
  const char *past = fast::plain_int_array(p_, end_);
  if (past == nullptr) return false;
  p_ = past;
  return true;
}

}  // namespace nat::json
