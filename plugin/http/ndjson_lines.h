// Splits the bytes of an NDJSON stream, as they arrive in arbitrary pieces,
// into lines. Empty lines are skipped (as ART's own client does); a line
// longer than the limit is an error rather than unbounded memory.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nat::http {

class NdjsonLines {
 public:
  explicit NdjsonLines(size_t max_line_bytes) : max_line_(max_line_bytes) {}

  // Calls on_line for every complete line in `bytes`. Throws
  // std::length_error when a line (without its '\n', with a '\r' before it)
  // is longer than the limit, whether it came in one piece or in several;
  // lines before it have been delivered.
  void feed(std::string_view bytes, const std::function<void(std::string_view)> &on_line);
  // Delivers a last line that had no newline; call once at a clean end.
  void finish(const std::function<void(std::string_view)> &on_line);
  size_t pending_bytes() const { return pending_.size(); }

 private:
  [[noreturn]] void throw_too_long() const;

  size_t max_line_;
  std::string pending_;
};

}  // namespace nat::http
