#include "http/ndjson_lines.h"

#include <cstring>

namespace nat::http {

void NdjsonLines::throw_too_long() const {
  throw std::length_error("a training stream line exceeded " + std::to_string(max_line_) + " bytes");
}

void NdjsonLines::feed(std::string_view bytes, const std::function<void(std::string_view)> &on_line) {
  size_t start = 0;
  while (start < bytes.size()) {
    const void *nl = std::memchr(bytes.data() + start, '\n', bytes.size() - start);
    if (!nl) break;
    size_t end = static_cast<size_t>(static_cast<const char *>(nl) - bytes.data());
    std::string_view piece = bytes.substr(start, end - start);
    // The limit holds for every line, whether it arrived in one chunk or in
    // several: whether a line is refused must not depend on how it was split.
    if (pending_.size() + piece.size() > max_line_) throw_too_long();
    if (pending_.empty()) {
      if (!piece.empty() && piece != "\r") on_line(piece);
    } else {
      pending_.append(piece.data(), piece.size());
      std::string line = std::move(pending_);
      pending_.clear();
      if (!line.empty() && line != "\r") on_line(line);
    }
    start = end + 1;
  }
  if (pending_.size() + (bytes.size() - start) > max_line_) throw_too_long();
  pending_.append(bytes.data() + start, bytes.size() - start);
}

void NdjsonLines::finish(const std::function<void(std::string_view)> &on_line) {
  if (pending_.empty()) return;
  std::string line = std::move(pending_);
  pending_.clear();
  if (line != "\r") on_line(line);
}

}  // namespace nat::http
