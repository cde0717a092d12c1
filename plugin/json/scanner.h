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
#include <stdexcept>
#include <string>
#include <string_view>

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
  // consumed the closing '}', otherwise it stores the key (raw, without
  // quotes, escapes not decoded) and consumes the ':'.
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

  // Skips the next value, validating it; returns its exact text.
  std::string_view skip_value();

  // Requires that only whitespace remains.
  void expect_end();

  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  const char *position() const { return p_; }
  std::string_view text() const { return std::string_view(begin_, static_cast<size_t>(end_ - begin_)); }

  [[noreturn]] void fail(const std::string &what) const;
  [[noreturn]] void fail_at(const std::string &what, const char *where) const;

  // Decodes the raw content of a string (as returned by string_raw).
  static std::string decode(std::string_view raw);
  // Whether a raw (possibly escaped) key equals a plain name.
  static bool key_equals(std::string_view raw_key, std::string_view name) {
    if (raw_key.find('\\') == std::string_view::npos) return raw_key == name;
    return decode(raw_key) == name;
  }

 private:
  void skip_ws();
  void enter();
  void leave() { --depth_; }
  void scan_string_body(bool *had_escapes);
  void expect_literal(const char *word, size_t len);

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

// Appends `s` as a JSON string literal (with quotes) to `out`.
void append_quoted(std::string &out, std::string_view s);

}  // namespace nat::json
