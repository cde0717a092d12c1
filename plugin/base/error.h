// The one exception type the adapter's C++ code throws. The C boundary turns
// it into a nat_trainer_adapter_error with the same code and message.
//
// Messages are always printable: the constructor makes them valid UTF-8
// without NUL bytes (printable_text), whatever bytes they quote (a server's
// reply, a path, a user's key name), so the C boundary can hand them out as
// NUL-terminated UTF-8 as the header promises.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "nat/trainer_adapter.h"

namespace nat {

// The public header's nat_trainer_adapter_code, in C++.
enum class ErrorCode : int32_t {
  Ok = NAT_TRAINER_ADAPTER_OK,
  InvalidArgument = NAT_TRAINER_ADAPTER_INVALID_ARGUMENT,
  NotFound = NAT_TRAINER_ADAPTER_NOT_FOUND,
  AlreadyExists = NAT_TRAINER_ADAPTER_ALREADY_EXISTS,
  FailedPrecondition = NAT_TRAINER_ADAPTER_FAILED_PRECONDITION,
  Unavailable = NAT_TRAINER_ADAPTER_UNAVAILABLE,
  DeadlineExceeded = NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED,
  Cancelled = NAT_TRAINER_ADAPTER_CANCELLED,
  Internal = NAT_TRAINER_ADAPTER_INTERNAL,
};

namespace text {

// Length of the valid UTF-8 sequence starting at s[i] (1 for ASCII other
// than NUL), or 0 when the bytes there are not valid UTF-8 or are a NUL.
inline size_t utf8_char_length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  const auto *bytes = reinterpret_cast<const unsigned char *>(s.data());
  return utf8::sequence_length(bytes + i, bytes + s.size());
}

inline bool is_printable(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_char_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `s` as valid UTF-8 without NUL bytes: every byte that is not part of a
// valid UTF-8 sequence, and every NUL, is written as the four characters
// \xNN. Valid text comes back unchanged.
inline std::string printable_text(std::string_view s) {
  if (is_printable(s)) return std::string(s);
  static const char *hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_char_length(s, i);
    if (n == 0) {
      const auto c = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

// The longest prefix of valid UTF-8 text `s` of at most max_bytes bytes that
// ends on a character boundary.
inline size_t utf8_cut_point(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s.size();
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace text

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string &message)
      : std::runtime_error(text::printable_text(message)), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

[[noreturn]] inline void throw_invalid(const std::string &message) {
  throw Error(ErrorCode::InvalidArgument, message);
}

}  // namespace nat
